"""A users host: a locustfile that is a submission runs its users here, and only here.

Its users run as in the kata's load runner (``harness.world.load``), on this
host's virtual loop, but every request goes to the world as a ``Fetch``: the
world sends it into the app under load, times it on its own clock, records it
and answers. What this process says about its requests counts for nothing.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from harness import wire
from harness.apphost.channel import Channel, WorldError
from harness.apphost.loop import HostLoop, use_virtual_clocks
from harness.world.load import LoadOptions, run_load
from harness.world.locustfile import LocustfileError, Scenario, StopUser
from harness.world.locustfile import load as load_locustfile
from harness.world.world import RequestHung


class _Answer:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.metrics = None


class FetchClient:
    """What the runner's users send with: each request goes to the world, which answers it."""

    takes_names = True  # the runner passes each request's ``name=`` along (``kata_name``)

    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    async def request(self, method: str, path: str, timeout: float = 60.0, **kwargs: Any) -> _Answer:
        name = kwargs.pop("kata_name", None)
        request = httpx.Request(method, "http://kata.test" + path, **kwargs)
        body = request.read()
        url = request.url
        target = url.raw_path.decode("ascii")
        headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw]
        try:
            value = await self._channel.ask(lambda id: wire.Fetch(id, method, target, headers, body, name))
        except WorldError as error:
            if error.kind == "stop":  # the world ended the run: this user stops
                raise StopUser() from None
            raise RequestHung(error.text) from None
        response = httpx.Response(value["status"], headers=value["headers"], content=value["body"], request=request)
        return _Answer(response)


class UsersHost:
    def __init__(self, channel: Channel, scenario: Scenario) -> None:
        self.channel = channel
        self.scenario = scenario
        self.options: asyncio.Future[dict[str, Any]] = asyncio.get_event_loop().create_future()
        self.stop = asyncio.Event()
        channel.handlers[wire.Swarm] = self._swarm
        channel.handlers[wire.Shutdown] = lambda _m: self.stop.set()

    def _swarm(self, message: wire.Swarm) -> None:
        if not self.options.done():
            self.options.set_result(dict(message.options))

    async def main(self) -> None:
        options = LoadOptions(**await self.options)
        errors: list[list[Any]] = []
        try:
            run = await run_load(FetchClient(self.channel), self.scenario, options)  # type: ignore[arg-type]
            errors = [[where, error, count] for (where, error), count in run.errors.items()]
        except LocustfileError as error:
            errors = [["locustfile", str(error), 1]]
        self.channel.send(wire.Swarmed(errors=errors))
        await self.stop.wait()


def serve(sock: socket.socket, locustfile: Path, lock: Callable[[], None] = lambda: None) -> None:
    """Run one users host on ``sock``: load the locustfile, then run its users when the world says so."""
    channel = Channel(sock)
    loop = HostLoop(on_idle=channel.idle, on_flush=channel.flush)
    asyncio.set_event_loop(loop)
    channel.attach(loop)
    use_virtual_clocks()
    sys.argv = ["locust", "-f", locustfile.name, "--headless"]  # as real Locust runs it
    lock()
    try:
        scenario = load_locustfile(locustfile)
    except LocustfileError as error:
        channel.send(wire.Loaded(error=str(error)))
        channel.flush()
        return
    channel.send(wire.Loaded())
    channel.flush()
    host = UsersHost(channel, scenario)
    try:
        loop.run_until_complete(host.main())
    finally:
        channel.flush()
