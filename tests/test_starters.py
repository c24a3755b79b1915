"""The pristine starters: recorded by git blob id, restored whatever a working copy holds."""

import shutil
from pathlib import Path

from conftest import ROOT, git, run_kata

from harness import catalog
from harness.frontends import starters


def test_every_exercise_records_its_starter():
    for exercise in catalog.exercises():
        data = (exercise.folder / exercise.work_file).read_bytes()
        assert starters.recorded_blob(exercise) == starters.blob_id(data), (
            f"{exercise.name}: the starter changed; record it in exercise.toml: "
            f'starter_blob = "{starters.blob_id(data)}"'
        )


def students_repository(tmp_path: Path) -> Path:
    """A repository made from the course template (one commit with the starters), then the student's commits."""
    repo = tmp_path / "student"
    shutil.copytree(ROOT / "exercises", repo / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Initial commit")
    return repo


def test_reset_restores_the_pristine_starter_after_the_student_committed(tmp_path):
    repo = students_repository(tmp_path)
    work_file = repo / "exercises" / "02_sequential_calls" / "app.py"
    mine = (ROOT / "solutions" / "02_sequential_calls" / "app.py").read_text()
    work_file.write_text(mine)
    git(repo, "commit", "-q", "-am", "my fix")
    proc = run_kata("reset", "02", cwd=tmp_path, home=repo)
    assert proc.returncode == 0, proc.stderr
    assert "Restored the pristine starter" in proc.stdout
    assert work_file.read_bytes() == (ROOT / "exercises" / "02_sequential_calls" / "app.py").read_bytes()
    backups = list((tmp_path / "state" / "backups" / "02_sequential_calls").iterdir())
    assert [b.read_text() for b in backups] == [mine]


def test_reset_without_the_starter_in_history_says_so(tmp_path):
    home = tmp_path / "home-without-git"
    shutil.copytree(ROOT / "exercises", home / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    (home / "exercises" / "01_dashboard_n_plus_one" / "app.py").write_text("# mine\n")
    proc = run_kata("reset", "01", cwd=tmp_path, home=home)
    assert proc.returncode == 2
    assert "the pristine starter (git blob" in proc.stderr and "Traceback" not in proc.stderr


def test_compare_diffs_against_the_pristine_starter_not_the_working_copy(tmp_path):
    """The instructor tried exercise 01 in their own copy; a student who did not touch it is 'unchanged'."""
    repo = students_repository(tmp_path)  # the instructor's checkout of the kata
    (repo / "exercises" / "01_dashboard_n_plus_one" / "app.py").write_text("# the instructor's own attempt\n")
    student = tmp_path / "alice"
    shutil.copytree(
        ROOT / "exercises" / "01_dashboard_n_plus_one",
        student / "exercises" / "01_dashboard_n_plus_one",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    proc = run_kata("compare", str(student), "--exercise", "01", "--diff", cwd=tmp_path, home=repo)
    assert proc.returncode == 0, proc.stderr
    assert "alice/01_dashboard_n_plus_one: unchanged" in proc.stdout
    assert "instructor's own attempt" not in proc.stdout
