"""`kata student-template`: the repository a course hands out (a GitHub Classroom template).

It holds what a student works with: the exercises, the harness and its checks
(`kata check` runs them), the build files, a README for students, and the
GitHub Classroom workflow. It leaves out what belongs to the course: the
reference solutions, the kata's own tests and corpus of fixes, the benchmarks,
the Gradescope kit, and any hidden seed (the course keeps its seed in the
Gradescope zip and in a GitHub secret, never in a file of the repository).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from harness.catalog import KATA_ROOT, KataError

LEFT_OUT = ("solutions/", "tests/", "benchmarks/", "scripts/", "autograder/gradescope/", ".ci/")
WORKFLOW = "autograder/github-classroom/classroom.yml"
STUDENT_SECTIONS = ("For students",)  # the README's sections a student gets, besides its opening


def _tracked() -> list[str]:
    try:
        listing = subprocess.run(["git", "-C", str(KATA_ROOT), "ls-files", "-z"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        raise KataError(f"{KATA_ROOT} is not a git checkout: the template is made from the files git tracks") from None
    return sorted(n for n in listing.stdout.decode().split("\0") if n and (KATA_ROOT / n).is_file())


def students_readme(readme: str) -> str:
    """The README's opening and its sections for students; the course staff's parts left out."""
    parts = re.split(r"^(?=## )", readme, flags=re.M)
    kept = [parts[0]] + [p for p in parts[1:] if p[3:].split("\n", 1)[0].strip() in STUDENT_SECTIONS]
    note = (
        "\n## This copy\n\nYour course made this repository from the kata for you: it has the exercises and "
        "the checks, not the reference solutions. Check your work with `.venv/bin/kata check NN`. "
        "The automatic points on GitHub (if your course uses GitHub Classroom) are feedback; "
        "your course says how it grades.\n"
    )
    return "".join(kept).rstrip() + "\n" + note


def write(out: Path, git: bool = True) -> list[str]:
    """Write the template into ``out`` (which must not exist or be empty); returns the files written."""
    if out.exists() and any(out.iterdir()):
        raise KataError(f"{out} is not empty: give a new folder for the template")
    files = [name for name in _tracked() if not name.startswith(LEFT_OUT) and name != WORKFLOW]
    out.mkdir(parents=True, exist_ok=True)
    for name in files:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(KATA_ROOT / name, target)
    (out / "README.md").write_text(students_readme((KATA_ROOT / "README.md").read_text()))
    workflow = out / ".github" / "workflows" / "classroom.yml"
    workflow.parent.mkdir(parents=True)
    shutil.copy2(KATA_ROOT / WORKFLOW, workflow)
    written = [*files, ".github/workflows/classroom.yml"]
    if git:
        _commit(out)
    return written


def _commit(out: Path) -> None:
    """One commit, so `kata reset` finds the starters in the history from the start."""
    identity = ["-c", "user.name=kata", "-c", "user.email=kata@example.invalid"]
    try:
        for command in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-q", "-m", "The kata's student copy"]):
            subprocess.run(["git", "-C", str(out), *command], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise KataError(f"the template is written, but git could not commit it: {error}") from None
