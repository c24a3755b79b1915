"""The simulated world: latency model, services, network, and ground-truth metrics."""

import asyncio
import inspect

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from harness.catalog import KataError
from harness.db import get_db
from harness.models import Organization
from harness.settings import Network, QueryLatency
from harness.world import clock
from harness.world.seed import Dataset, generate_rows, parse_scale
from harness.world.world import World

app = FastAPI()


@app.get("/queries/{n}")
async def run_queries(n: int, db: AsyncSession = Depends(get_db)):
    for _ in range(n):
        await db.execute(select(Organization).where(Organization.id == 1))
    return {"n": n}


@app.get("/calls/{mode}")
async def calls(mode: str):
    async with httpx.AsyncClient(timeout=2.0) as client:
        first = client.get("https://analytics.example.com/api/org/1/summary")
        second = client.get("https://api.weather.example.com/current", params={"city": "Oslo"})
        if mode == "gather":
            results = await asyncio.gather(first, second, return_exceptions=True)
        else:
            results = [await first, await second]
    return [r.status_code if isinstance(r, httpx.Response) else type(r).__name__ for r in results]


@app.get("/bytes/{n}")
async def payload(n: int):
    return {"data": "x" * n}


def measure(path, configure=None, **world_kwargs):
    async def main():
        async with World(**world_kwargs) as world:
            if configure:
                configure(world)
            async with world.serve(app) as client:
                return await client.get(path)

    return clock.run(main())


def test_every_statement_costs_the_modeled_round_trip():
    exchange = measure("/queries/7")
    assert exchange.metrics.summary()["queries"] == 7
    assert exchange.metrics.db_ms == 35.0
    lines, first = inspect.getsourcelines(run_queries)
    query_line = first + next(i for i, line in enumerate(lines) if "await db.execute" in line)
    assert exchange.metrics.repeated()[0]["call_site"].endswith(f"test_world.py:{query_line}")


def test_latency_is_configurable():
    exchange = measure("/queries/3", latency=QueryLatency(12.5))
    assert exchange.metrics.db_ms == 37.5


def test_latency_from_environment(monkeypatch):
    monkeypatch.setenv("KATA_QUERY_LATENCY_MS", "2")
    assert measure("/queries/4").metrics.db_ms == 8.0
    monkeypatch.setenv("KATA_QUERY_LATENCY_MS", "fast")
    with pytest.raises(KataError, match="KATA_QUERY_LATENCY_MS must be a number of ms, got 'fast'"):
        QueryLatency.from_env()


def test_sequential_calls_add_up_and_gathered_calls_overlap():
    assert measure("/calls/sequential").metrics.external_ms == 600.0
    gathered = measure("/calls/gather")
    assert gathered.metrics.external_ms == 320.0
    assert gathered.response.json() == [200, 200]
    assert gathered.metrics.clients_created == 1


def test_a_failing_service_answers_500():
    exchange = measure("/calls/gather", configure=lambda w: w.services.weather.fail())
    assert exchange.response.json() == [200, 500]


def test_a_hanging_service_ends_at_the_client_timeout():
    exchange = measure("/calls/gather", configure=lambda w: w.services.analytics.hang())
    assert exchange.response.json() == ["ReadTimeout", 200]
    assert exchange.metrics.external_ms == 2000.0  # the client's 2 s timeout
    assert [c.outcome for c in exchange.metrics.calls] == ["timeout", "200"]  # in the order they started


def test_a_slow_service_within_the_timeout_still_answers():
    exchange = measure("/calls/sequential", configure=lambda w: w.services.weather.slow(1500))
    assert exchange.response.json() == [200, 200]
    assert exchange.metrics.external_ms == 1780.0


def test_transfer_time_follows_the_bandwidth():
    slow = measure("/bytes/100000", network=Network(10.0)).metrics
    fast = measure("/bytes/100000", network=Network(100.0)).metrics
    assert slow.response_bytes == fast.response_bytes == 100_011
    assert slow.transfer_ms == pytest.approx(100_011 * 8 / 10_000, abs=0.001)
    assert fast.transfer_ms == pytest.approx(slow.transfer_ms / 10, abs=0.001)


def test_seeded_data_is_deterministic_and_the_seed_matters():
    scale = parse_scale("10x8")
    assert generate_rows(scale, 1) == generate_rows(scale, 1)
    assert generate_rows(scale, 1)["users"] != generate_rows(scale, 2)["users"]
    data = Dataset(scale, 1)
    projects = data.projects_of(1)
    assert len(projects) == 10 and all(len(data.tasks_of(p["id"])) == 8 for p in projects)


def test_unknown_scale_names_the_valid_ones():
    with pytest.raises(ValueError, match="5x4, 10x8, 20x10, 50x20"):
        parse_scale("3x3")


def test_worlds_do_not_share_writes():
    async def write_then_read():
        async with World() as world:
            async with world.database.sessionmaker() as session:
                before = await session.scalar(text("SELECT name FROM organizations WHERE id = 1"))
                await session.execute(text("UPDATE organizations SET name = 'changed' WHERE id = 1"))
                await session.commit()
        return before

    first, second = clock.run(write_then_read()), clock.run(write_then_read())
    assert first == second != "changed"


def test_a_world_that_cannot_open_leaves_nothing_behind(monkeypatch, tmp_path):
    """A Redis that refuses connections: one clear sentence, no temp folder, no active database."""
    import tempfile

    from harness import db

    monkeypatch.setenv("KATA_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    async def open_world() -> None:
        async with World(cache=True):
            pass

    with pytest.raises(KataError, match="cannot use the Redis server at KATA_REDIS_URL=redis://127.0.0.1:1/0"):
        clock.run(open_world())
    assert not list(tmp_path.glob("kata-world-*"))
    with pytest.raises(RuntimeError, match="no kata database is active"):
        db.active()


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("KATA_DATABASE_URL", "mysql://kata@127.0.0.1/kata", "KATA_DATABASE_URL must look like postgresql+asyncpg://"),
        (
            "KATA_DATABASE_URL",
            "postgresql+asyncpg://kata:secret@127.0.0.1:abc/x",
            "got 'postgresql+asyncpg://kata:***@",
        ),
        ("KATA_REDIS_URL", "http://127.0.0.1:6379", "KATA_REDIS_URL must look like redis://"),
    ],
)
def test_a_malformed_server_url_is_one_sentence_without_the_password(monkeypatch, variable, value, words):
    monkeypatch.setenv(variable, value)

    async def open_world() -> None:
        async with World(cache=True):
            pass

    with pytest.raises(KataError, match=words.replace("+", r"\+").replace("*", r"\*")) as raised:
        clock.run(open_world())
    assert "secret" not in str(raised.value)
