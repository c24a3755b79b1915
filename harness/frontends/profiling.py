"""`kata profile`: one request of an exercise, measured, as data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.apphost import loader
from harness.catalog import Exercise
from harness.engine.checks import profile_request, profile_scale, profile_warm_up, send_profile_request
from harness.world import clock
from harness.world.measure import RequestMetrics
from harness.world.seed import PUBLIC_SEED
from harness.world.world import RequestHung, World


@dataclass
class Profile:
    exercise: Exercise
    app_file: Path
    scale: str
    method: str
    path: str
    status: int | None  # None: the request never finished (a hanging call without a timeout)
    metrics: RequestMetrics
    faults: dict[str, str] | None = None  # service -> "fail" | "hang"
    hung: str | None = None
    warm_up: int = 0  # identical requests sent before the measured one

    def baseline(self) -> Mapping[str, float] | None:
        """The pristine starter's recorded numbers at this scale (exercise.toml), for before/after."""
        return self.exercise.spec.baseline.get(self.scale)

    def to_dict(self) -> dict[str, Any]:
        m = self.metrics
        return {
            "exercise": self.exercise.name,
            "request": f"{self.method} {self.path}",
            "status": self.status,
            "scale": self.scale,
            **({"faults": self.faults} if self.faults else {}),
            **({"hung": self.hung} if self.hung else {}),
            **({"warm_up": self.warm_up} if self.warm_up else {}),
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
        } | ({"baseline": dict(baseline)} if (baseline := self.baseline()) else {})


async def _measure(
    exercise: Exercise, app: Any, scale: str, seed: int, faults: dict[str, str], warm_up: int
) -> tuple[int | None, RequestMetrics, str | None]:
    """The app in this process: a profile is the student's own tool, not a grade (the numbers are the same)."""
    world = World.of(exercise.spec.world, scale=scale, seed=seed)
    async with world:
        for service, fault in faults.items():
            getattr(world.services[service], fault)()
        async with world.serve(app) as client:
            try:
                exchange = await send_profile_request(client, exercise, warm_up)
            except RequestHung as hung:
                if hung.metrics is None:
                    raise
                return None, hung.metrics, str(hung)
            return exchange.response.status_code, exchange.metrics, None


def profile(
    exercise: Exercise,
    app_file: Path,
    scale: str | None = None,
    seed: int = PUBLIC_SEED,
    faults: dict[str, str] | None = None,
    cold: bool = False,
) -> Profile:
    """Measure the exercise's profile request once on the virtual clock.

    ``faults`` breaks services first, e.g. ``{"weather": "hang"}``: the
    waterfall then shows the failed or timed-out call. ``cold`` skips the
    exercise's warm-up requests (a cache's first, missing request).
    """
    method, path, headers = profile_request(exercise)
    scale = scale or profile_scale(exercise)
    faults = dict(faults or {})
    warm_up = 0 if cold else profile_warm_up(exercise)
    app = loader.load_app(app_file)  # one clear sentence if it does not import
    status, metrics, hung = clock.run(_measure(exercise, app, scale, seed, faults, warm_up))
    return Profile(exercise, app_file, scale, method, path, status, metrics, faults or None, hung, warm_up)
