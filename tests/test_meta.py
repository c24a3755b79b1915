"""The kata's honesty, proven: starters fail, solutions pass, bad fixes fail.

The first test goes through the autograder's entry point (`pytest grading/`
in a subprocess), the rest call the grader directly.
"""

import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections import defaultdict

import corpus
import pytest
from conftest import ROOT
from corpus import assert_verdict

from harness import catalog
from harness.engine import checks, isolation
from harness.frontends import profiling
from harness.world.seed import PUBLIC_SEED, dataset

EXERCISES = catalog.exercises()


def run_grading_suite(target: str, tmp_path, only: str | None = None) -> tuple[int, dict[str, dict[str, bool]]]:
    """`pytest grading --kata-target TARGET` (``only``: that exercise's tests): exit code and
    {exercise: {check: passed}}."""
    junit = tmp_path / f"{target}.xml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "grading",
            "--kata-target",
            target,
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            *(["-k", only] if only else []),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    outcomes: dict[str, dict[str, bool]] = defaultdict(dict)
    for case in ET.parse(junit).getroot().iter("testcase"):
        exercise, check = case.get("name").split("[", 1)[1].rstrip("]").split("::")
        outcomes[exercise][check] = case.find("failure") is None and case.find("error") is None
    return proc.returncode, outcomes


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_starters_fail_and_solutions_pass_through_the_autograder_entry_point(exercise, tmp_path):
    """One exercise at a time, so the workers share them (the load exercises take tens of seconds each)."""
    code, starters = run_grading_suite("exercises", tmp_path, exercise.name)
    assert code == 1
    code, solutions = run_grading_suite("solutions", tmp_path, exercise.name)
    assert code == 0
    assert set(starters) == set(solutions) == {exercise.name}
    for check in checks.checks_of(exercise):
        assert solutions[exercise.name][check.name], f"{exercise.name} solution fails {check.name}"
        if check.guard:
            assert starters[exercise.name][check.name], f"{exercise.name} starter fails guard {check.name}"
        else:
            assert not starters[exercise.name][check.name], f"{exercise.name} starter passes {check.name}"


@pytest.mark.parametrize("name", corpus.sample())
def test_submission_corpus_in_process(name, tmp_path, hosts):
    """The world in this process, the app in app hosts: a sample of the corpus (``corpus.sample``; the whole
    corpus, isolated: tests/test_corpus_isolated.py in `make test-platforms`)."""
    case = corpus.CASES[name]
    assert_verdict(name, checks.grade(catalog.find(case.exercise), corpus.build(name, tmp_path), hosts=hosts))


@pytest.mark.parametrize("name", sorted(n for n, case in corpus.CASES.items() if case.isolated_only))
def test_endless_loops_are_stopped_in_their_own_process(name, tmp_path):
    """The cases that kill or hang the process they run in, through `kata grade`'s isolation (8 s of real
    time). The whole corpus through it: tests/test_corpus_isolated.py (`make test-platforms`)."""
    case = corpus.CASES[name]
    tree = corpus.build(name, tmp_path / name)
    limits = isolation.Limits(wall_seconds=8)
    assert_verdict(
        name, isolation.grade_isolated(catalog.find(case.exercise), tree, checks.DEFAULT_HIDDEN_SEED, limits)
    )


def test_every_guard_is_failed_by_some_bad_submission():
    caught = {
        (catalog.find(case.exercise).name, check)
        for case in corpus.CASES.values()
        if case.must_fail not in (corpus.ALL, corpus.STARTER)
        for check in case.must_fail
    }
    caught.add(("01_dashboard_n_plus_one", "correct"))  # the hard-coded dashboard below
    for exercise in EXERCISES:
        for check in checks.checks_of(exercise):
            if check.guard:
                assert (exercise.name, check.name) in caught, f"no bad submission fails {exercise.name} {check.name}"


def test_a_dashboard_hard_coded_from_the_public_data_fails(tmp_path, hosts):
    """Zero queries and zero calls, perfect on the public seed: wrong on hidden data."""
    from grading.ex01_dashboard_n_plus_one import reference

    public = dataset("10x8", PUBLIC_SEED)
    answers = {org_id: reference(public, f"/organizations/{org_id}/dashboard")[1] for org_id in (1, 2, 3, 4)}
    folder = tmp_path / "01_dashboard_n_plus_one"
    folder.mkdir()
    (folder / "app.py").write_text(
        textwrap.dedent(f"""
        import json
        from fastapi import FastAPI, HTTPException

        app = FastAPI()
        ANSWERS = json.loads({json.dumps(json.dumps(answers))})

        @app.get("/organizations/{{org_id}}/dashboard")
        async def dashboard(org_id: int):
            if str(org_id) not in ANSWERS:
                raise HTTPException(404)
            return ANSWERS[str(org_id)]
    """)
    )
    report = checks.grade(catalog.find("01"), tmp_path, hosts=hosts)
    assert not report.passed
    correct = report.result("correct")
    assert not correct.passed and "hidden data" in correct.message
    assert report.result("query_budget").passed  # fast, and still wrong


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_recorded_baselines_match_the_pristine_starters(exercise):
    baseline = exercise.spec.baseline
    assert baseline, f"{exercise.name}/exercise.toml records no [baseline]"
    for scale, recorded in baseline.items():
        if scale == "load":  # the starter under load: tests/test_load_baseline.py (make test-platforms)
            continue
        measured = profiling.profile(exercise, exercise.app_file(catalog.CATALOG_DIR), scale).to_dict()
        drift = {k: (v, measured[k]) for k, v in recorded.items() if measured[k] != v}
        assert not drift, f"{exercise.name} at {scale}: recorded vs measured {drift}"
