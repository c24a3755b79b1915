"""`kata student-template`: the repository a course hands out, and what it must not contain."""

import os
import subprocess

from conftest import ROOT, kata


def test_the_student_template_has_the_exercises_and_nothing_of_the_course(tmp_path):
    out = tmp_path / "template"
    env = {**os.environ, "KATA_HIDDEN_SEED": "98765"}  # the course's seed, set where the template is made
    proc = subprocess.run(
        kata("student-template", str(out)), cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 0, proc.stderr
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and ".git/" not in p.as_posix()}
    assert {
        "exercises/01_dashboard_n_plus_one/app.py",
        "harness/cli.py",
        "grading/ex01_dashboard_n_plus_one.py",
        "Makefile",
        "pyproject.toml",
        "README.md",
        ".github/workflows/classroom.yml",
    } <= files
    assert not [f for f in files if f.startswith(("solutions/", "tests/", "autograder/gradescope/", ".ci/"))]
    for name in files:
        text = (out / name).read_bytes()
        assert b"98765" not in text, f"{name} holds the course's hidden seed"
    solution = (ROOT / "solutions" / "01_dashboard_n_plus_one" / "app.py").read_bytes()
    assert all((out / name).read_bytes() != solution for name in files)
    readme = (out / "README.md").read_text()
    assert "## For students" in readme and "## For course staff" not in readme
    # A git repository whose history holds the starters (kata reset takes them from there).
    log = subprocess.run(["git", "-C", str(out), "log", "--oneline"], capture_output=True, text=True)
    assert log.returncode == 0 and len(log.stdout.splitlines()) == 1
    # It works as a student's checkout: its own harness, its own exercises.
    check = subprocess.run(
        kata("check", "02"),
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(out), "KATA_HOME": str(out)},
    )
    assert check.returncode == 1 and "external_time" in check.stdout, check.stdout + check.stderr
    assert str(out / "exercises" / "02_sequential_calls" / "app.py") in check.stdout
    make = subprocess.run(["make", "-C", str(out), "kata-tests"], capture_output=True, text=True)
    assert make.returncode != 0 and "kata check NN" in make.stdout


def test_the_template_folder_must_be_new(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("mine")
    proc = subprocess.run(
        kata("student-template", str(tmp_path / "full")), cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and "is not empty" in proc.stderr
    assert (tmp_path / "full" / "x").read_text() == "mine"
