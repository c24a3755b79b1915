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


_active: ActiveDatabase | None = None


def activate(database: ActiveDatabase | None) -> None:
    """Make ``get_db`` hand out sessions of this database (None: none)."""
    global _active
    _active = database


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
