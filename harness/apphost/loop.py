"""The app host's event loop: its clock is the world's, and it says when it is idle.

Time only moves when a message from the world says so (each carries the
world's time). When nothing is ready to run and no thread work is in flight,
the loop tells the world ``Idle(seen, next_timer)`` and waits for the socket:
the world then moves the clock to the earliest timer of either side.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import selectors
import threading
import time
from collections.abc import Callable
from typing import Any

from harness.selector import WrappedSelector, run_counted

# Real seconds to wait for a worker thread before re-checking (its completion wakes the loop at once).
_THREAD_POLL_SECONDS = 0.5


class _HostSelector(WrappedSelector):
    def __init__(self, real: selectors.BaseSelector, loop: HostLoop) -> None:
        super().__init__(real)
        self._loop = loop

    def select(self, timeout: float | None = None):  # type: ignore[no-untyped-def]
        # The world's socket is not among these: its messages run only at a quiet moment (below).
        loop = self._loop
        events = self._real.select(0)
        if events or timeout == 0:
            loop.on_flush()
            return events
        while loop.threads:  # thread work in flight: wait for it for real, the clock stands still
            loop.on_flush()
            events = self._real.select(_THREAD_POLL_SECONDS)
            if events:
                return events
        events = self._real.select(0)
        if events:
            loop.on_flush()
            return events
        if loop.on_quiet():  # a whole batch of the world's messages: run it
            return []
        loop.on_idle(loop.next_timer())  # sends what is queued, and the idle, in one write
        loop.on_wait()  # until the world's next batch is here
        return []


class HostLoop(asyncio.SelectorEventLoop):
    """A selector loop whose ``time()`` is the world's, as of its last message."""

    def __init__(self, on_idle: Callable[[float | None], None], on_flush: Callable[[], None]) -> None:
        super().__init__()
        self._now = 0.0
        self.threads = 0  # worker threads running code the loop waits for
        self._threads_lock = threading.Lock()
        self.thread_id = threading.get_ident()
        self.on_idle = on_idle
        self.on_flush = on_flush
        self.on_quiet: Callable[[], bool] = lambda: False  # runs what the world sent (``Channel.deliver``)
        self.on_wait: Callable[[], None] = lambda: None  # waits for the world (``Channel.wait_for_world``)
        self._selector = _HostSelector(self._selector, self)  # type: ignore[has-type]

    def time(self) -> float:
        return self._now

    def set_time(self, t: float) -> None:
        if t > self._now:
            self._now = t

    def next_timer(self) -> float | None:
        scheduled: list[Any] = self._scheduled  # type: ignore[attr-defined]
        whens = [handle.when() for handle in scheduled if not handle.cancelled()]
        return min(whens) if whens else None

    def hold_thread(self) -> None:
        with self._threads_lock:
            self.threads += 1

    def release_thread(self) -> None:
        with self._threads_lock:
            self.threads -= 1
        if threading.get_ident() != self.thread_id:
            self.call_soon_threadsafe(lambda: None)  # the loop re-checks whether it is idle

    def run_in_executor(self, executor, func, *args):  # type: ignore[no-untyped-def]
        return run_counted(self, executor, func, args, self.hold_thread, self.release_thread)


def host_loop() -> HostLoop | None:
    loop = asyncio._get_running_loop()
    return loop if isinstance(loop, HostLoop) else None


def count_threads(loop: HostLoop) -> None:
    """anyio's worker threads (sync endpoints, ``run_in_threadpool``) hold the clock while they run,
    and not while they wait for the loop (``anyio.from_thread``)."""
    import anyio.from_thread
    import anyio.to_thread

    original = anyio.to_thread.run_sync
    # A thread that waits on the world holds nothing, so work queued behind it must not either: the wait for
    # a slot of anyio's limiter (40 threads) is an ordinary wait on the loop; only a running thread is held.
    # asyncio's default executor gets room for every thread an app would start (``asyncio.to_thread``).
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=512, thread_name_prefix="app"))

    async def run_sync(func: Callable[..., Any], *args: Any, limiter: Any = None, **kwargs: Any) -> Any:
        if host_loop() is not loop:
            return await original(func, *args, limiter=limiter, **kwargs)
        async with limiter or anyio.to_thread.current_default_thread_limiter():
            loop.hold_thread()
            try:
                return await original(func, *args, limiter=anyio.CapacityLimiter(1), **kwargs)
            finally:
                loop.release_thread()

    anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]
    # A thread that waits for the loop holds nothing meanwhile: from the moment the loop runs its
    # work (on the loop's thread, so the host cannot look idle before) until it has the answer.
    original_run, original_run_sync = anyio.from_thread.run, anyio.from_thread.run_sync

    def from_thread_run(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == loop.thread_id:
            return original_run(func, *args, **kwargs)

        async def answered(*inner: Any) -> Any:
            loop.release_thread()
            try:
                return await func(*inner)
            finally:
                loop.hold_thread()

        return original_run(answered, *args, **kwargs)

    def from_thread_run_sync(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return original_run_sync(func, *args, **kwargs)  # runs at once on the loop: the thread barely waits

    anyio.from_thread.run = from_thread_run  # type: ignore[assignment]
    anyio.from_thread.run_sync = from_thread_run_sync  # type: ignore[assignment]


def use_virtual_clocks() -> None:
    """The app's own timing reads the world's clock on the loop's thread: ``time.perf_counter``,
    ``perf_counter_ns``, ``monotonic`` and ``monotonic_ns``, whichever a student times with.
    Worker threads and code outside the loop get the real clocks; ``time.time`` stays the wall clock."""
    for name, real in _REAL_CLOCKS.items():
        setattr(time, name, _virtual(real, nanoseconds=name.endswith("_ns")))


def _virtual(real: Callable[[], Any], nanoseconds: bool) -> Callable[[], Any]:
    def clock() -> Any:
        loop = host_loop()
        if loop is None:
            return real()
        return round(loop.time() * 1_000_000_000) if nanoseconds else loop.time()

    clock.__name__ = real.__name__
    return clock


_REAL_CLOCKS: dict[str, Callable[[], Any]] = {
    name: getattr(time, name) for name in ("perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns")
}
