"""The app host's drivers: SQL, partner HTTP and Redis go to the world, and only there.

- SQL: SQLAlchemy's own aiosqlite dialect with a driver module whose
  connections send each DB-API operation to the world (``Sql``), so an app's
  ORM code, and its own cursor events, run unchanged.
- HTTP: httpx's default transport sends each request to the world (``Call``);
  there is no network here, so nothing else could answer.
- Redis: a ``redis.asyncio.Redis`` whose commands (and pipelines) the world
  runs on its server (``Redis``).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import sqlite3
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import httpx
import httpx._transports.default as httpx_transports
import redis.asyncio as redis
import redis.exceptions as redis_exceptions
from redis.asyncio.client import Pipeline
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from harness import wire
from harness.apphost.channel import Channel, WorldError, current_request
from harness.sites import call_site

# --- SQL --------------------------------------------------------------------

_SQL_ERRORS: dict[str, type[Exception]] = {
    name: getattr(sqlite3, name)
    for name in (
        "DatabaseError",
        "IntegrityError",
        "OperationalError",
        "ProgrammingError",
        "NotSupportedError",
        "DataError",
        "InternalError",
        "InterfaceError",
    )
}


class _Cursor:
    arraysize = 1

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[tuple[Any, ...]] = []

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def execute(self, sql: str, parameters: Any = None) -> _Cursor:
        self._take(await self._connection.ask("execute", sql, list(parameters or ())))
        return self

    async def executemany(self, sql: str, seq_of_parameters: Any) -> _Cursor:
        self._take(await self._connection.ask("executemany", sql, [list(p) for p in seq_of_parameters]))
        return self

    def _take(self, value: dict[str, Any]) -> None:
        self.description = [tuple(column) for column in value["description"]] if value["description"] else None
        self._rows = [tuple(row) for row in value["rows"]]
        self.rowcount = value["rowcount"]
        self.lastrowid = value["lastrowid"]

    async def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        size = size or self.arraysize
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


class _Connection:
    """What SQLAlchemy's aiosqlite adapter needs of an ``aiosqlite.Connection``."""

    isolation_level = ""  # sqlite3's default: the driver begins a transaction before a write

    def __init__(self, channel: Channel, number: int) -> None:
        self._channel = channel
        self.number = number
        self._connection = True  # the adapter checks this before commit/rollback

    async def ask(self, op: str, sql: str = "", params: Any = None) -> Any:
        site = call_site() if sql else "?"
        try:
            return await self._channel.ask(
                lambda id: wire.Sql(id, self.number, op, sql, params, current_request.get(), site)
            )
        except WorldError as error:
            raise self._error(error.kind, error.text) from None

    def _error(self, kind: str, text: str) -> Exception:
        return _SQL_ERRORS.get(kind, sqlite3.OperationalError)(text)

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    async def commit(self) -> None:
        await self.ask("commit")

    async def rollback(self) -> None:
        await self.ask("rollback")

    async def close(self) -> None:
        if self._connection:
            self._connection = False
            await self.ask("close")

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        """SQLAlchemy registers ``regexp``; the world's connection has its own, and app code never runs there."""

    def stop(self) -> None:
        self._connection = False


class _Driver:
    """Stands in for the ``aiosqlite`` module."""

    class Connection:
        stop = None  # the dialect checks for it (terminate support)

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self.numbers = itertools.count(1)
        for name in ("DatabaseError", "Error", "IntegrityError", "NotSupportedError", "OperationalError"):
            setattr(self, name, getattr(sqlite3, name))
        self.ProgrammingError = sqlite3.ProgrammingError
        self.sqlite_version = sqlite3.sqlite_version
        self.sqlite_version_info = sqlite3.sqlite_version_info
        self.__version__ = "0.22.1"

    async def connect(self) -> _Connection:
        connection = _Connection(self._channel, next(self.numbers))
        await connection.ask("connect")
        return connection


class _PgStatement:
    """What SQLAlchemy's asyncpg adapter needs of an ``asyncpg`` prepared statement."""

    def __init__(self, connection: _PgConnection, sql: str, attributes: list[Any]) -> None:
        self._connection = connection
        self._sql = sql
        self._attributes = [SimpleNamespace(name=name, type=SimpleNamespace(oid=oid)) for name, oid in attributes]
        self._status = ""

    def get_attributes(self) -> list[Any]:
        return self._attributes

    async def fetch(self, *params: Any) -> list[tuple[Any, ...]]:
        value = await self._connection.ask("execute", self._sql, list(params))
        rowcount = value["rowcount"]
        self._status = f"SELECT {rowcount}" if rowcount is not None and rowcount >= 0 else ""
        return [tuple(row) for row in value["rows"]]

    def get_statusmsg(self) -> str:
        return self._status


class _PgTransaction:
    """The world's connection begins its own transaction at the first statement, as SQLAlchemy does."""

    def __init__(self, connection: _PgConnection) -> None:
        self._connection = connection

    async def start(self) -> None:
        return None

    async def commit(self) -> None:
        await self._connection.ask("commit")

    async def rollback(self) -> None:
        await self._connection.ask("rollback")


class _PgConnection(_Connection):
    """What SQLAlchemy's asyncpg adapter needs of an ``asyncpg.Connection``."""

    def _error(self, kind: str, text: str) -> Exception:
        import asyncpg

        found = getattr(asyncpg.exceptions, kind, None)
        if isinstance(found, type) and issubclass(found, Exception):
            return found(text)
        return asyncpg.exceptions.PostgresError(text)

    async def prepare(self, sql: str, name: str | None = None) -> _PgStatement:
        return _PgStatement(self, sql, await self.ask("describe", sql))

    async def executemany(self, sql: str, seq_of_parameters: Any) -> None:
        await self.ask("executemany", sql, [list(p) for p in seq_of_parameters])

    def transaction(self, **options: Any) -> _PgTransaction:
        return _PgTransaction(self)

    async def fetchrow(self, sql: str) -> None:
        return None

    async def set_type_codec(self, *args: Any, **kwargs: Any) -> None:
        return None  # the world's connection decodes

    async def reload_schema_state(self) -> None:
        return None

    def is_closed(self) -> bool:
        return not self._connection

    async def close(self, timeout: float | None = None) -> None:
        await super().close()

    def terminate(self) -> None:
        self._connection = False


def engine_through(
    channel: Channel, dialect: str = "sqlite", pool: dict[str, Any] | None = None, driver: _Driver | None = None
) -> AsyncEngine:
    """An engine whose every connection lives in the world (``pool``: the app's settings, else SQLAlchemy's defaults).

    The world's database decides the dialect, so the app's SQL is compiled for the server that runs it.
    """
    driver = driver or _Driver(channel)  # one per host: its connection numbers are the world's keys
    if dialect == "postgresql":
        import asyncpg
        from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi

        async def connect_pg() -> _PgConnection:
            connection = _PgConnection(channel, next(driver.numbers))
            await connection.ask("connect")
            return connection

        return create_async_engine(
            "postgresql+asyncpg://world/kata",
            module=AsyncAdapt_asyncpg_dbapi(asyncpg),
            async_creator=connect_pg,
            **(pool or {}),
        )
    dbapi = AsyncAdapt_aiosqlite_dbapi(driver, sqlite3)  # type: ignore[arg-type]
    # A file URL, never opened: it selects the same pool a file database gets.
    return create_async_engine(
        "sqlite+aiosqlite:///world.sqlite3", module=dbapi, async_creator=driver.connect, **(pool or {})
    )


class HostDatabase:
    """What ``harness.db`` hands the app in the app host."""

    def __init__(self, channel: Channel, dialect: str = "sqlite") -> None:
        self._channel, self._dialect = channel, dialect
        self._driver = _Driver(channel)
        self.engine = engine_through(channel, dialect, driver=self._driver)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    def use_pool(self, options: dict[str, Any]) -> None:
        # Called before the app starts (no connection of the old engine is open yet).
        self.engine = engine_through(self._channel, self._dialect, options, self._driver)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    async def warm_up(self) -> None:
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")


# --- HTTP -------------------------------------------------------------------


def forward_http(channel: Channel) -> None:
    """Send every httpx request of the app to the world's partner services."""
    numbers = itertools.count(1)

    def call(transport: Any, request: httpx.Request, body: bytes) -> Callable[[int, bool], wire.Call]:
        """The ``Call`` for ``request``, once its id (and whether the whole host waits) is known."""
        connection = transport.__dict__.setdefault("_kata_connection", next(numbers))
        timeout = (request.extensions.get("timeout") or {}).get("read")
        headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw]
        number = current_request.get()
        return lambda id, blocking: wire.Call(
            id, request.method, str(request.url), headers, body, timeout, connection, number, blocking
        )

    def failed(request: httpx.Request, error: WorldError) -> httpx.HTTPError:
        if error.kind == "timeout":
            return httpx.ReadTimeout(error.text, request=request)
        return httpx.ConnectError(error.text, request=request)

    def answered(request: httpx.Request, value: dict[str, Any]) -> httpx.Response:
        return httpx.Response(value["status"], headers=value["headers"], content=value["body"], request=request)

    async def handle_async_request(transport: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        make = call(transport, request, await request.aread())
        number = channel.next_id()
        try:
            value = await channel.ask(lambda id: make(id, False), number)
        except asyncio.CancelledError:
            channel.send(wire.Cancel(number))
            raise
        except WorldError as error:
            raise failed(request, error) from None
        return answered(request, value)

    def handle_request(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        """A synchronous client: on a worker thread that thread waits; on the loop's thread, the whole host."""
        try:
            value = channel.ask_sync(call(transport, request, request.read()))
        except WorldError as error:
            raise failed(request, error) from None
        return answered(request, value)

    httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign, assignment]
    httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign, assignment]
    # No TLS connection is ever opened here: clients share one default context (real CPU only).
    default = functools.cache(httpx.create_ssl_context)
    original = httpx_transports.create_ssl_context

    def shared_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is True and cert is None and trust_env:
            return default()
        return original(verify=verify, cert=cert, trust_env=trust_env)

    httpx_transports.create_ssl_context = shared_ssl_context


# --- Redis ------------------------------------------------------------------


class WorldRedis(redis.Redis):
    """A Redis client whose server is the world's (``decode_responses=True``)."""

    def __init__(self, channel: Channel) -> None:
        super().__init__(decode_responses=True)
        self._kata_channel = channel

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        return (await self.run_in_world([list(args)], [options], raise_on_error=True))[0]

    async def run_in_world(
        self, commands: list[list[Any]], options: list[dict[str, Any]], raise_on_error: bool
    ) -> list[Any]:
        site = call_site()
        value = await self._kata_channel.ask(lambda id: wire.Redis(id, commands, options, current_request.get(), site))
        results: list[Any] = value["results"]
        for index, (kind, text) in value["errors"].items():
            error = getattr(redis_exceptions, kind, None)
            if not (isinstance(error, type) and issubclass(error, Exception)):
                error = redis_exceptions.ResponseError
            results[int(index)] = error(text)
            if raise_on_error:
                raise results[int(index)]
        return results

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> WorldPipeline:
        return WorldPipeline(self, transaction)


class WorldPipeline(Pipeline):
    def __init__(self, client: WorldRedis, transaction: bool) -> None:
        super().__init__(client.connection_pool, client.response_callbacks, transaction, None)
        self._kata_client = client

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = self.command_stack
        if not stack:
            return []
        try:
            return await self._kata_client.run_in_world(
                [list(args) for args, _ in stack], [dict(options) for _, options in stack], raise_on_error
            )
        finally:
            await self.reset()


class HostCache:
    """What ``harness.cache`` hands the app in the app host."""

    def __init__(self, channel: Channel) -> None:
        self.client = WorldRedis(channel)
