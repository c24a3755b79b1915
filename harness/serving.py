"""`kata serve`: the app under uvicorn, in the simulated world, in real time."""

from __future__ import annotations

from pathlib import Path

import uvicorn
from rich.console import Console

from harness import loader
from harness.measure import MeasuringMiddleware, RequestMetrics
from harness.world import World


async def serve(
    app_file: Path, scale: str, host: str, port: int, console: Console, world_options: dict[str, bool] | None = None
) -> None:
    """Serve until interrupted; print one measured line per request."""

    def log(_request_id: str | None, m: RequestMetrics) -> None:
        console.print(
            f"{m.method} {m.path} → {m.status} · {len(m.queries)} queries · db {m.db_ms:g} ms · "
            f"external {m.external_ms:g} ms · transfer {m.transfer_ms:g} ms · total {m.total_ms:g} ms"
            + (f" · [red]{m.error}[/red]" if m.error else "")
        )

    async with World(scale=scale, **(world_options or {})) as world:
        app = loader.load_app(app_file)
        measured = MeasuringMiddleware(app, world.network, on_complete=log)
        config = uvicorn.Config(measured, host=host, port=port, log_level="warning", lifespan="on")
        await uvicorn.Server(config).serve()
