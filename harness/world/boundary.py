"""The world's side of the trust boundary: it starts app hosts and serves what they ask for.

An app host (``harness.apphost``) is a process that runs the submission. The
world starts one pre-imported parent per grading (``Zygote``) and has it fork
a fresh host for each simulated world. Everything between them travels on one
socket (``harness.wire``), and the world measures only what reaches it:

- each SQL statement runs on the world's engine, where the latency model, the
  plan cost and the recording are attached (``harness.db``);
- each partner call is answered by the world's services, each Redis command
  by the world's server;
- each response byte goes through ``MeasuringMiddleware`` here.

The clock: the world moves it only when its own loop and the host are idle
(the host is "in flight" otherwise, like a worker thread). The host says
``Idle(seen, next_timer)`` once it has run everything the world sent it up
to message ``seen``; an older ``seen`` is stale and ignored. When the host's
timer is the earliest, the world sends ``Tick``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
from collections.abc import AsyncIterator, Iterator, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import redis.exceptions
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from harness import wire
from harness.catalog import LifespanError, SubmissionError
from harness.world import clock, measure
from harness.world.hosts import CRASH_HINT, ENDED, HostFailed, Zygote, kill

if TYPE_CHECKING:
    from harness.world.world import World

# Modeled seconds the app's shutdown may take.
SHUTDOWN_SECONDS = 30.0

# --- one app host, seen from the world --------------------------------------------

# Requests sent inside ``app_logs()`` bring back the structlog events the app emitted.
_captured_logs: ContextVar[list[MutableMapping[str, Any]] | None] = ContextVar("kata_app_logs", default=None)


@contextlib.contextmanager
def app_logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """The structlog events the app emits while serving requests sent inside the block (not printed)."""
    logs: list[MutableMapping[str, Any]] = []
    token = _captured_logs.set(logs)
    try:
        yield logs
    finally:
        _captured_logs.reset(token)


@dataclass
class _Open:
    metrics: measure.RequestMetrics | None
    inbox: asyncio.Queue[wire.Message]


class HostConnection(asyncio.Protocol):
    """The world's end of one app host's socket: the clock rule, and the servers the host talks to."""

    def __init__(self, world: World, pid: int) -> None:
        self.world = world
        self.pid = pid
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.framer = wire.Framer()
        self.seq = 0
        self.state = "busy"  # importing the app; then busy / idle / blocked / dead
        self._hold()
        self.loaded: asyncio.Future[wire.Loaded] = self.loop.create_future()
        self.started: asyncio.Future[wire.Started] = self.loop.create_future()
        self.closed: asyncio.Future[None] = self.loop.create_future()
        self.failure: str | None = None
        self.requests: dict[int, _Open] = {}
        self._numbers = itertools.count(1)
        self._tick: asyncio.TimerHandle | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._sql: dict[int, tuple[AsyncConnection, asyncio.Lock]] = {}
        self._partner_connections: set[int] = set()
        # Work done while no request is open (the app's startup, tasks of its own between requests).
        self.background = measure.RequestMetrics("APP", "outside any request", start=self.loop.time())
        # The host's messages in whole batches (each ends where the host stops: Idle, or a blocking
        # message), run at the world's quiet moments; ours go out the same way (``flush``, ending in End).
        self._pending: list[wire.Message] = []
        self._batches: list[wire.Message] = []
        self._outbox: list[bytes] = []
        virtual = clock.virtual_loop()
        if virtual is not None:
            virtual.hosts.append(self)

    # The clock rule ------------------------------------------------------------

    def _hold(self) -> None:
        loop = clock.virtual_loop()
        if loop is not None:
            loop.hosts_busy += 1

    def _release(self) -> None:
        loop = clock.virtual_loop()
        if loop is not None:
            loop.hosts_busy -= 1

    def send(self, message: wire.Message, unblocks: bool = False) -> None:
        if self.state == "dead" or self.transport is None:
            return
        self.seq += 1
        if self.state == "idle" or (self.state == "blocked" and unblocks):
            self.state = "busy"
            self._hold()
            if self._tick is not None:
                self._tick.cancel()
                self._tick = None
        self._outbox.append(wire.encode(message, t=self.loop.time(), seq=self.seq))
        if clock.virtual_loop() is None:
            self.flush()

    def flush(self) -> None:
        """Send what is queued as one batch, ending in ``End`` (at a quiet moment of the world's)."""
        if not self._outbox or self.state == "dead" or self.transport is None:
            return
        self.seq += 1
        self._outbox.append(wire.encode(wire.End(), t=self.loop.time(), seq=self.seq))
        data, self._outbox = b"".join(self._outbox), []
        self.transport.write(data)

    def deliver(self) -> bool:
        """Run the host's whole batches that have arrived; False if there were none."""
        if not self._batches:
            return False
        batch, self._batches = self._batches, []
        for message in batch:
            if self.state == "dead":
                break
            self._dispatch(message)
        return True

    def _on_idle(self, message: wire.Idle) -> None:
        if self.state != "busy" or message.seen != self.seq:
            return  # stale: the host has not seen everything we sent
        self.state = "idle"
        self._release()
        if message.next_timer is not None:
            when = float(message.next_timer)
            self._tick = self.loop.call_at(max(when, self.loop.time()), self._send_tick)

    def _send_tick(self) -> None:
        self._tick = None
        if self.state == "idle":
            self.send(wire.Tick())

    def _blocked(self) -> None:
        """The host waits for one reply on its loop's thread: it runs nothing until then."""
        if self.state == "busy":
            self._release()
        self.state = "blocked"

    def _on_block(self, message: wire.Block) -> None:
        seconds = max(0.0, float(message.seconds)) * self.world.app_cpu
        blocking = bool(message.blocking)
        if blocking:
            self._blocked()
        self.loop.call_later(seconds, lambda: self.send(wire.Reply(message.id), unblocks=blocking))

    # The socket ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            for frame in self.framer.feed(data):
                message, _t, _seq = wire.decode(frame)  # what the host says the time is means nothing
                self._pending.append(message)
                if _ends_batch(message):
                    self._batches.extend(self._pending)
                    self._pending = []
        except (wire.ProtocolError, TypeError, ValueError, KeyError) as error:
            self.fail(f"the app host broke the grader's protocol ({error})")
        if clock.virtual_loop() is None:
            self.deliver()

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(f"{ENDED}: {CRASH_HINT}")

    def fail(self, reason: str) -> None:
        if self.state == "dead":
            return
        if self.state == "busy":
            self._release()
        self.state = "dead"
        virtual = clock.virtual_loop()
        if virtual is not None and self in virtual.hosts:
            virtual.hosts.remove(self)
        self.failure = self.failure or reason
        kill(self.pid)
        if self.transport is not None:
            self.transport.close()
        for waiting in (self.loaded, self.started):
            if not waiting.done():
                waiting.set_exception(HostFailed(reason))
        if not self.closed.done():
            self.closed.set_result(None)
        for open_request in self.requests.values():
            open_request.inbox.put_nowait(wire.Done(0, error=reason))
        for task in self._tasks.values():
            task.cancel()

    def _dispatch(self, message: wire.Message) -> None:
        if isinstance(message, wire.Idle):
            self._on_idle(message)
        elif isinstance(message, wire.Loaded):
            if not self.loaded.done():
                self.loaded.set_result(message)
        elif isinstance(message, wire.Started):
            if not self.started.done():
                self.started.set_result(message)
        elif isinstance(message, wire.Block):
            self._on_block(message)
        elif isinstance(message, wire.Send | wire.Done):
            open_request = self.requests.get(int(message.request))
            if open_request is not None:
                open_request.inbox.put_nowait(message)
            elif isinstance(message, wire.Send):
                self.send(wire.Reply(int(message.id), error={"type": "closed", "message": "the request is over"}))
        elif isinstance(message, wire.Cancel):
            task = self._tasks.get(int(message.id))
            if task is not None:
                task.cancel()
        elif isinstance(message, wire.Sql | wire.Call | wire.Redis):
            number = int(message.id)
            if isinstance(message, wire.Call) and message.blocking is True:
                self._blocked()
            task = self.loop.create_task(self._serve(message))
            self._tasks[number] = task
            task.add_done_callback(lambda _t: self._tasks.pop(number, None))
        else:
            raise wire.ProtocolError(f"a {message.kind} message from the app host")

    # Serving the host ----------------------------------------------------------

    def _charged(self, request: Any) -> tuple[measure.RequestMetrics, ...]:
        """The requests a statement, call or command is charged to.

        The one the host names, if it is open. Otherwise (no name, an unknown or
        finished one) every open request: work the app hides in a task of its own,
        or under a made-up request, is still paid for by the requests waiting on it.
        Which of several open requests did the work is as the host says: it can move
        work between its own requests, never hide it. With no request open (the
        startup, a task of the app's own between requests) it is ``background``.
        """
        named = self.requests.get(request) if isinstance(request, int) and not isinstance(request, bool) else None
        chosen = [named] if named is not None else list(self.requests.values())
        charged = tuple(o.metrics for o in chosen if o.metrics is not None)
        return charged or (self.background,)

    async def _serve(self, message: wire.Sql | wire.Call | wire.Redis) -> None:
        requests = self._charged(message.request)
        measure.attribute(requests, getattr(message, "site", None))
        try:
            if isinstance(message, wire.Sql):
                value = await self._run_sql(message)
            elif isinstance(message, wire.Call):
                value = await self._run_call(message, requests)
            else:
                value = await self._run_redis(message)
        except _Refusal as refusal:
            self._answer(message, wire.Reply(message.id, error={"type": refusal.kind, "message": str(refusal)}))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a malformed request from the host: an error for it, never for us
            self._answer(message, wire.Reply(message.id, error={"type": "OperationalError", "message": f"{exc}"}))
        else:
            self._answer(message, wire.Reply(message.id, value=value))

    def _answer(self, message: wire.Message, reply: wire.Reply) -> None:
        self.send(reply, unblocks=isinstance(message, wire.Call) and message.blocking is True)

    async def _run_sql(self, message: wire.Sql) -> Any:
        database = self.world.database
        assert database is not None
        number = int(message.conn)
        if message.op == "connect":
            if number in self._sql:
                raise _Refusal("OperationalError", "connection number in use")
            limit = database.max_connections
            if limit is not None and database.connections >= limit:
                for metrics in measure.charged():
                    metrics.connections_refused += 1
                kind = "TooManyConnectionsError" if database.engine.dialect.name == "postgresql" else "OperationalError"
                raise _Refusal(
                    kind,
                    f"sorry, too many clients already: the database accepts {limit} connections at once "
                    f"and {database.connections} are open",
                )
            self._sql[number] = (await database.engine.connect(), asyncio.Lock())
            database.connections += 1
            return None
        if number not in self._sql:
            raise _Refusal("OperationalError", "no such connection")
        conn, lock = self._sql[number]
        async with lock:
            try:
                if message.op == "describe":  # PostgreSQL: the columns a statement returns, before it runs
                    raw = await conn.get_raw_connection()
                    try:
                        # the server's reply is in flight: the clock waits for it
                        with clock.in_flight():
                            prepared = await raw.driver_connection.prepare(str(message.sql))  # type: ignore[union-attr]
                    except Exception as error:  # asyncpg's own errors: the host raises the same class
                        raise _Refusal(type(error).__name__, str(error)) from None
                    return [[a.name, a.type.oid] for a in prepared.get_attributes()]
                if message.op in ("execute", "executemany") and conn.dialect.name == "sqlite":
                    many = message.op == "executemany"
                    params = [tuple(p) for p in message.params or ()] if many else tuple(message.params or ())
                    raw = await conn.get_raw_connection()
                    try:
                        return await database.run_on_sqlite(raw.driver_connection, str(message.sql), params, many)
                    except sqlite3.Error as error:
                        raise _Refusal(type(error).__name__, str(error)) from None
                if message.op == "execute":
                    params = tuple(message.params or ())
                    return _rows(await conn.exec_driver_sql(str(message.sql), params))
                if message.op == "executemany":
                    many_params = [tuple(p) for p in message.params or ()]
                    return _rows(await conn.exec_driver_sql(str(message.sql), many_params))
                if message.op in ("commit", "rollback") and conn.dialect.name == "sqlite":
                    # The host's statements ran on the driver's connection, outside any transaction of
                    # SQLAlchemy's (``run_on_sqlite``): end the driver's own.
                    raw = await conn.get_raw_connection()
                    driver = raw.driver_connection
                    await (driver.commit() if message.op == "commit" else driver.rollback())  # type: ignore[union-attr]
                    if message.op == "commit":
                        database.record_commit()
                elif message.op == "commit":
                    await conn.commit()
                elif message.op == "rollback":
                    await conn.rollback()
                elif message.op == "close":
                    del self._sql[number]
                    database.connections -= 1
                    await conn.close()
                else:
                    raise _Refusal("NotSupportedError", f"unknown operation {message.op!r}")
            except DBAPIError as error:
                original = error.orig if error.orig is not None else error
                # asyncpg's own class (UniqueViolationError...) where the adapter wrapped one
                cause = original.__cause__ if isinstance(original.__cause__, Exception) else original
                raise _Refusal(type(cause).__name__, str(cause)) from None
        return None

    async def _run_call(self, message: wire.Call, requests: tuple[measure.RequestMetrics, ...]) -> Any:
        request = httpx.Request(
            str(message.method),
            str(message.url),
            headers=[(str(k), str(v)) for k, v in message.headers],
            content=bytes(message.body),
            extensions={"timeout": {"read": message.timeout}},
        )
        found = self.world.services.route(request)
        if found is None:
            raise _Refusal("connect", f"no partner service answers at {request.url.host} in the grader's world")
        if int(message.connection) not in self._partner_connections:
            self._partner_connections.add(int(message.connection))
            for metrics in requests:
                metrics.clients_created += 1
        service, groups = found
        try:
            response = await self.world.services.respond(service, request, groups)
        except httpx.ReadTimeout as timeout:
            raise _Refusal("timeout", str(timeout)) from None
        return {
            "status": response.status_code,
            "headers": [[k, v] for k, v in response.headers.multi_items()],
            "body": response.content,
        }

    async def _run_redis(self, message: wire.Redis) -> Any:
        cache = self.world.cache
        if cache is None:
            raise _Refusal("ConnectionError", "this exercise's world has no Redis")
        results: list[Any] = []
        errors: dict[str, list[str]] = {}
        for index, (command, options) in enumerate(zip(message.commands, message.options, strict=True)):
            try:
                result = await cache.client.execute_command(*command, **dict(options))
                results.append(_plain(result))
            except redis.exceptions.RedisError as error:
                results.append(None)
                errors[str(index)] = [type(error).__name__, str(error)]
        return {"results": results, "errors": errors}

    # Lifecycle -----------------------------------------------------------------

    async def close(self) -> None:
        try:
            if self.state != "dead":
                self.send(wire.Shutdown())
                with contextlib.suppress(TimeoutError, HostFailed):
                    await asyncio.wait_for(asyncio.shield(self.closed), SHUTDOWN_SECONDS)
        finally:
            self.fail("the world closed")
            database = self.world.database
            for conn, _lock in list(self._sql.values()):
                if database is not None:
                    database.connections -= 1
                with contextlib.suppress(Exception):
                    await conn.close()
            self._sql.clear()
            for task in list(self._tasks.values()):
                task.cancel()


def _ends_batch(message: wire.Message) -> bool:
    """Where a host stops and waits for the world: idle, or blocked on one reply."""
    if isinstance(message, wire.Idle | wire.Loaded):  # Loaded: a host that failed to import sends nothing after
        return True
    return isinstance(message, wire.Block | wire.Call) and message.blocking is True


class _Refusal(Exception):
    def __init__(self, kind: str, text: str) -> None:
        super().__init__(text)
        self.kind = kind


def _rows(result: Any) -> dict[str, Any]:
    if result.returns_rows:
        description = [[name, None, None, None, None, None, None] for name in result.keys()]
        rows = [list(row) for row in result.fetchall()]
    else:
        description, rows = None, []
    try:
        lastrowid = result.lastrowid
    except Exception:
        lastrowid = None
    return {"description": description, "rows": rows, "rowcount": result.rowcount, "lastrowid": lastrowid}


def _plain(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


# --- the app, as the world's measuring middleware sees it ---------------------------


class RemoteApp:
    """An ASGI app that is the app host: each request goes over the socket, each response comes back."""

    def __init__(self, host: HostConnection) -> None:
        self.host = host

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        host = self.host
        if host.state == "dead":
            raise measure.AppRaised(str(host.failure))
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        number = next(host._numbers)
        inbox: asyncio.Queue[wire.Message] = asyncio.Queue()
        host.requests[number] = _Open(measure.current(), inbox)
        captured = _captured_logs.get()
        try:
            host.send(wire.Request(number, _scope_to_wire(scope), body, captured is not None))
            while True:
                item = await inbox.get()
                if isinstance(item, wire.Done):
                    break
                assert isinstance(item, wire.Send)
                clean = _response_event(item.message)
                if clean is None:
                    host.send(wire.Reply(int(item.id), error={"type": "invalid", "message": "not an ASGI response"}))
                    raise measure.AppRaised("RuntimeError: the app sent something that is not an HTTP response")
                await send(clean)
                host.send(wire.Reply(int(item.id)))
        finally:
            host.requests.pop(number, None)
        if captured is not None and isinstance(item.logs, list):
            captured.extend(entry for entry in item.logs if isinstance(entry, dict))
        if item.error:
            raise measure.AppRaised(str(item.error), str(item.traceback or ""))


def _scope_to_wire(scope: MutableMapping[str, Any]) -> dict[str, Any]:
    keys = ("type", "asgi", "http_version", "method", "scheme", "path", "raw_path", "query_string", "root_path")
    wired = {k: scope[k] for k in keys if k in scope}
    wired["headers"] = [[bytes(k), bytes(v)] for k, v in scope.get("headers", [])]
    for key in ("client", "server"):
        if scope.get(key) is not None:
            wired[key] = list(scope[key])
    return wired


def _response_event(message: Any) -> dict[str, Any] | None:
    """The ASGI response message, rebuilt from checked parts (None if it is not one)."""
    if not isinstance(message, dict):
        return None
    kind = message.get("type")
    if kind == "http.response.start":
        status, headers = message.get("status"), message.get("headers", [])
        if not isinstance(status, int) or not isinstance(headers, list):
            return None
        if not all(isinstance(h, list) and len(h) == 2 and all(isinstance(x, bytes) for x in h) for h in headers):
            return None
        return {"type": kind, "status": status, "headers": [(k, v) for k, v in headers]}
    if kind == "http.response.body":
        body = message.get("body", b"")
        if not isinstance(body, bytes):
            return None
        return {"type": kind, "body": body, "more_body": bool(message.get("more_body", False))}
    return None


@contextlib.asynccontextmanager
async def hosted(world: World, zygote: Zygote, app_file: Path) -> AsyncIterator[HostConnection]:
    """A fresh app host for ``world``, its app imported and started (lifespan included)."""
    assert world.database is not None
    sock, pid = zygote.fork(app_file, world.database.engine.dialect.name)
    loop = asyncio.get_running_loop()
    host = HostConnection(world, pid)
    await loop.connect_accepted_socket(lambda: host, sock)
    try:
        try:
            loaded = await host.loaded
        except HostFailed as failed:
            raise SubmissionError(f"importing {app_file.name} failed: {failed}") from None
        if loaded.error:
            raise SubmissionError(loaded.error)
        host.send(wire.Start())
        try:
            started = await host.started
        except HostFailed as failed:
            raise LifespanError(f"the app's startup failed: {failed}") from None
        if started.error:
            raise LifespanError(started.error)
        yield host
    finally:
        await host.close()
