"""The real back-ends: PostgreSQL (KATA_DATABASE_URL) and Redis (KATA_REDIS_URL).

`make test-postgres`, `make test-redis` and `make test-backends` start
throwaway servers from the Debian packages (scripts/with_servers.py) and run
these tests, with the autograder meta-test, against them. Without the
variables they skip and say how to run them.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import corpus
import pytest
from conftest import ROOT
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from test_meta import assert_verdict

from harness import catalog
from harness.catalog import KataError
from harness.engine import checks
from harness.frontends import profiling
from harness.world import clock
from harness.world.world import World

POSTGRES = os.environ.get("KATA_DATABASE_URL")
REDIS = os.environ.get("KATA_REDIS_URL")

needs_postgres = pytest.mark.skipif(
    not POSTGRES, reason="no KATA_DATABASE_URL: `make test-postgres` starts a throwaway PostgreSQL and runs this"
)
needs_redis = pytest.mark.skipif(
    not REDIS, reason="no KATA_REDIS_URL: `make test-redis` starts a throwaway Redis and runs this"
)

TABLE = ROOT / "test-artifacts" / "query-counts-sqlite-postgres.md"


def _profile(exercise: catalog.Exercise, target: str) -> dict:
    data = profiling.profile(exercise, exercise.app_file(Path(target))).to_dict()
    return {key: data[key] for key in ("status", "queries", "db_ms", "total_ms")}


@needs_postgres
def test_postgres_gives_the_same_query_counts_and_modeled_times_as_sqlite(monkeypatch):
    rows, differences = [], []
    for exercise in catalog.exercises():
        for target in ("exercises", "solutions"):
            on_postgres = _profile(exercise, target)
            with monkeypatch.context() as env:
                env.delenv("KATA_DATABASE_URL")
                on_sqlite = _profile(exercise, target)
            rows.append(
                f"| {exercise.name} | {target} | {on_sqlite['queries']} | {on_postgres['queries']} "
                f"| {on_sqlite['db_ms']:g} | {on_postgres['db_ms']:g} |"
            )
            if on_postgres != on_sqlite:
                differences.append(f"{exercise.name} {target}: SQLite {on_sqlite}, PostgreSQL {on_postgres}")
    TABLE.parent.mkdir(exist_ok=True)
    TABLE.write_text(
        "| exercise | app | queries (SQLite) | queries (PostgreSQL) | db_ms (SQLite) | db_ms (PostgreSQL) |\n"
        "|---|---|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n"
    )
    assert not differences, "\n".join(differences)


def _corpus_case(name: str):  # type: ignore[no-untyped-def]
    """A case of the data exercises, skipped unless a real back-end it uses is configured."""
    case = corpus.CASES[name]
    if case.sqlite_only and POSTGRES:
        return pytest.param(name, marks=pytest.mark.skip(reason=f"on SQLite only: {case.sqlite_only}"))
    runs = bool(POSTGRES) if case.exercise == "09" else bool(POSTGRES or REDIS)
    reason = "no KATA_DATABASE_URL" if case.exercise == "09" else "neither KATA_DATABASE_URL nor KATA_REDIS_URL"
    return pytest.param(name, marks=pytest.mark.skipif(not runs, reason=f"{reason}: see `make test-backends`"))


@pytest.mark.parametrize(
    "name", [_corpus_case(n) for n, case in sorted(corpus.CASES.items()) if case.exercise in ("09", "10")]
)
def test_the_data_exercises_corpus_gets_the_same_verdicts_on_the_real_backends(name, tmp_path):
    case = corpus.CASES[name]
    assert_verdict(name, checks.grade(catalog.find(case.exercise), corpus.build(name, tmp_path)))


@needs_redis
@pytest.mark.parametrize("target", ["exercises", "solutions"])
def test_redis_grades_the_cache_exercise_as_fakeredis_does(target, monkeypatch):
    exercise = catalog.find("10")
    on_redis = checks.grade(exercise, Path(target))
    with monkeypatch.context() as env:
        env.delenv("KATA_REDIS_URL")
        on_fakeredis = checks.grade(exercise, Path(target))
    verdicts = [(c.name, c.passed) for c in on_redis.checks]
    assert verdicts == [(c.name, c.passed) for c in on_fakeredis.checks], on_redis.to_json()
    assert on_redis.passed == (target == "solutions"), on_redis.to_json()
    assert on_redis.metrics == on_fakeredis.metrics


@needs_postgres
def test_postgres_a_query_with_a_typo_reports_its_own_error():
    """The plan is read inside a savepoint: a failing EXPLAIN does not abort the request's transaction."""

    async def run() -> None:
        async with World(large_tables=True) as world:
            async with world.database.sessionmaker() as session:
                with pytest.raises(DBAPIError, match='column "emial" does not exist'):
                    await session.execute(text("SELECT * FROM customers WHERE emial = 'x'"))

    clock.run(run())


def test_a_redis_that_never_answers_fails_the_run_instead_of_hanging_it(monkeypatch):
    """Accepts the connection, never replies: after STALL_SECONDS the driver's own timeout fires."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        monkeypatch.setenv("KATA_REDIS_URL", f"redis://127.0.0.1:{server.getsockname()[1]}/0")

        async def run() -> None:
            async with World(cache=True):
                pass

        with pytest.raises(KataError, match="cannot use the Redis server"):
            clock.run(run())
