"""What an app imports for time: ``block`` (modeled CPU-bound or blocking work) and ``now``.

On the world's virtual clock (in process) ``block`` moves the clock without
yielding; in an app host it asks the world, which answers when the modeled
seconds have passed, so the host is really blocked; on a real loop it sleeps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def now() -> float:
    """The running loop's time in seconds (virtual on a VirtualTimeLoop)."""
    return asyncio.get_running_loop().time()


_blocker: Callable[[float], None] | None = None


def use_blocker(blocker: Callable[[float], None]) -> None:
    """In the app host: ``block`` asks the world, which answers when the modeled seconds have passed."""
    global _blocker
    _blocker = blocker


def block(seconds: float) -> None:
    """Model blocking, CPU-bound work: the loop is held for everyone.

    On the virtual loop the clock moves without yielding, so every other task
    sees the delay; in the app host the world holds the host for that long;
    on a real loop it is a real ``time.sleep``.
    """
    if _blocker is not None:
        _blocker(seconds)
        return
    from harness.world.clock import virtual_loop
    from harness.world.world import app_cpu

    loop = virtual_loop()
    if loop is not None:
        loop.advance(seconds * app_cpu())
    else:
        time.sleep(seconds)
