"""GitHub Classroom: points per exercise in the runner-result format of its grading reporter.

`classroom-resources/autograding-grading-reporter` reads, for each runner id
listed in its ``runners`` input, the environment variable ``<ID>_RESULTS``: a
base64-encoded JSON object ``{"version", "status", "max_score", "tests": [{"name",
"status", "score", "message", ...}]}``. It sums the tests' ``score`` over the
runners' ``max_score`` and posts the total to the Classroom dashboard.
`kata grade --github-output "$GITHUB_OUTPUT"` writes one such output per
exercise (``ex01`` ...), which the workflow hands to the reporter.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from harness.engine.results import Graded


def runner_id(graded: Graded) -> str:
    return f"ex{graded.exercise.number}"


def runner_result(graded: Graded) -> dict[str, Any]:
    """One exercise as one runner: a test per check, with the points `kata grade` gives it."""
    report = graded.report
    tests = [
        {
            "name": f"{graded.exercise.name} · {result.name}",
            "status": "pass" if result.passed else "fail",
            "score": entry["score"],
            "message": entry["output"],
            "test_code": f"kata check {graded.exercise.number}",
            "filename": f"exercises/{graded.exercise.name}/{graded.exercise.work_file}",
            "line_no": 0,
            "execution_time": f"{entry['execution_time']:g}s",
        }
        for result, entry in zip(report.checks, graded.scored(), strict=True)
    ]
    status = "error" if report.error else ("pass" if report.passed else "fail")
    return {"version": 1, "status": status, "max_score": graded.max_score, "tests": tests}


def encode(result: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(result).encode()).decode()


def write_outputs(path: Path, graded: list[Graded]) -> list[str]:
    """Append ``exNN=<base64>`` lines to ``path`` ($GITHUB_OUTPUT); returns the runner ids."""
    with path.open("a") as out:
        for g in graded:
            out.write(f"{runner_id(g)}={encode(runner_result(g))}\n")
    return [runner_id(g) for g in graded]
