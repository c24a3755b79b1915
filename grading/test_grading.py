"""The grading suite: one test per check of every exercise.

pytest grading/                           grade exercises/ (your work)
pytest grading/ --kata-target solutions   grade another tree
pytest grading/ -k 01                     one exercise
"""

from collections.abc import Callable

import pytest

from harness import catalog
from harness.engine import checks

CASES = [
    pytest.param(exercise.name, check.name, id=f"{exercise.name}::{check.name}")
    for exercise in catalog.exercises()
    for check in checks.checks_of(exercise)
]


@pytest.mark.parametrize(("exercise", "check"), CASES)
def test_check(kata_report: Callable[[str], checks.Report], exercise: str, check: str) -> None:
    result = kata_report(exercise).result(check)
    assert result.passed, f"{exercise} {check}: {result.message}"
