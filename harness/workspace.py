"""The student's working copy: `kata watch` re-checks on save, `kata reset` restores the starter.

`watch` runs each check in a subprocess (`kata check`), so a submission that
hangs or crashes is stopped with Ctrl+C like any command, and the watcher
goes on. `reset` takes the starter from the kata's git history (the
committed version, or any revision given), after saving the student's file
in ``.kata/backups/``: nothing is ever lost.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from harness import state
from harness.catalog import KATA_ROOT, Exercise, KataError, resolve_target


def _snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    """What a save changes: each file's modification time and size."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            stat = path.stat()
            found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


def watch(
    exercise: Exercise,
    target: Path,
    announce: Callable[[str], None],
    interval: float = 0.5,
    runs: int | None = None,
) -> None:
    """Check now, then again after every save in the exercise's folder (``runs``: stop after that many)."""
    folder = resolve_target(target) / exercise.name
    command = [sys.executable, "-c", "from harness.cli import main; main()", "check", exercise.number]
    command += ["--path", str(resolve_target(target))]
    done = 0
    while True:
        before = _snapshot(folder)
        subprocess.run(command, check=False)
        done += 1
        if runs is not None and done >= runs:
            return
        announce(f"watching {folder}: save a file to check again (Ctrl+C stops)")
        while _snapshot(folder) == before:
            time.sleep(interval)
        time.sleep(interval)  # let an editor finish writing (some save in several steps)


def _committed(exercise: Exercise, revision: str) -> bytes:
    relative = (exercise.folder / exercise.work_file).relative_to(KATA_ROOT)
    try:
        proc = subprocess.run(
            ["git", "-C", str(KATA_ROOT), "show", f"{revision}:{relative.as_posix()}"],
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise KataError("kata reset takes the starter from git, and git is not installed") from None
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["unknown error"]
        raise KataError(f"cannot read {relative} at {revision} from git: {reason[0]}")
    return proc.stdout


def reset(exercise: Exercise, target: Path, revision: str = "HEAD") -> tuple[Path, Path | None]:
    """Put the starter back; returns (the file, where the student's version was saved, or None if unchanged)."""
    work_file = resolve_target(target) / exercise.name / exercise.work_file
    starter = _committed(exercise, revision)
    current = work_file.read_bytes() if work_file.is_file() else None
    if current == starter:
        return work_file, None
    backup = None
    if current is not None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        backup = state.state_dir() / "backups" / exercise.name / f"{stamp}-{work_file.name}"
        backup.parent.mkdir(parents=True, exist_ok=True)
        backup.write_bytes(current)
    work_file.parent.mkdir(parents=True, exist_ok=True)
    work_file.write_bytes(starter)
    return work_file, backup
