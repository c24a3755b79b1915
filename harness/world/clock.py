"""Virtual time: an event loop whose clock only moves when every task waits.

Modeled latencies (query round trips, external calls, bytes on the wire) are
plain ``asyncio.sleep`` calls. On this loop a sleep costs no real time: when
nothing is ready to run, the clock jumps to the next timer. So ``gather`` of a
280 ms and a 320 ms call costs exactly 320 ms, and CPU speed never enters the
numbers. Under ``kata serve`` the same sleeps run on a normal loop, for real.

Work handed to a worker thread (aiosqlite runs every statement in its own
thread; anyio runs sync endpoints in a pool) must not let the clock jump while
it is still running, so that work is counted as "in flight", and the loop
waits for it in real time with the clock frozen.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import selectors
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from harness.selector import WrappedSelector, run_counted

T = TypeVar("T")

# Real seconds the loop waits for a worker thread before re-checking: a safety
# net only, the thread's completion wakes the loop at once.
_THREAD_POLL_SECONDS = 0.5
# Real seconds of waiting on work in flight, with nothing at all happening, after
# which the clock moves again: a server that accepted a connection and never
# answers must not hang the grader, so the driver's own timeout gets to fire.
# Healthy round trips take milliseconds; only a dead peer ever reaches this.
STALL_SECONDS = 15.0


class _InFlight:
    """Counts worker-thread operations whose results the loop still awaits."""

    def __init__(self) -> None:
        self.count = 0

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        self.count += 1
        try:
            yield
        finally:
            self.count -= 1


class _VirtualSelector(WrappedSelector):
    """Wraps the real selector; turns an idle wait into a jump of the clock."""

    def __init__(self, real: selectors.BaseSelector, loop: VirtualTimeLoop) -> None:
        super().__init__(real)
        self._loop = loop

    def select(self, timeout: float | None = None):  # type: ignore[no-untyped-def]
        events = self._real.select(0)
        if events or timeout == 0:
            return events
        # Thread work in flight: wait for it for real, the clock stands still.
        loop = self._loop
        deadline = time.monotonic() + STALL_SECONDS
        while loop.in_flight.count and time.monotonic() < deadline:
            events = self._real.select(_THREAD_POLL_SECONDS)
            if events:
                return events
        # A thread may have posted its result just before the count dropped.
        events = self._real.select(0)
        if events:
            return events
        # A quiet moment: the app hosts' whole batches run now, and then ours go out, so the order of
        # everything at one instant of modeled time is the same whatever real time each side took.
        if any(host.deliver() for host in list(loop.hosts)):
            return []
        for host in list(loop.hosts):
            host.flush()
        while loop.hosts_busy and time.monotonic() < deadline:  # a host at work: the clock waits for it
            events = self._real.select(_THREAD_POLL_SECONDS)
            if events:
                return events
        if timeout is None:
            # Nothing scheduled and nothing in flight: only real I/O can wake us.
            return self._real.select(None)
        self._loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop on a virtual clock that starts at 0."""

    def __init__(self) -> None:
        super().__init__()
        self._virtual_now = 0.0
        self.in_flight = _InFlight()
        self.hosts: list[Any] = []  # app hosts' connections (``boundary.HostConnection``), in the order made
        self.hosts_busy = 0  # hosts at work: the clock waits for them
        self._selector = _VirtualSelector(self._selector, self)  # type: ignore[has-type]

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (never backward)."""
        if seconds > 0:
            self._virtual_now += seconds

    def run_in_executor(self, executor, func, *args):  # type: ignore[no-untyped-def]
        return run_counted(self, executor, func, args, self._hold, self._release)

    def _hold(self) -> None:
        self.in_flight.count += 1

    def _release(self) -> None:
        self.in_flight.count -= 1


def virtual_loop() -> VirtualTimeLoop | None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return loop if isinstance(loop, VirtualTimeLoop) else None


@contextlib.contextmanager
def in_flight() -> Iterator[None]:
    """Work the loop waits for in real time (a server's reply): the clock stands still meanwhile."""
    loop = virtual_loop()
    if loop is None:
        yield
        return
    with loop.in_flight.hold():
        yield


def counted_thread_work(
    fn: Callable[..., Coroutine[Any, Any, T]],
) -> Callable[..., Coroutine[Any, Any, T]]:
    """Wrap an async function that awaits a worker thread, so the clock waits."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        loop = virtual_loop()
        if loop is None:
            return await fn(*args, **kwargs)
        with loop.in_flight.hold():
            return await fn(*args, **kwargs)

    wrapper.__kata_counted__ = True  # type: ignore[attr-defined]
    return wrapper


def counted_await(await_: Callable[[Awaitable[T]], T]) -> Callable[[Awaitable[T]], T]:
    """Wrap SQLAlchemy's ``await_`` (sync code awaiting the driver): a real server's reply is in flight."""

    @functools.wraps(await_)
    def wrapper(awaitable: Awaitable[T]) -> T:
        loop = virtual_loop()
        if loop is None:
            return await_(awaitable)
        with loop.in_flight.hold():
            return await_(awaitable)

    wrapper.__kata_counted__ = True  # type: ignore[attr-defined]
    return wrapper


def counted_socket_io(
    fn: Callable[..., Coroutine[Any, Any, T]],
) -> Callable[..., Coroutine[Any, Any, T]]:
    """Like ``counted_thread_work``, for a client method waiting on a real server's socket."""
    counted = counted_thread_work(fn)

    @functools.wraps(fn)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> T:
        if type(self).__module__.startswith("fakeredis"):
            return await fn(self, *args, **kwargs)  # in-process: nothing to wait for
        return await counted(self, *args, **kwargs)

    wrapper.__kata_counted__ = True  # type: ignore[attr-defined]
    return wrapper


def _install_thread_accounting() -> None:
    """Count work the loop waits for in real time (idempotent).

    aiosqlite's and anyio's worker threads; and, for the real back-ends, every
    driver round trip of asyncpg (through SQLAlchemy's ``await_``) and of redis.
    Without this the clock would jump to the next timer while a reply is on
    its way, and a driver's own timeout would fire in modeled time.
    """
    import aiosqlite.core
    import anyio.to_thread
    import redis.asyncio.connection
    import sqlalchemy.connectors.asyncio
    import sqlalchemy.dialects.postgresql.asyncpg

    for name in ("_execute", "_connect", "close"):
        method = getattr(aiosqlite.core.Connection, name)
        if not getattr(method, "__kata_counted__", False):
            setattr(aiosqlite.core.Connection, name, counted_thread_work(method))
    if not getattr(anyio.to_thread.run_sync, "__kata_counted__", False):
        anyio.to_thread.run_sync = counted_thread_work(anyio.to_thread.run_sync)  # type: ignore[assignment]
    for module in (sqlalchemy.connectors.asyncio, sqlalchemy.dialects.postgresql.asyncpg):
        await_ = getattr(module, "await_")  # noqa: B009  # not in the module's public type
        if not getattr(await_, "__kata_counted__", False):
            setattr(module, "await_", counted_await(await_))  # noqa: B010
    connection = redis.asyncio.connection.AbstractConnection
    for name in ("connect", "read_response"):
        method = getattr(connection, name)
        if not getattr(method, "__kata_counted__", False):
            setattr(connection, name, counted_socket_io(method))


_real_perf_counter = time.perf_counter
_real_perf_counter_ns = time.perf_counter_ns


def virtual_perf_counter() -> float:
    """``time.perf_counter`` while grading: the virtual clock on the loop's thread.

    So an app's own timing code (``start = time.perf_counter()`` in a
    middleware, as in the lecture) measures modeled time, like the harness.
    Worker threads and code outside a virtual loop get the real counter.
    (In an app host ``time.monotonic`` is virtual too; in this process the
    world's own stall detection needs it real.)
    """
    loop = asyncio._get_running_loop()
    if isinstance(loop, VirtualTimeLoop):
        return loop.time()
    return _real_perf_counter()


def virtual_perf_counter_ns() -> int:
    loop = asyncio._get_running_loop()
    if isinstance(loop, VirtualTimeLoop):
        return round(loop.time() * 1_000_000_000)
    return _real_perf_counter_ns()


def run(main: Awaitable[T]) -> T:
    """Run a coroutine to completion on a fresh virtual-time loop."""
    _install_thread_accounting()
    time.perf_counter, time.perf_counter_ns = virtual_perf_counter, virtual_perf_counter_ns
    try:
        with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
            return runner.run(main)  # type: ignore[arg-type]
    finally:
        time.perf_counter, time.perf_counter_ns = _real_perf_counter, _real_perf_counter_ns
