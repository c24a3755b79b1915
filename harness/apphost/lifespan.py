"""Run an ASGI app's lifespan (startup/shutdown), as a server would."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from harness.catalog import LifespanError
from harness.sites import describe_exception


def _one_line(message: str) -> str:
    """Starlette sends the whole traceback: keep the error and the student's line."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "no reason given"
    sites = [
        f"{Path(m['file']).name}:{m['line']}"
        for m in re.finditer(r'File "(?P<file>[^"]+)", line (?P<line>\d+)', message)
        if "site-packages" not in m["file"] and not m["file"].startswith(sys.prefix) and "/lib/python3" not in m["file"]
    ]
    return lines[-1] + (f" (at {sites[-1]})" if sites else "")


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
    """Send ``lifespan.startup`` before the body and ``lifespan.shutdown`` after it; yields the lifespan state."""
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[dict] = asyncio.Queue()
    outbox: asyncio.Queue[dict] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})

    async def run() -> None:
        try:
            await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}, inbox.get, outbox.put)
        except BaseException as exc:
            await outbox.put({"type": "kata.crashed", "error": exc})
            raise

    task = asyncio.create_task(run())
    reply = await outbox.get()
    if reply["type"] == "kata.crashed":
        # Raising before any reply means "no lifespan support" (as servers treat it).
        await asyncio.gather(task, return_exceptions=True)
        yield state
        return
    if reply["type"] == "lifespan.startup.failed":
        # Starlette re-raises what failed: its own description (the cause, the app's line) is better
        # than the last line of the traceback text it sent (SQLAlchemy's "Background on this error").
        (error,) = await asyncio.gather(task, return_exceptions=True)
        if isinstance(error, Exception):
            raise LifespanError(f"the app's startup failed: {describe_exception(error)}")
        raise LifespanError(f"the app's startup failed: {_one_line(reply.get('message', ''))}")
    try:
        yield state
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(outbox.get(), timeout=30)
        finally:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
