"""What an app imports for its database: ``Depends(get_db)``, and ``engine()`` for its own instruments.

Under grading the app runs in an app host, whose engine sends every statement
to the world (``harness.apphost.drivers``); under ``kata serve`` and in your
own tests it is the world's engine in the same process. Either way the app's
code is the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession


class ActiveDatabase(Protocol):
    """The world's database in process, or the app host's engine into the world."""

    engine: AsyncEngine
    sessionmaker: Any

    def use_pool(self, options: dict[str, Any]) -> None:
        """Rebuild the app's engine with these pool settings (``configure_pool``)."""


_active: ActiveDatabase | None = None
_pool_options: dict[str, Any] = {}


def activate(database: ActiveDatabase | None) -> None:
    """Make ``get_db`` hand out sessions of this database (None: none)."""
    global _active
    _active = database
    if database is not None and _pool_options:
        database.use_pool(dict(_pool_options))


def configure_pool(pool_size: int = 5, max_overflow: int = 10, pool_timeout: float = 30.0) -> None:
    """The app's connection pool, as ``create_async_engine(url, pool_size=..., max_overflow=..., pool_timeout=...)``
    would set it (the defaults are SQLAlchemy's). Call it at import time, before the app starts.

    A request that finds every connection in use waits up to ``pool_timeout`` seconds for one, then fails
    with SQLAlchemy's ``TimeoutError`` ("QueuePool limit of size 5 overflow 0 reached").
    """
    global _pool_options
    _pool_options = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if _active is not None:
        _active.use_pool(dict(_pool_options))


def active() -> ActiveDatabase:
    if _active is None:
        raise RuntimeError("no kata database is active: run the app with `kata serve`, `kata check` or inside a World")
    return _active


def engine() -> AsyncEngine:
    """The app's engine, for its own instruments (e.g. cursor events on ``engine().sync_engine``).

    The engine changes with each simulated world, so attach listeners at
    startup (in the app's lifespan), not at import time.
    """
    return active().engine


async def get_db() -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: one session per request, closed afterwards."""
    async with active().sessionmaker() as session:
        yield session
