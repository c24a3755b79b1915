"""The simulated cache: Redis, in-process (fakeredis) by default, a real server when KATA_REDIS_URL is set.

Apps get a ``redis.asyncio.Redis`` client (``decode_responses=True``) with
``Depends(get_cache)``, as a real app gets its Redis. Every command costs a
modeled round trip (default 0.5 ms) and is recorded on the request being
measured, like a query. TTLs run on the virtual clock: ``World.advance``
ages every key by the modeled seconds that passed, on fakeredis and on a real
server alike, so "after the TTL the value is recomputed" is checked in
modeled time.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import itertools
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import fakeredis
import redis.asyncio as redis
from redis.asyncio.connection import parse_url

from harness import settings
from harness.catalog import KataError
from harness.settings import without_password
from harness.world import measure


def redis_url_from_env() -> str | None:
    """KATA_REDIS_URL (``redis://host:port/db``), or None for the in-process fakeredis."""
    url = os.environ.get("KATA_REDIS_URL", "").strip()
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise KataError(f"KATA_REDIS_URL must look like redis://127.0.0.1:6379/0, got {without_password(url)!r}")
    return url or None


class _Measured:
    """Charges and records every command; mixed into the real and the fake client."""

    kata_latency_seconds: float = settings.DEFAULT_CACHE_LATENCY_MS / 1000

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        loop = asyncio.get_running_loop()
        start = loop.time()
        command = str(args[0]).upper() if args else "?"
        cost = self.kata_latency_seconds
        if cost:
            await asyncio.sleep(cost)
        result: Any = None
        error: str | None = None
        try:
            result = await super().execute_command(*args, **options)  # type: ignore[misc]
            return result
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            op = measure.CacheOp(
                command=command,
                key=str(args[1]) if len(args) > 1 else "",
                start=start,
                end=loop.time(),
                cost=cost,
                hit=_hit(command, result, error),
                call_site=measure.call_site(),
                error=error,
            )
            for metrics in measure.charged():
                metrics.cache_ops.append(op)


# Commands that read a value; a hit is a value found (every one of them, for the multi-key and field reads).
_READS = {"GET", "GETEX", "GETDEL", "GETRANGE", "MGET", "HGET", "HMGET", "HGETALL", "EXISTS", "LRANGE", "SMEMBERS"}


def _hit(command: str, result: Any, error: str | None) -> bool | None:
    """For reads: whether the key was there (None for writes)."""
    if error or command not in _READS:
        return None
    if command in ("MGET", "HMGET"):
        return bool(result) and all(value is not None for value in result)
    if command in ("HGETALL", "EXISTS", "LRANGE", "SMEMBERS"):
        return bool(result)
    return result is not None


class MeasuredRedis(_Measured, redis.Redis):  # type: ignore[misc]  # redis-py's own stubs disagree here
    """A real Redis client whose commands are charged and recorded."""


class MeasuredFakeRedis(_Measured, fakeredis.FakeAsyncRedis):  # type: ignore[misc]  # as above, and fakeredis
    """fakeredis, charged and recorded like the real one."""


class _ServerLock:
    """One world at a time per real Redis database, across processes (graders run in parallel)."""

    def __init__(self, url: str, db: int) -> None:
        digest = hashlib.sha1(f"{url}#{db}".encode()).hexdigest()[:12]
        # Not TMPDIR: each grading worker has its own; the lock must be one for all of them.
        shared = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())
        self.path = shared / f"kata-redis-{digest}.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        self._fd = self._open()
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def _open(self) -> int:
        """Open for reading (flock needs no more), creating it readable by every grading user."""
        for _ in range(3):
            try:
                return os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                pass
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_RDONLY, 0o644)
            except FileExistsError:
                continue  # another grader created it meanwhile
            os.fchmod(fd, 0o644)  # whatever the umask
            return fd
        raise KataError(f"cannot open the lock file {self.path} for the Redis server")

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class Cache:
    """One world's Redis: a measured client for the app and a plain one for the harness."""

    def __init__(self, url: str | None = None, latency_ms: float | None = None) -> None:
        self.url = url
        self.latency_ms = latency_ms if latency_ms is not None else settings.cache_latency_ms_from_env()
        self._lock: _ServerLock | None = None
        self._db: int | None = None
        self._opened = False
        if url is None:
            server = fakeredis.FakeServer()
            self.client: redis.Redis = MeasuredFakeRedis(server=server, decode_responses=True)
            self.raw: redis.Redis = fakeredis.FakeAsyncRedis(server=server, decode_responses=True)
        else:
            # Worlds open at once in one process (nested, or side by side) each take
            # their own database number, reserved here before anything awaits.
            base = int(parse_url(url).get("db", 0))
            db = self._db = next(n for n in itertools.count(base) if n not in _taken_dbs)
            _taken_dbs.add(db)
            # In the URL, not as db=: redis-py lets the URL's own number win over the keyword.
            url = urlsplit(url)._replace(path=f"/{db}").geturl()
            self.client = MeasuredRedis.from_url(url, decode_responses=True)
            self.raw = redis.Redis.from_url(url, decode_responses=True)
            self._lock = _ServerLock(url, db)
        self.client.kata_latency_seconds = self.latency_ms / 1000  # type: ignore[attr-defined]

    async def open(self) -> None:
        if self._lock is not None:
            await asyncio.to_thread(self._lock.acquire)
            try:
                await self.raw.flushdb()
            except Exception as exc:
                raise KataError(
                    f"cannot use the Redis server at KATA_REDIS_URL={without_password(self.url)}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        self._opened = True

    async def close(self) -> None:
        """Flush what the run stored (real server), close the clients, give the database number back."""
        try:
            if self._lock is not None and self._opened:
                with contextlib.suppress(Exception):  # a server gone meanwhile: nothing left to flush
                    await self.raw.flushdb()
        finally:
            await self.client.aclose()
            await self.raw.aclose()
            if self._lock is not None:
                self._lock.release()
            if self._db is not None:
                _taken_dbs.discard(self._db)

    async def keys(self) -> list[str]:
        return sorted([key async for key in self.raw.scan_iter()])

    async def ttl_ms(self, key: str) -> int:
        """Remaining TTL in ms; -1 without one, -2 when the key does not exist."""
        return int(await self.raw.pttl(key))

    async def age(self, seconds: float) -> None:
        """Let ``seconds`` pass for every key's TTL: expired keys go, the others keep the rest."""
        elapsed_ms = round(seconds * 1000)
        for key in await self.keys():
            remaining = await self.ttl_ms(key)
            if remaining < 0:
                continue
            if remaining <= elapsed_ms:
                await self.raw.delete(key)
            else:
                await self.raw.pexpire(key, remaining - elapsed_ms)


_taken_dbs: set[int] = set()
