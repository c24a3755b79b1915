"""The student's working copy: `kata watch` re-checks on save, `kata reset` restores the starter.

`watch` runs each check in a subprocess (`kata check`, with its real-time
limit), so a submission that hangs or crashes is stopped, and the watcher
goes on. `reset` puts back the pristine starter (recorded by git blob id in
exercise.toml, whatever the student committed since), or the file at a git
revision given, after saving the student's file in ``.kata/backups/``:
nothing is ever lost.
"""

from __future__ import annotations

import hashlib
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markdown import Markdown

from harness.catalog import KATA_ROOT, Exercise, KataError, exercises, resolve_target
from harness.frontends import starters, state


def _snapshot(folder: Path) -> dict[Path, str]:
    """What a save changes: the content of each Python file (an editor's hidden temporary files left out)."""
    found = {}
    for path in folder.rglob("*.py"):
        if "__pycache__" in path.parts or path.name.startswith((".", "#")) or not path.is_file():
            continue
        try:
            found[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:  # renamed away while we looked
            continue
    return found


def _settled(folder: Path, before: dict[Path, str], interval: float) -> dict[Path, str]:
    """Wait until the folder's Python files differ from ``before`` and then stay the same for ``interval``:
    an editor that saves in several steps (a temporary file, then a rename) gives one check, not two."""
    now = _snapshot(folder)
    while True:
        time.sleep(interval)
        later = _snapshot(folder)
        if later == now and now != before:
            return now
        now = later


class Keys:
    """Lines typed while watching (``n`` next, ``h`` hint, ``q`` quit), read without blocking."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream if stream is not None and not stream.closed else None

    def poll(self) -> str | None:
        if self.stream is None:
            return None
        try:
            ready, _, _ = select.select([self.stream], [], [], 0)
        except (OSError, ValueError):  # not a selectable stream (Windows, a closed pipe)
            self.stream = None
            return None
        if not ready:
            return None
        line = self.stream.readline()
        if line == "":  # end of input: nothing more will be typed
            self.stream = None
            return None
        return line.strip().lower()


def watch(
    exercise: Exercise,
    target: Path,
    console: Console,
    interval: float = 0.3,
    runs: int | None = None,
    keys: TextIO | None = None,
) -> None:
    """Check now, then once after every save of a Python file in the exercise's folder.

    After a pass, ``n`` moves on to the next exercise (as rustlings does); ``h`` shows the next hint,
    ``q`` stops. ``runs``: stop after that many checks (tests).
    """
    tree = resolve_target(target)
    typed = Keys(keys)
    done = 0
    while True:
        folder = tree / exercise.name
        before = _snapshot(folder)
        console.clear()
        console.print(
            f"[dim]{datetime.now():%H:%M:%S}[/dim]  [bold]kata watch {exercise.number}[/bold] {exercise.slug}"
        )
        command = [
            sys.executable,
            "-c",
            "from harness.frontends.cli import main; main()",
            "check",
            exercise.number,
            "--path",
            str(tree),
        ]
        passed = subprocess.run(command, check=False).returncode == 0
        done += 1
        if runs is not None and done >= runs:
            return
        following = _next(exercise)
        if passed and following is not None:
            console.print(
                f"[green]{exercise.name} passes.[/green] Type [bold]n[/bold] and Enter to watch the next "
                f"exercise, {following.name}; or keep improving this one."
            )
        elif passed:
            console.print("[green]That was the last exercise: every one you checked passes.[/green]")
        console.print(
            f"[dim]watching {folder}: save a file to check again · h Enter: a hint · q Enter or Ctrl+C: stop[/dim]"
        )
        while True:
            key = typed.poll()
            if key == "q":
                return
            if key == "h":
                number, total, text = state.next_hint(exercise)
                console.print(f"[bold]hint {number} of {total}[/bold]")
                console.print(Markdown(text), soft_wrap=False)
            if key == "n" and passed and following is not None:
                exercise = following
                break
            if _snapshot(folder) != before:
                _settled(folder, before, interval)
                break
            time.sleep(interval)


def _next(exercise: Exercise) -> Exercise | None:
    later = [e for e in exercises() if int(e.number) > int(exercise.number)]
    return later[0] if later else None


def _committed(exercise: Exercise, revision: str) -> bytes:
    relative = (exercise.folder / exercise.work_file).relative_to(KATA_ROOT)
    try:
        proc = subprocess.run(
            ["git", "-C", str(KATA_ROOT), "show", f"{revision}:{relative.as_posix()}"],
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise KataError("kata reset --from takes the file from git, and git is not installed") from None
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["unknown error"]
        raise KataError(f"cannot read {relative} at {revision} from git: {reason[0]}")
    return proc.stdout


@dataclass
class Reset:
    work_file: Path
    changed: bool  # False: it was the starter already
    backup: Path | None  # where the student's version was saved (None: there was no file)


def reset(exercise: Exercise, target: Path, revision: str | None = None) -> Reset:
    """Put the pristine starter back (or the file at git ``revision``), saving the student's version first."""
    work_file = resolve_target(target) / exercise.name / exercise.work_file
    starter = starters.pristine(exercise) if revision is None else _committed(exercise, revision)
    current = work_file.read_bytes() if work_file.is_file() else None
    if current == starter:
        return Reset(work_file, False, None)
    backup = None
    if current is not None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        backup = state.state_dir() / "backups" / exercise.name / f"{stamp}-{work_file.name}"
        backup.parent.mkdir(parents=True, exist_ok=True)
        backup.write_bytes(current)
    work_file.parent.mkdir(parents=True, exist_ok=True)
    work_file.write_bytes(starter)
    return Reset(work_file, True, backup)
