"""Modeled numbers do not depend on the machine's load (no wall clock in grading)."""

import sys
from pathlib import Path

from harness import catalog
from harness.engine import checks
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
