"""Synchronous helpers for tests: an app in a simulated world, on the virtual clock.

    client = WorldClient(Path("app.py"), scale="10x8")
    response = client.get("/organizations/1/dashboard")
    client.close()

The pytest plugin offers it as the ``kata_client`` fixture, for plain (sync)
test functions; ``assert_max_queries`` works around its calls.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from harness.apphost import loader
from harness.world import clock
from harness.world.world import Client, World


class WorldClient:
    """A world and a client into a freshly imported app, kept open until ``close()``."""

    def __init__(self, app_file: Path, scale: str = "10x8") -> None:
        clock._install_thread_accounting()
        self._runner = asyncio.Runner(loop_factory=clock.VirtualTimeLoop)
        self.world = World(scale=scale)
        self._runner.run(self.world.__aenter__())
        self.app = loader.load_app(app_file)
        self._serving = self.world.serve(self.app)
        self._client: Client = self._runner.run(self._serving.__aenter__())

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._runner.run(self._client.request(method, path, **kwargs)).response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def close(self) -> None:
        try:
            self._runner.run(self._serving.__aexit__(None, None, None))
            self._runner.run(self.world.__aexit__(None, None, None))
        finally:
            self._runner.close()
