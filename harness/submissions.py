"""Finding submissions: a student's repository, their exercises/ tree, or a folder of many."""

from __future__ import annotations

from pathlib import Path

from harness import catalog
from harness.catalog import KataError


def exercise_tree(folder: Path) -> Path | None:
    """The folder holding NN_slug/app.py: ``folder`` itself or its ``exercises/``."""
    for candidate in (folder / "exercises", folder):
        if candidate.is_dir() and any((candidate / e.name).is_dir() for e in catalog.exercises()):
            return candidate
    return None


def expand(paths: list[Path]) -> list[tuple[str, Path]]:
    """(name, exercise tree) for each submission; a folder of submissions counts as its members."""
    found: list[tuple[str, Path]] = []
    for path in paths:
        if not path.is_dir():
            raise KataError(f"the path {str(path)!r} is not a directory")
        tree = exercise_tree(path)
        if tree is not None:
            found.append((path.resolve().name, tree))
            continue
        members = [(child.name, exercise_tree(child)) for child in sorted(path.iterdir()) if child.is_dir()]
        members = [(name, tree) for name, tree in members if tree is not None]
        if not members:
            raise KataError(f"{path} holds no submission (no NN_slug/app.py in it, its exercises/ or its subfolders)")
        found.extend(members)
    return found
