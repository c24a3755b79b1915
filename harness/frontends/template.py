"""`kata student-template`: the repository a course hands out (a GitHub Classroom template).

It holds what a student works with: the exercises, the harness and its checks
(`kata check` runs them), the build files, a README for students, and the
GitHub Classroom workflow. It leaves out what belongs to the course: the
reference solutions, the kata's own tests and corpus of fixes, the benchmarks,
the Gradescope kit, and any hidden seed (the course keeps its seed in the
Gradescope zip and in a GitHub secret, never in a file of the repository).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

from harness.catalog import KATA_ROOT, KataError, exercises
from harness.frontends import starters

LEFT_OUT = ("solutions/", "tests/", "benchmarks/", "scripts/", "autograder/gradescope/", ".ci/")
WORKFLOW = "autograder/github-classroom/classroom.yml"
STUDENT_SECTIONS = ("For students",)  # the README's sections a student gets
MARKER = ".kata-student-template"  # in a folder this command wrote, so --replace may write it again


def _git(*args: str) -> bytes:
    try:
        return subprocess.run(["git", "-C", str(KATA_ROOT), *args], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise KataError(f"{KATA_ROOT} is not a git checkout: the template is made from its last commit") from None


def _committed_files() -> dict[str, tuple[bytes, int]]:
    """{path: (content, mode)} of every file of the last commit: uncommitted edits stay out."""
    files = {}
    with tarfile.open(fileobj=io.BytesIO(_git("archive", "--format=tar", "HEAD"))) as archive:
        for member in archive.getmembers():
            extracted = archive.extractfile(member) if member.isfile() else None
            if extracted is not None:
                files[member.name] = (extracted.read(), member.mode & 0o777)
    return files


def students_readme(readme: str) -> str:
    """The README's title and opening words, how to start, and its sections for students."""
    parts = re.split(r"^(?=## )", readme, flags=re.M)
    opening = parts[0].split("\nOn a fresh machine", 1)[0].rstrip()
    start = (
        "\n\nOn a machine with Python 3.11+ and `make`:\n\n```bash\n"
        "make demo   # installs, then checks exercise 01: the starter fails, and says why\n```\n\n"
        "It creates `.venv/` on first use; afterwards call the CLI as `.venv/bin/kata`\n"
        "(or `source .venv/bin/activate` and just `kata`).\n\n"
    )
    kept = [p for p in parts[1:] if p[3:].split("\n", 1)[0].strip() in STUDENT_SECTIONS]
    note = (
        "\n## This copy\n\nYour course made this repository from the kata for you: the exercises and "
        "the checks, without the reference solutions. Check your work with `.venv/bin/kata check NN`. "
        "The automatic points on GitHub (if your course uses GitHub Classroom) are feedback; "
        "your course says how it grades.\n"
    )
    return opening + start + "".join(kept).rstrip() + "\n" + note


def write(out: Path, git: bool = True, replace: bool = False) -> list[str]:
    """Write the template into ``out``; returns the files written.

    ``out`` must be new or empty, or (``replace``) a template this command wrote before.
    """
    if out.exists() and any(out.iterdir()):
        if not (replace and (out / MARKER).is_file()):
            why = "" if replace else " (--replace writes over a template made before)"
            raise KataError(f"{out} is not empty and is not a template made by kata student-template{why}")
        shutil.rmtree(out)
    committed = _committed_files()
    files = {name: data for name, data in committed.items() if not name.startswith(LEFT_OUT) and name != WORKFLOW}
    for exercise in exercises():  # the pristine starters, even where the course committed its own attempts
        name = (exercise.folder / exercise.work_file).relative_to(KATA_ROOT).as_posix()
        files[name] = (starters.pristine(exercise), 0o644)
    files["README.md"] = (students_readme(committed["README.md"][0].decode()).encode(), 0o644)
    files[".github/workflows/classroom.yml"] = committed[WORKFLOW]
    gitignore = committed.get(".gitignore", (b"", 0o644))[0]
    files[".gitignore"] = (gitignore + f"{MARKER}\n".encode(), 0o644)
    for name, (data, mode) in files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)
    (out / MARKER).write_text("written by `kata student-template`\n")
    if git:
        _commit(out)
    return sorted(files)


def _commit(out: Path) -> None:
    """One commit, so `kata reset` finds the starters in the history from the start."""
    identity = ["-c", "user.name=kata", "-c", "user.email=kata@example.invalid"]
    try:
        for command in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-q", "-m", "The kata's student copy"]):
            subprocess.run(["git", "-C", str(out), *command], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise KataError(f"the template is written, but git could not commit it: {error}") from None
