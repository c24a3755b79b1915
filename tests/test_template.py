"""`kata student-template`: the repository a course hands out, and what it must not contain."""

import os
import subprocess

from conftest import ROOT, fresh_clone, git, kata, run_kata


def make_template(home, out, *args: str, seed: str = "98765") -> subprocess.CompletedProcess:
    # the course's seed is set where the template is made: it must not reach the template
    return run_kata("student-template", str(out), *args, cwd=home, home=home, env={"KATA_HIDDEN_SEED": seed})


def test_the_student_template_has_the_exercises_and_nothing_of_the_course(tmp_path):
    home = fresh_clone(tmp_path / "course-kata")
    # The course tried exercise 01 and committed it, and has an uncommitted edit of 03: students get neither.
    solution = (ROOT / "solutions" / "01_dashboard_n_plus_one" / "app.py").read_bytes()
    (home / "exercises" / "01_dashboard_n_plus_one" / "app.py").write_bytes(solution)
    git(home, "commit", "-qam", "our own attempt")
    (home / "exercises" / "03_graceful_degradation" / "app.py").write_text("# local tweak\n")
    out = tmp_path / "template"
    proc = make_template(home, out)
    assert proc.returncode == 0, proc.stderr
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and ".git/" not in p.as_posix()}
    assert {
        "exercises/01_dashboard_n_plus_one/app.py",
        "harness/frontends/cli.py",
        "grading/ex01_dashboard_n_plus_one.py",
        "Makefile",
        "pyproject.toml",
        "README.md",
        ".github/workflows/classroom.yml",
    } <= files
    assert not [f for f in files if f.startswith(("solutions/", "tests/", "autograder/gradescope/", ".ci/"))]
    for name in files:
        assert b"98765" not in (out / name).read_bytes(), f"{name} holds the course's hidden seed"
        assert (out / name).read_bytes() != solution, f"{name} is a solution"
    for number in ("01", "03"):
        name = next(p for p in (ROOT / "exercises").iterdir() if p.name.startswith(number)).name
        assert (out / "exercises" / name / "app.py").read_bytes() == (ROOT / "exercises" / name / "app.py").read_bytes()
    readme = (out / "README.md").read_text()
    assert "## For students" in readme and "## For course staff" not in readme
    assert "make test" not in readme and "the solution passes" not in readme
    # A git repository whose history holds the starters (kata reset takes them from there).
    log = subprocess.run(["git", "-C", str(out), "log", "--oneline"], capture_output=True, text=True)
    assert log.returncode == 0 and len(log.stdout.splitlines()) == 1
    status = subprocess.run(["git", "-C", str(out), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout == ""
    # It works as a student's checkout: its own harness, its own exercises, no word of solutions.
    check = subprocess.run(
        kata("check", "02"),
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(out), "KATA_HOME": str(out)},
    )
    assert check.returncode == 1 and "external_time" in check.stdout, check.stdout + check.stderr
    assert "solutions" not in check.stdout
    make = subprocess.run(["make", "-C", str(out), "kata-tests"], capture_output=True, text=True)
    assert make.returncode != 0 and "kata check NN" in make.stdout
    # make student-template twice: the second writes over the first
    again = make_template(home, out, "--replace")
    assert again.returncode == 0, again.stderr


def test_the_template_never_writes_over_other_files(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("mine")
    for args in ((), ("--replace",)):
        proc = make_template(ROOT, tmp_path / "full", *args)
        assert proc.returncode == 2 and "is not empty" in proc.stderr
    assert (tmp_path / "full" / "x").read_text() == "mine"
