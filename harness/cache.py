"""What an app imports for its cache: ``Depends(get_cache)``, a ``redis.asyncio.Redis``.

Under grading its commands are run and measured by the world
(``harness.apphost.drivers.WorldRedis``); under ``kata serve`` it is the
world's measured client in the same process.
"""

from __future__ import annotations

from typing import Any, Protocol

import redis.asyncio as redis


class ActiveCache(Protocol):
    client: Any


_active: list[ActiveCache] = []


def activate(cache: ActiveCache) -> None:
    _active.append(cache)


def deactivate(cache: ActiveCache) -> None:
    _active.remove(cache)


def active() -> ActiveCache:
    if not _active:
        raise RuntimeError(
            "no kata cache is active: this exercise's world has no Redis "
            "(set `cache = true` under [world] in its exercise.toml)"
        )
    return _active[-1]


async def get_cache() -> redis.Redis:
    """FastAPI dependency: the world's Redis client (``decode_responses=True``)."""
    return active().client
