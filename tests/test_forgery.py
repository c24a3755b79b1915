"""No submission can give itself a grade: every forgery scores no more than the plain starter.

The forgeries run where a submission runs, in an app host; the checks, the
measurements and the report live in the world, which never runs submission
code. Two sets: ``tests/forgery.py`` (the starter plus code that claims a
pass) and ``tests/forgeries/`` (whole apps from a red-team session: work
hidden from the world's accounting, native code, ``dir_fd`` and ``/proc``
tricks, state shared between worlds, answers that differ by scale).
Graded through both front-ends: `kata check` (the student's) here, and `kata
grade` on a class of all of them (course staff's) in tests/test_forgery_class.py
(`make test-platforms`).
"""

from __future__ import annotations

import hashlib
import json
import secrets

import forgery
import pytest
from conftest import ROOT, run_kata

FORGERIES = sorted((ROOT / "tests" / "forgeries").glob("*.py"))
GRADER_FILES = [ROOT / "grading" / "ex01_dashboard_n_plus_one.py", ROOT / "harness" / "engine" / "checks.py"]


def _digests() -> dict[str, str]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in GRADER_FILES}


# As on Gradescope, the hidden seed is a secret (the default one, 2026, is in the repository for everyone).
SECRET = {"KATA_HIDDEN_SEED": str(secrets.randbelow(10**9) + 10_000)}


def _check(tree) -> dict:
    proc = run_kata("check", "01", "--path", str(tree), "--json", timeout=180, env=SECRET)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def starter(tmp_path_factory) -> dict:
    tree = tmp_path_factory.mktemp("starter")
    (tree / forgery.EXERCISE.name).mkdir()
    (tree / forgery.EXERCISE.name / "app.py").write_text((forgery.EXERCISE.folder / "app.py").read_text())
    return _check(tree)


def _no_better(forged: dict, plain: dict, name: str) -> None:
    assert forged["score"] <= plain["score"], f"{name}: {forged['score']} > {plain['score']}"
    for mine, theirs in zip(forged["checks"], plain["checks"], strict=True):
        assert mine["name"] == theirs["name"]
        # A check may pass uncounted (an app that died ran 0 queries), never earn points the starter does not.
        assert mine["points"] <= theirs["points"], f"{name} earns {mine['name']}: {mine['message']}"
    assert not forged["passed"]


# Every forgery goes through `kata grade` (test_forgery_class.py); these also through `kata check`, the student's.
@pytest.mark.parametrize("name", ["every_descriptor", "forged_world_messages", "attack_the_world_process"])
def test_kata_check_gives_a_forgery_no_more_than_the_starter(name, starter, tmp_path):
    before = _digests()
    forged = _check(forgery.build(name, tmp_path / "tree"))
    assert _digests() == before, f"{name} changed the grader's files"
    _no_better(forged, starter, name)
    assert starter["score"] == 0 and starter["checks"][0]["passed"]  # the comparison means something
