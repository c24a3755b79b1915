"""What the world's and the app host's event loops share: a selector that wraps the real one, and
worker threads counted while the loop waits for them.

Both loops change only what an idle wait means (the world moves its virtual
clock, the app host tells the world it is idle); everything else goes to the
real selector. Neither may call itself idle while a thread's result is on its way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import selectors
from collections.abc import Callable
from typing import Any


class WrappedSelector(selectors.BaseSelector):
    def __init__(self, real: selectors.BaseSelector) -> None:
        self._real = real

    def register(self, fileobj, events, data=None):  # type: ignore[no-untyped-def]
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj):  # type: ignore[no-untyped-def]
        return self._real.unregister(fileobj)

    def modify(self, fileobj, events, data=None):  # type: ignore[no-untyped-def]
        return self._real.modify(fileobj, events, data)

    def get_key(self, fileobj):  # type: ignore[no-untyped-def]
        return self._real.get_key(fileobj)

    def get_map(self):  # type: ignore[no-untyped-def]
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()

    def select(self, timeout: float | None = None):  # type: ignore[no-untyped-def]
        return self._real.select(timeout)


def run_counted(
    loop: asyncio.AbstractEventLoop,
    executor: concurrent.futures.Executor | None,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    hold: Callable[[], None],
    release: Callable[[], None],
) -> asyncio.Future[Any]:
    """``loop.run_in_executor(executor, func, *args)`` with the thread counted (``hold``, then ``release`` on
    the loop's thread) until the loop has its result: counted only until the thread returns, the count could
    drop before the result is posted, and the loop look idle meanwhile. A caller that gives up (``wait_for``
    timing out) cancels the future while the thread still runs: then counted until the thread's work returns.
    """
    if executor is None:
        executor = loop._default_executor  # type: ignore[attr-defined]
        if executor is None:
            executor = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="asyncio")
            loop._default_executor = executor  # type: ignore[attr-defined]
    hold()
    try:
        work = executor.submit(func, *args)
    except BaseException:
        release()
        raise
    future = asyncio.wrap_future(work, loop=loop)

    def done(finished: asyncio.Future[Any]) -> None:
        if finished.cancelled() and not work.done():
            work.add_done_callback(lambda _w: loop.call_soon_threadsafe(release))
        else:
            release()

    future.add_done_callback(done)
    return future
