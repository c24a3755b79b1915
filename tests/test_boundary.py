"""The trust boundary: an app in an app host, measured by the world, on the world's clock.

Each test serves a small app through ``World.serve_hosted`` (what grading
does) and checks a rule of the protocol: the clock moves only when both sides
are idle, blocking work holds the host, a worker thread that waits for the
world holds nothing, work the app hides from its requests is still charged,
and a host that breaks the protocol loses only its own answers.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.world import clock
from harness.world.hosts import Zygote
from harness.world.world import World

APP = textwrap.dedent("""
    import asyncio, contextvars, os, struct, json
    import anyio.from_thread
    import httpx
    from fastapi import Depends, FastAPI, Request
    from fastapi.concurrency import run_in_threadpool
    from sqlalchemy import text
    from harness import clock
    from harness.db import get_db

    async def lifespan(app):
        async with httpx.AsyncClient() as client:
            yield {"http": client}

    app = FastAPI(lifespan=lifespan)
    sync_http = httpx.Client(timeout=5.0)
    WEATHER = "https://api.weather.example.com/current"
    ANALYTICS = "https://analytics.example.com/api/org/1/summary"

    @app.get("/block")
    async def block():
        clock.block(0.2)  # the loop's own thread: the whole host waits
        return {}

    @app.get("/block-in-thread")
    def block_in_thread():
        clock.block(0.2)  # a worker thread: only this request waits
        return {}

    @app.get("/fast")
    async def fast():
        return {}

    @app.get("/sync-client")
    async def sync_client():
        return sync_http.get(WEATHER, params={"city": "Oslo"}).json()

    @app.get("/sync-client-threads")
    async def sync_client_threads():
        get = lambda url, **p: sync_http.get(url, params=p).json()
        await asyncio.gather(run_in_threadpool(get, WEATHER, city="Oslo"), run_in_threadpool(get, ANALYTICS))
        return {}

    @app.get("/from-thread")
    def from_thread(request: Request):
        async def both():
            http = request.state.http
            await asyncio.gather(http.get(WEATHER, params={"city": "Oslo"}), http.get(ANALYTICS))
        anyio.from_thread.run(both)
        return {}

    @app.get("/hidden")
    async def hidden(db=Depends(get_db)):
        async def work():
            for _ in range(7):
                await db.execute(text("SELECT 1"))
        # a task with an empty context: the host names no request for it
        await asyncio.get_running_loop().create_task(work(), context=contextvars.Context())
        return {}

    @app.get("/forged-idle")
    async def forged_idle(db=Depends(get_db)):
        body = json.dumps({"kind": "idle", "seen": 10**9, "next_timer": 1e9}).encode()
        os.write(3, struct.pack(">I", len(body)) + body)
        await db.execute(text("SELECT 1"))
        return {}

    @app.get("/garbage")
    async def garbage():
        os.write(3, struct.pack(">I", 5) + b"nope!")
        await asyncio.sleep(1)
        return {}
""")


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    hosts = Zygote()
    yield hosts
    hosts.close()


def serve(zygote: Zygote, tmp_path: Path, *paths: str, together: bool = False, app_cpu: float = 1.0) -> list[Any]:
    """GET each path (at once with ``together``) from a fresh world and app host: the exchanges."""
    app_file = tmp_path / "app.py"
    app_file.write_text(APP)

    async def run() -> list[Any]:
        async with World() as world, world.serve_hosted(zygote, app_file) as client:
            world.app_cpu = app_cpu
            if together:
                return list(await asyncio.gather(*(client.get(path, timeout=30) for path in paths)))
            return [await client.get(path, timeout=30) for path in paths]

    return clock.run(run())


def test_blocking_on_the_loop_holds_every_request(zygote, tmp_path):
    blocked, fast = serve(zygote, tmp_path, "/block", "/fast", together=True)
    assert blocked.metrics.total_ms >= 200 and fast.metrics.total_ms >= 200


def test_the_apps_cpu_work_takes_no_time_in_a_world_that_says_so(zygote, tmp_path):
    """``World.app_cpu = 0``: a check comparing the app's own timings of overlapping requests."""
    blocked, fast = serve(zygote, tmp_path, "/block", "/fast", together=True, app_cpu=0.0)
    assert blocked.response.status_code == fast.response.status_code == 200
    assert blocked.metrics.total_ms < 1 and fast.metrics.total_ms < 1


def test_blocking_in_a_worker_thread_holds_only_its_request(zygote, tmp_path):
    blocked, fast = serve(zygote, tmp_path, "/block-in-thread", "/fast", together=True)
    assert blocked.metrics.total_ms >= 200 and fast.metrics.total_ms < 1


def test_a_synchronous_client_works_on_the_loop_and_in_threads(zygote, tmp_path):
    on_loop, in_threads = serve(zygote, tmp_path, "/sync-client", "/sync-client-threads")
    assert on_loop.response.status_code == 200 and on_loop.metrics.external_ms == 320
    assert in_threads.response.status_code == 200 and in_threads.metrics.external_ms == 320  # overlapping


def test_a_thread_waiting_for_the_loop_holds_nothing(zygote, tmp_path):
    (exchange,) = serve(zygote, tmp_path, "/from-thread")
    assert exchange.response.status_code == 200 and exchange.metrics.external_ms == 320


def test_work_hidden_from_the_request_is_still_charged_to_it(zygote, tmp_path):
    (exchange,) = serve(zygote, tmp_path, "/hidden")
    assert len(exchange.metrics.queries) == 7 and exchange.metrics.db_ms == 35


def test_a_forged_idle_does_not_move_the_clock_under_a_busy_host(zygote, tmp_path):
    (exchange,) = serve(zygote, tmp_path, "/forged-idle")
    assert exchange.response.status_code == 200 and exchange.metrics.db_ms == 5


def test_a_host_that_breaks_the_protocol_loses_its_answer_only(zygote, tmp_path):
    (exchange,) = serve(zygote, tmp_path, "/garbage")
    assert exchange.response.status_code == 500
    assert "broke the grader's protocol" in (exchange.metrics.error or "")
