"""Query budgets for tests: ``assert_max_queries`` and ``assert_constant_queries``.

Like pytest-django's ``django_assert_num_queries``: the failure lists the
queries, grouped by shape with the line of your code that ran them. Counting
happens in the test's own scope (a listener added for the block), never
through state an app's middleware resets.

    with assert_max_queries(4):
        await client.get("/organizations/1/dashboard")

    await assert_constant_queries(app, "/organizations/1/dashboard", scales=("5x4", "50x20"))

Works with the kata's database by default, or any SQLAlchemy engine
(``engine=`` an ``AsyncEngine`` or ``Engine``) in your own project.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from harness import db, sites
from harness.words import n_queries
from harness.world.fingerprint import fingerprint, short

SHOWN = 20


@dataclass
class QueryLog:
    """The statements run inside a block, in order."""

    statements: list[tuple[str, str]] = field(default_factory=list)  # (sql, call site)

    def __len__(self) -> int:
        return len(self.statements)

    def groups(self) -> list[tuple[str, str, int]]:
        """(query shape, call site, count), most repeated first."""
        counts = Counter((short(fingerprint(sql)), site) for sql, site in self.statements)
        return [(shape, site, n) for (shape, site), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def describe(self) -> str:
        lines = [f"  {n}x {shape}  ({site})" for shape, site, n in self.groups()]
        listing = [f"  {i}. {' '.join(sql.split())[:160]}" for i, (sql, _) in enumerate(self.statements[:SHOWN], 1)]
        more = [f"  ... and {len(self) - SHOWN} more"] if len(self) > SHOWN else []
        return "\n".join(["by shape:", *lines, "in order:", *listing, *more])


def _sync_engine(engine: Any | None) -> Any:
    engine = engine if engine is not None else db.engine()
    return getattr(engine, "sync_engine", engine)


@contextmanager
def capture_queries(engine: Any | None = None) -> Iterator[QueryLog]:
    """Record every statement the engine runs inside the block."""
    target = _sync_engine(engine)
    log = QueryLog()

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        log.statements.append((statement, sites.call_site()))

    event.listen(target, "after_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(target, "after_cursor_execute", record)


@contextmanager
def assert_max_queries(budget: int, engine: Any | None = None) -> Iterator[QueryLog]:
    """Fail if the block runs more than ``budget`` statements."""
    with capture_queries(engine) as log:
        yield log
    if len(log) > budget:
        top = log.groups()[0]
        raise AssertionError(
            f"{n_queries(len(log))} (budget {budget}); repeated {top[2]}x: {top[0]} from {top[1]}\n{log.describe()}"
        )


async def count_queries(app: Any, path: str, scale: str, method: str = "GET", **request: Any) -> QueryLog:
    """Run one request against ``app`` in a fresh world at ``scale`` and log its statements."""
    from harness.world.world import World

    async with World(scale=scale) as world:
        async with world.serve(app) as client:
            with capture_queries(world.database.engine) as log:  # type: ignore[union-attr]
                await client.request(method, path, **request)
    return log


async def assert_constant_queries(
    app: Any, path: str, scales: tuple[str, ...] = ("5x4", "50x20"), method: str = "GET", **request: Any
) -> dict[str, int]:
    """Fail unless one request runs the same number of statements at every scale."""
    logs = {scale: await count_queries(app, path, scale, method, **request) for scale in scales}
    counts = {scale: len(log) for scale, log in logs.items()}
    if len(set(counts.values())) > 1:
        largest = max(logs.values(), key=len)
        top = largest.groups()[0]
        shown = ", ".join(f"{n} at {scale}" for scale, n in counts.items())
        raise AssertionError(
            f"{method} {path}: {shown}: the count grows with the data; repeated {top[2]}x: {top[0]} from {top[1]}\n"
            f"{largest.describe()}"
        )
    return counts
