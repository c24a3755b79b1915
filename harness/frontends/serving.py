"""`kata serve`: the app under uvicorn, in the simulated world, in real time."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn
from rich.console import Console

from harness.apphost import loader
from harness.catalog import KataError
from harness.spec import WorldOptions
from harness.words import n_queries
from harness.world.measure import MeasuringMiddleware, RequestMetrics
from harness.world.world import World


class _Server(uvicorn.Server):
    """Ctrl+C (or SIGTERM) stops serving; unlike uvicorn's own, the signal is not raised again afterwards,
    so the world closes its database pool in peace instead of being cancelled half-way."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, or one sentence saying why there is none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise KataError(f"cannot listen on {host!r}: {error.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise KataError(
                f"port {port} on {host} is already in use (another kata serve?): choose another with --port {port + 1}"
            ) from None
        raise KataError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return sock


async def serve(
    app_file: Path,
    scale: str,
    host: str,
    port: int,
    console: Console,
    world_options: WorldOptions | None = None,
    announce: Callable[[], None] = lambda: None,
) -> None:
    """Serve until Ctrl+C; print one measured line per request.

    The app is imported and the port taken before ``announce`` runs (once the
    app's startup is done), so a broken app.py or a busy port is reported
    instead of a "listening" line.
    """

    def log(_request_id: str | None, m: RequestMetrics) -> None:
        console.print(
            f"{m.method} {m.path} → {m.status} · {n_queries(len(m.queries))} · "
            f"db {m.db_ms:g} ms · external {m.external_ms:g} ms · transfer {m.transfer_ms:g} ms · "
            f"total {m.total_ms:g} ms" + (f" · [red]{m.error}[/red]" if m.error else "")
        )

    sock = _bind(host, port)
    try:
        options = world_options or WorldOptions()
        world = World.of(options, scale=scale)
        async with world:
            with world.services.mocked():  # the app's partner calls reach the world's services
                app = loader.load_app(app_file)
                measured = MeasuringMiddleware(app, world.network, on_complete=log)
                config = uvicorn.Config(measured, host=host, port=port, log_level="warning", lifespan="on")
                server = _Server(config)

                async def announce_once_started() -> None:
                    while not server.started and not server.should_exit:
                        await asyncio.sleep(0.05)
                    if server.started:
                        announce()

                announcing = asyncio.create_task(announce_once_started())
                await server.serve(sockets=[sock])
                announcing.cancel()
                if not server.started and not server.should_exit:
                    raise KataError(
                        "the app's startup failed (the error is above): look at its lifespan or startup code"
                    )
    finally:
        sock.close()
