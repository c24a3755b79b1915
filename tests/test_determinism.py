"""Modeled numbers do not depend on the machine's load (no wall clock in grading).

In `make test-platforms`: each test keeps both cores busy for a minute or two, which would slow
every other test of `make test` with it.
"""

import json
import sys
from pathlib import Path

from harness import catalog
from harness.engine import autograde, checks
from harness.frontends import profiling

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from load import CpuLoad  # noqa: E402


def test_metrics_are_identical_across_runs_while_every_core_is_busy(hosts):
    with CpuLoad(seconds=120):
        solutions = catalog.resolve_target("solutions")
        graded = {checks.grade(catalog.find("02"), solutions, hosts=hosts).to_json() for _ in range(20)}
        starter = catalog.find("01")
        profiles = {
            str(profiling.profile(starter, starter.app_file(catalog.CATALOG_DIR), "10x8").to_dict()) for _ in range(5)
        }
    assert len(graded) == 1
    assert len(profiles) == 1


def test_scores_are_identical_over_ten_runs_with_every_core_busy():
    """10 runs of 01 and 02 (benchmarks/check_determinism.py does any exercise, through the CLI)."""
    seen = set()
    some = [catalog.find(number) for number in ("01", "02")]
    with CpuLoad(seconds=300):
        for _ in range(10):
            graded = autograde.grade_submission(
                catalog.resolve_target("solutions"), some, checks.DEFAULT_HIDDEN_SEED, jobs=2
            )
            seen.add(
                json.dumps(
                    [
                        (g.score, [(r.name, r.passed, r.message) for r in g.report.checks], g.report.metrics)
                        for g in graded
                    ]
                )
            )
    assert len(seen) == 1
