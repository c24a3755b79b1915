"""The student's progress: hints shown and the last check of each exercise.

Kept in ``.kata/state.json`` at the kata's root (``KATA_STATE_DIR`` moves it).
A missing or damaged file means a fresh start, never a crash.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from harness.catalog import CATALOG_DIR, KATA_ROOT, Exercise, KataError


def state_dir() -> Path:
    """``.kata/`` at the kata's root, or ``KATA_STATE_DIR``: progress, and backups made by ``kata reset``."""
    return Path(os.environ.get("KATA_STATE_DIR", KATA_ROOT / ".kata"))


def _path() -> Path:
    return state_dir() / "state.json"


def load() -> dict[str, Any]:
    try:
        data = json.loads(_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(data: dict[str, Any]) -> None:
    path = _path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(path)
    except OSError:
        pass  # progress is a convenience; never fail a command over it


def file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return None


def is_students_tree(tree: Path) -> bool:
    """Progress is the student's own: checks of other trees (``--path solutions``) are not recorded."""
    return tree.resolve() == CATALOG_DIR.resolve()


def record_check(exercise: Exercise, app_file: Path, passed: bool) -> None:
    data = load()
    data.setdefault("checks", {})[exercise.name] = {
        "app": str(app_file),
        "digest": file_digest(app_file),
        "passed": passed,
    }
    save(data)


def check_status(exercise: Exercise, app_file: Path) -> str:
    """'passed', 'failed', 'changed' (edited since the last check) or 'not checked'."""
    last = load().get("checks", {}).get(exercise.name)
    if not last or last.get("app") != str(app_file):
        return "not checked"
    if last.get("digest") != file_digest(app_file):
        return "changed"
    return "passed" if last.get("passed") else "failed"


def hints(exercise: Exercise) -> list[str]:
    """The sections of hints.md, each starting with a '## ' heading."""
    path = exercise.folder / "hints.md"
    try:
        text = path.read_text()
    except OSError:
        raise KataError(f"{exercise.name} has no hints.md") from None
    sections = [s.strip() for s in re.split(r"^(?=## )", text, flags=re.M) if s.strip().startswith("## ")]
    if not sections:
        raise KataError(f"{path} has no '## ' sections")
    return sections


def next_hint(exercise: Exercise) -> tuple[int, int, str]:
    """(number shown, total, text); each call moves on, the last one stays."""
    sections = hints(exercise)
    data = load()
    shown = data.setdefault("hints", {}).get(exercise.name, 0)
    index = min(shown, len(sections) - 1)
    data["hints"][exercise.name] = index + 1
    save(data)
    return index + 1, len(sections), sections[index]
