"""Run an ASGI app's lifespan (startup/shutdown), as a server would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


class LifespanError(RuntimeError):
    pass


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Send ``lifespan.startup`` before the body and ``lifespan.shutdown`` after it."""
    inbox: asyncio.Queue[dict] = asyncio.Queue()
    outbox: asyncio.Queue[dict] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})

    async def run() -> None:
        try:
            await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)
        except BaseException as exc:
            await outbox.put({"type": "kata.crashed", "error": exc})
            raise

    task = asyncio.create_task(run())
    reply = await outbox.get()
    if reply["type"] == "kata.crashed":
        task.cancel()
        raise LifespanError(f"the app's startup raised {reply['error']!r}") from reply["error"]
    if reply["type"] == "lifespan.startup.failed":
        raise LifespanError(f"the app's startup failed: {reply.get('message', '')}")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(outbox.get(), timeout=30)
        finally:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
