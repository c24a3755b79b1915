"""The app host's end of the connection to the world."""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import os
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

from harness import wire
from harness.apphost.loop import HostLoop

# The world's number of the request this code runs for (inherited by the tasks it starts).
current_request: contextvars.ContextVar[int | None] = contextvars.ContextVar("kata_host_request", default=None)


class WorldError(Exception):
    """The world answered a request with an error: ``kind`` and ``text`` as the world said."""

    def __init__(self, kind: str, text: str) -> None:
        super().__init__(text)
        self.kind = kind
        self.text = text


class Channel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        # Non-blocking: the loop's reader may find that a blocking wait (``ask_sync``) already took the data.
        sock.setblocking(False)
        self._framer = wire.Framer()
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._last_idle: tuple[int, float | None] | None = None
        self._outbox: list[bytes] = []
        self._sent_since_idle = False
        # The world's messages in whole batches (each ends with ``End``): read when they arrive, run only
        # when the loop has nothing else to do, so what runs when never depends on real time.
        self._partial: list[wire.Message] = []
        self._complete: list[wire.Message] = []
        self._complete_seq: int | None = None
        self.seen = 0
        self.loop: HostLoop | None = None
        self.handlers: dict[type[wire.Message], Callable[[Any], None]] = {}

    def attach(self, loop: HostLoop) -> None:
        self.loop = loop
        loop.on_quiet = self.deliver
        loop.on_wait = self.wait_for_world

    def send(self, message: wire.Message) -> None:
        """Queue ``message``: the loop sends what is queued before it next waits (``flush``), so a
        statement and the idle that follows it travel as one write, and wake the world once."""
        self._outbox.append(wire.encode(message))
        self._sent_since_idle = True

    def flush(self) -> None:
        if not self._outbox:
            return
        data, self._outbox = memoryview(b"".join(self._outbox)), []
        while data:
            try:
                data = data[self.sock.send(data) :]
            except BlockingIOError:
                select.select([], [self.sock], [])  # the world reads all the time: room comes soon

    def next_id(self) -> int:
        return next(self._ids)

    async def ask(self, make: Callable[[int], wire.Message], number: int | None = None) -> Any:
        """Send the message ``make(id)`` and wait for the world's reply; ``WorldError`` if it reports one."""
        assert self.loop is not None
        number = self.next_id() if number is None else number
        future: asyncio.Future[Any] = self.loop.create_future()
        self._waiting[number] = future
        self.send(make(number))
        try:
            reply: wire.Reply = await future
        finally:
            self._waiting.pop(number, None)
        if reply.error is not None:
            raise WorldError(str(reply.error.get("type", "")), str(reply.error.get("message", "")))
        return reply.value

    def idle(self, next_timer: float | None) -> None:
        """Nothing left to run: say so (it also ends the batch of what this host sent), and send it all."""
        state = (self.seen, next_timer)
        if state != self._last_idle or self._sent_since_idle:
            self._last_idle = state
            self._outbox.append(wire.encode(wire.Idle(self.seen, next_timer)))
            self._sent_since_idle = False
        self.flush()

    def _read(self, wait: bool = False) -> None:
        """Take what has arrived into batches (``wait``: block until something has)."""
        if wait:
            select.select([self.sock], [], [])
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return
        if not data:
            os._exit(0)  # the world is gone: nothing left to serve
        for frame in self._framer.feed(data):
            message, t, seq = wire.decode(frame)
            if t is not None and self.loop is not None:
                self.loop.set_time(t)
            if isinstance(message, wire.End):
                self._complete.extend(self._partial)
                self._partial = []
                self._complete_seq = seq
            else:
                self._partial.append(message)

    def deliver(self) -> bool:
        """Run every whole batch that has arrived; False if there was none."""
        self._read()
        if self._complete_seq is None:
            return False
        batch, self._complete = self._complete, []
        self.seen, self._complete_seq = self._complete_seq, None
        for message in batch:
            self._dispatch(message)
        return True

    def wait_for_world(self) -> None:
        """Block until a whole batch of the world's has arrived."""
        while self._complete_seq is None:
            self._read(wait=True)

    def _dispatch(self, message: wire.Message) -> None:
        if isinstance(message, wire.Reply):
            future = self._waiting.get(message.id)
            if future is not None and not future.done():
                future.set_result(message)
            return
        handler = self.handlers.get(type(message))
        if handler is not None:
            handler(message)

    def ask_sync(self, make: Callable[[int, bool], wire.Message]) -> Any:
        """``ask`` from synchronous code: ``make(id, blocking)``.

        On the loop's own thread the whole host waits for the reply (``blocking``: the
        world knows the host is blocked, and moves its clock meanwhile). On a worker
        thread only that thread waits, holding nothing: the loop runs on.
        """
        loop = self.loop
        assert loop is not None
        if threading.get_ident() != loop.thread_id:

            async def asked() -> Any:
                # On the loop's thread: the waiting thread holds nothing from here until the answer is in,
                # and holds again before it runs on, so the host never looks idle while it has work.
                loop.release_thread()
                try:
                    return await self.ask(lambda id: make(id, False))
                finally:
                    loop.hold_thread()

            return asyncio.run_coroutine_threadsafe(asked(), loop).result()
        number = self.next_id()
        self.send(make(number, True))  # a blocking message ends this host's batch: the world runs it now
        self._sent_since_idle = False
        self.flush()
        reply: wire.Reply | None = None
        while reply is None:
            self._read(wait=True)
            for queue in (self._complete, self._partial):
                for message in queue:
                    if isinstance(message, wire.Reply) and message.id == number:
                        reply = message
                        queue.remove(message)  # the rest runs after the wait, at the next quiet moment
                        break
                if reply is not None:
                    break
        if reply.error is not None:
            raise WorldError(str(reply.error.get("type", "")), str(reply.error.get("message", "")))
        return reply.value

    def block(self, seconds: float) -> None:
        """Modeled blocking work: this thread (and, on the loop's thread, the whole host) waits ``seconds``."""
        self.ask_sync(lambda id, blocking: wire.Block(id, seconds, blocking))
