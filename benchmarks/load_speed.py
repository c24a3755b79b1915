"""The load runner against real time: one modeled run next to real Locust, and how much each varies.

.venv/bin/python benchmarks/load_speed.py [NN] [--path solutions] [--users 50] [--duration 60]
                                          [--runs 10] [--locust-runs 3] [--cpu-load]

- the kata's run (the exercise's locustfile, e.g. the capstone's `between(1, 3)`): its wall time for the
  modeled duration, and the ratio (goal for the 60 s, 50-user capstone: <= 12 s wall, at least 5x real time);
- the same run ``--runs`` times (``--cpu-load``: with every core busy meanwhile): how many distinct results;
- real Locust ``--locust-runs`` times against `kata serve NN` for the same duration of real time: the spread
  of its p95, next to ours.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from load import CpuLoad  # noqa: E402

from harness import catalog  # noqa: E402
from harness.frontends import loading, locust_real  # noqa: E402
from harness.world.load import LoadOptions  # noqa: E402
from harness.world.loadstats import summary, total  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("exercise", nargs="?", default="14")
    parser.add_argument("--path", default="solutions")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--locust-runs", type=int, default=3)
    parser.add_argument("--cpu-load", action="store_true", help="keep every core busy during the kata's runs")
    args = parser.parse_args()

    exercise = catalog.find(args.exercise)
    tree = catalog.resolve_target(ROOT / args.path)
    app = exercise.app_file(tree)
    scenario, trusted = loading.scenario_file(exercise, tree, None)
    options = LoadOptions(
        users=args.users, spawn_rate=loading.default_options(exercise).spawn_rate, duration=args.duration
    )
    scale = loading.default_scale(exercise)
    print(f"{exercise.name} ({args.path}), {scenario.name}: {args.users} users, {args.duration:g} modeled s")

    walls, results = [], []
    with CpuLoad(seconds=3600) if args.cpu_load else _nothing():
        for _ in range(args.runs):
            start = time.perf_counter()
            run = loading.run(exercise, app, options, scale, scenario, trusted)
            walls.append(time.perf_counter() - start)
            results.append(str(summary(run, exercise.name)))
    mine = total(run)
    print(
        f"kata: {len(run.samples)} requests, p50 {mine.percentiles[0.5]:.1f} ms, p95 {mine.percentiles[0.95]:.1f} ms, "
        f"failures {mine.failures}; wall {statistics.median(walls):.2f} s median of {len(walls)} "
        f"(min {min(walls):.2f}, max {max(walls):.2f}): {args.duration / statistics.median(walls):.1f}x real time"
    )
    print(
        f"kata: {len(set(results))} distinct result(s) in {len(results)} runs"
        + (" with every core busy" if args.cpu_load else "")
    )

    p95s = []
    for number in range(args.locust_runs):
        with locust_real.served(exercise, tree, scale) as server:
            start = time.perf_counter()
            real = locust_real.run_locust(scenario, server.url, args.users, options.spawn_rate, args.duration)
            wall = time.perf_counter() - start
        p95s.append(real.total.percentiles[0.95])
        print(
            f"Locust run {number + 1}: {real.total.requests} requests, p50 {real.total.percentiles[0.5]} ms, "
            f"p95 {real.total.percentiles[0.95]} ms, failures {real.total.failures}; wall {wall:.1f} s"
        )
    if p95s:
        print(
            f"Locust p95 over {len(p95s)} runs: {min(p95s)}-{max(p95s)} ms (spread {max(p95s) - min(p95s)} ms); "
            f"kata p95: {mine.percentiles[0.95]:.1f} ms in every run"
        )
    return 0


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main())
