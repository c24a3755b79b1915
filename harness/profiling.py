"""`kata profile`: one request of an exercise, measured, as data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import clock, loader
from harness.catalog import Exercise
from harness.checks import profile_request, profile_scale
from harness.measure import RequestMetrics
from harness.seed import PUBLIC_SEED
from harness.world import World


@dataclass
class Profile:
    exercise: Exercise
    app_file: Path
    scale: str
    method: str
    path: str
    status: int
    metrics: RequestMetrics

    def to_dict(self) -> dict[str, Any]:
        m = self.metrics
        return {
            "exercise": self.exercise.name,
            "request": f"{self.method} {self.path}",
            "status": self.status,
            "scale": self.scale,
            **m.summary(),
            "fingerprints": m.fingerprints(),
            "calls": [
                {
                    "service": c.service,
                    "url": c.url,
                    "start_ms": round((c.start - m.start) * 1000, 3),
                    "end_ms": round((c.end - m.start) * 1000, 3),
                    "outcome": c.outcome,
                }
                for c in m.calls
            ],
            "clients_created": m.clients_created,
            "error": m.error,
        }


async def _measure(
    exercise: Exercise, app_file: Path, method: str, path: str, headers: dict[str, str], scale: str, seed: int
):
    async with World(scale=scale, seed=seed, **exercise.world_options()) as world:
        app = loader.load_app(app_file)
        async with world.serve(app) as client:
            return await client.request(method, path, headers=headers)


def profile(exercise: Exercise, app_file: Path, scale: str | None = None, seed: int = PUBLIC_SEED) -> Profile:
    """Measure the exercise's profile request once on the virtual clock."""
    method, path, headers = profile_request(exercise)
    scale = scale or profile_scale(exercise)
    loader.load_app(app_file)  # one clear sentence if it does not import
    exchange = clock.run(_measure(exercise, app_file, method, path, headers, scale, seed))
    return Profile(exercise, app_file, scale, method, path, exchange.response.status_code, exchange.metrics)
