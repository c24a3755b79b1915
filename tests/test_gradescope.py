"""The Gradescope autograder as Gradescope runs it: the real zip, a real /autograder, setup.sh, run_autograder.

Gradescope unpacks the zip into /autograder/source, runs setup.sh there as
root, then, for each upload put in /autograder/submission, runs its copy of
run_autograder and reads /autograder/results/results.json. This test does the
same on this machine (no override variable), so it needs root and a machine
without /autograder: CI is one.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT

from harness import catalog

AUTOGRADER = "/autograder"
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or os.path.exists(AUTOGRADER),
    reason="needs root and a machine without /autograder (CI runs it as root): it builds a real /autograder",
)


def _run(*command: str, timeout: float = 900) -> subprocess.CompletedProcess:
    # Gradescope's environment, not this test's virtualenv: PATH without .venv/bin, no KATA_* settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KATA_", "VIRTUAL_ENV", "PYTEST"))}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix) and ".venv" not in p
    )
    return subprocess.run(list(command), cwd="/", capture_output=True, text=True, timeout=timeout, env=env)


def _upload(tree_of) -> None:
    """Put an upload in /autograder/submission (Gradescope starts each run with a fresh one)."""
    submission = os.path.join(AUTOGRADER, "submission")
    shutil.rmtree(submission, ignore_errors=True)
    os.makedirs(submission)
    tree_of(submission)
    shutil.rmtree(os.path.join(AUTOGRADER, "results"), ignore_errors=True)


def _results() -> dict:
    with open(os.path.join(AUTOGRADER, "results", "results.json")) as file:
        return json.load(file)


def test_the_zip_as_gradescope_runs_it(tmp_path):
    archive = tmp_path / "autograder.zip"
    built = subprocess.run(
        [
            sys.executable,
            str(ROOT / "autograder" / "gradescope" / "build_zip.py"),
            str(archive),
            "--hidden-seed",
            "4711",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        assert {"setup.sh", "run_autograder", "Makefile", "pyproject.toml", "kata-hidden-seed"} <= names
        assert not any(name.startswith("source/") for name in names)
    try:
        source = os.path.join(AUTOGRADER, "source")
        os.makedirs(source)
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():  # zipfile drops the modes: keep the executable bits as unzip does
                path = zipped.extract(info, source)
                os.chmod(path, (info.external_attr >> 16) & 0o777 or 0o644)
        setup = _run("bash", os.path.join(source, "setup.sh"))
        assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
        shutil.copy(os.path.join(source, "run_autograder"), os.path.join(AUTOGRADER, "run_autograder"))
        run_autograder = os.path.join(AUTOGRADER, "run_autograder")

        # The reference solutions, handed in as a repository: full marks.
        def solutions(submission: str) -> None:
            for exercise in catalog.exercises():
                folder = os.path.join(submission, "exercises", exercise.name)
                shutil.copytree(exercise.folder, folder, ignore=shutil.ignore_patterns("__pycache__"))
                shutil.copy(ROOT / "solutions" / exercise.name / exercise.work_file, folder)

        _upload(solutions)
        graded = _run(run_autograder)
        assert graded.returncode == 0, graded.stderr[-3000:]
        results = _results()
        assert results["score"] == results["max_score"] == 10 * len(catalog.exercises()), results.get("output")
        with open(os.path.join(AUTOGRADER, "results", "report.json")) as file:
            assert json.load(file)["hidden_seed"] == 4711  # the zip's own seed, not the public default

        # The repository zipped with its folder around it (kata-main/exercises/...): found one folder deeper.
        def wrapped(submission: str) -> None:
            folder = os.path.join(submission, "kata-main", "exercises", "02_sequential_calls")
            shutil.copytree(
                ROOT / "exercises" / "02_sequential_calls", folder, ignore=shutil.ignore_patterns("__pycache__")
            )
            shutil.copy(ROOT / "solutions" / "02_sequential_calls" / "app.py", folder)

        _upload(wrapped)
        assert _run(run_autograder).returncode == 0
        assert _results()["score"] == 10

        # Nothing gradable: a zero, with the reason where the student sees it.
        _upload(lambda submission: None)
        assert _run(run_autograder).returncode == 0
        results = _results()
        assert results["score"] == 0 and "the submission is empty" in results["output"]
        assert results.get("visibility", "visible") == "visible"
    finally:
        shutil.rmtree(AUTOGRADER, ignore_errors=True)
