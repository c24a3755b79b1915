"""One app host: import app.py, then serve the world's requests until it says shutdown."""

from __future__ import annotations

import asyncio
import socket
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from harness import cache as caching
from harness import clock, db, wire
from harness.apphost import drivers, loader
from harness.apphost.channel import Channel, current_request
from harness.apphost.lifespan import LifespanError, lifespan
from harness.apphost.logs import request_lines
from harness.apphost.loop import HostLoop, count_threads, use_virtual_clocks
from harness.sites import describe_exception


class AppHost:
    def __init__(self, channel: Channel, app: Any, dialect: str) -> None:
        self.channel = channel
        self.app = app
        self.state: dict[str, Any] = {}
        self.stop = asyncio.Event()
        self.begin = asyncio.Event()
        self.database = drivers.HostDatabase(channel, dialect)
        self.cache = drivers.HostCache(channel)
        self.tasks: set[asyncio.Task[None]] = set()
        channel.handlers[wire.Start] = lambda _m: self.begin.set()
        channel.handlers[wire.Shutdown] = lambda _m: self.stop.set()
        channel.handlers[wire.Request] = self._spawn

    def _spawn(self, message: wire.Request) -> None:
        task = asyncio.get_running_loop().create_task(self.handle(message))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def main(self) -> None:
        db.activate(self.database)
        caching.activate(self.cache)
        await self.begin.wait()
        try:
            await self.database.warm_up()
            async with lifespan(self.app) as state:
                self.state = state
                self.channel.send(wire.Started())
                await self.stop.wait()
        except LifespanError as error:
            self.channel.send(wire.Started(error=str(error)))
            await self.stop.wait()

    async def handle(self, message: wire.Request) -> None:
        current_request.set(message.request)
        scope = _scope(message.scope, self.state)
        delivered = False
        finished = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": message.body, "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(event: dict[str, Any]) -> None:
            await self.channel.ask(lambda id: wire.Send(id, message.request, dict(event)))

        error = trace = None
        logs: list[Any] | None = None
        capture: Any = request_lines() if message.capture_logs else nullcontext([])
        try:
            with capture as captured:
                try:
                    await self.app(scope, receive, send)
                finally:
                    logs = [dict(entry) for entry in captured] if message.capture_logs else None
        except Exception as exc:  # the world turns it into a 500 and the student's message
            error, trace = describe_exception(exc), traceback.format_exc()
        finally:
            finished.set()
        self.channel.send(wire.Done(message.request, error, trace, logs))


def _scope(raw: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    scope = dict(raw)
    scope["headers"] = [(bytes(k), bytes(v)) for k, v in raw.get("headers", [])]
    for key in ("client", "server"):
        if raw.get(key) is not None:
            scope[key] = tuple(raw[key])
    scope["state"] = dict(state)  # as servers do: each request sees a copy of what the lifespan yielded
    return scope


def serve(sock: socket.socket, app_file: Path, dialect: str, lock: Callable[[], None] = lambda: None) -> None:
    """Run one app host on ``sock`` (the process ends with it); ``lock`` locks it down before the app is imported."""
    channel = Channel(sock)
    loop = HostLoop(on_idle=channel.idle, on_flush=channel.flush)
    asyncio.set_event_loop(loop)
    channel.attach(loop)
    drivers.forward_http(channel)
    count_threads(loop)
    clock.use_blocker(channel.block)
    use_virtual_clocks()
    lock()
    try:
        app = loader.load_app(app_file)
    except loader.SubmissionError as error:
        channel.send(wire.Loaded(error=str(error)))
        channel.flush()
        return
    channel.send(wire.Loaded())
    channel.flush()
    host = AppHost(channel, app, dialect)
    try:
        loop.run_until_complete(host.main())
    finally:
        channel.flush()
