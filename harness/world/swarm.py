"""A locustfile that is a submission: its users run in a host of their own, and the world measures them.

The users host (``harness.apphost.users``) runs the locustfile's users on the
virtual clock; each request reaches the world as a ``Fetch``. The world sends
it into the app under load, times it on its own clock and records the sample
(``harness.world.load.send_timed``): which requests came, when, with which
``Authorization``, and how they were answered. What the users host says about
its requests (its own counts, its ``catch_response`` verdicts) is not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from harness import wire
from harness.catalog import SubmissionError
from harness.world.boundary import HostConnection
from harness.world.hosts import HostFailed, Zygote
from harness.world.load import LoadOptions, LoadRun, ResponseCheck, send_timed, tick_every_second

if TYPE_CHECKING:
    from harness.world.world import Client, World

# Headers httpx sets again for the request the world sends.
_RECOMPUTED = {"host", "content-length", "transfer-encoding", "connection"}


class UsersConnection(HostConnection):
    """The world's end of a users host: it answers ``Fetch`` by sending the request into the app."""

    def __init__(self, world: World, pid: int, target: Client, options: LoadOptions, check: ResponseCheck | None):
        super().__init__(world, pid)
        self.target = target
        self.options = options
        self.check = check
        self.run = LoadRun(options)
        self.start = self.loop.time()
        self.swarmed: asyncio.Future[wire.Swarmed] = self.loop.create_future()
        self._users: dict[str, int] = {}
        self.started.add_done_callback(lambda f: f.cancelled() or f.exception())  # a users host starts no app

    def _dispatch(self, message: wire.Message) -> None:
        if isinstance(message, wire.Fetch):
            number = int(message.id)
            task = self.loop.create_task(self._fetch(message))
            self._tasks[number] = task
            task.add_done_callback(lambda _t: self._tasks.pop(number, None))
        elif isinstance(message, wire.Swarmed):
            if not self.swarmed.done():
                self.swarmed.set_result(message)
        elif isinstance(message, wire.Sql | wire.Call | wire.Redis):
            raise wire.ProtocolError(f"a {message.kind} message from a users host")
        else:
            super()._dispatch(message)

    async def _fetch(self, message: wire.Fetch) -> None:
        try:
            await self._answer_fetch(message)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a malformed request from the host: an error for it, never for us
            self.send(wire.Reply(message.id, error={"type": "invalid", "message": f"{type(error).__name__}: {error}"}))

    async def _answer_fetch(self, message: wire.Fetch) -> None:
        method = str(message.method).upper()
        path = str(message.path)
        if not path.startswith("/"):
            self.send(wire.Reply(message.id, error={"type": "invalid", "message": f"not a path: {path[:80]}"}))
            return
        if self.loop.time() >= self.start + self.options.duration or len(self.run.samples) >= self.options.max_requests:
            self.send(wire.Reply(message.id, error={"type": "stop", "message": "the run is over"}))
            return
        headers = [(str(k), str(v)) for k, v in message.headers if str(k).lower() not in _RECOMPUTED]
        authorization = next((v for k, v in headers if k.lower() == "authorization"), None)
        user = self._users.setdefault(authorization or "", len(self._users) + 1)
        timed = await send_timed(
            self.target,
            method,
            path,
            self.options.request_timeout,
            self.check,
            {"headers": dict(headers), "content": bytes(message.body)},
        )
        label = str(message.name) if message.name else path.partition("?")[0]
        self.run.samples.append(
            timed.sample(
                self.start, method, label[:200], path.partition("?")[0], user, "", timed.failure, "", authorization
            )
        )
        if timed.response is None:
            self.send(wire.Reply(message.id, error={"type": "timeout", "message": "no response"}))
            return
        response = timed.response
        value = {
            "status": response.status_code,
            "headers": [[k, v] for k, v in response.headers.multi_items() if k.lower() != "content-encoding"],
            "body": response.content,
        }
        self.send(wire.Reply(message.id, value=value))


@contextlib.asynccontextmanager
async def _users_host(
    world: World, zygote: Zygote, locustfile: Path, target: Client, options: LoadOptions, check: ResponseCheck | None
) -> AsyncIterator[UsersConnection]:
    sock, pid = zygote.fork(locustfile, mode="users")
    loop = asyncio.get_running_loop()
    host = UsersConnection(world, pid, target, options, check)
    await loop.connect_accepted_socket(lambda: host, sock)
    try:
        try:
            loaded = await host.loaded
        except HostFailed as failed:
            raise SubmissionError(f"loading {locustfile.name} failed: {failed}") from None
        if loaded.error:
            raise SubmissionError(loaded.error)
        yield host
    finally:
        await host.close()


async def run_hosted_load(
    world: World,
    zygote: Zygote,
    locustfile: Path,
    target: Client,
    options: LoadOptions,
    check: ResponseCheck | None = None,
    progress: Callable[[LoadRun], None] | None = None,
) -> LoadRun:
    """Run the users of ``locustfile`` (a submission) against ``target``; every sample measured here."""
    async with _users_host(world, zygote, locustfile, target, options, check) as host:
        host.start = host.loop.time()
        host.send(wire.Swarm(options=dataclasses.asdict(options)))

        def users() -> int:  # as many as the world asked for by now (the host says nothing we could trust)
            spawned = math.floor((host.loop.time() - host.start) * options.spawn_rate + 1e-9) + 1
            return min(options.users, spawned) if options.rate is None else 0

        ticker = host.loop.create_task(tick_every_second(host.run, host.start, users, progress))
        limit = options.duration + options.request_timeout + 30.0
        try:
            swarmed = await asyncio.wait_for(asyncio.shield(host.swarmed), limit)
        except TimeoutError:
            raise SubmissionError(
                f"{locustfile.name}'s users did not stop within {limit:g} modeled seconds of a "
                f"{options.duration:g}-second run: does a task loop forever?"
            ) from None
        except HostFailed as failed:
            raise SubmissionError(f"{locustfile.name}'s users host failed: {failed}") from None
        finally:
            ticker.cancel()
        run = host.run
        for entry in swarmed.errors or []:
            if isinstance(entry, list) and len(entry) == 3:
                key = (str(entry[0])[:200], str(entry[1])[:500])
                run.errors[key] = run.errors.get(key, 0) + (int(entry[2]) if isinstance(entry[2], int) else 1)
        run.truncated = run.truncated or len(run.samples) >= options.max_requests
        run.end = max([options.duration, *(s.end for s in run.samples)])
        run.samples.sort(key=lambda s: (s.time, s.user))
        run.users_started = {"": len({s.user for s in run.samples})}
        return run
