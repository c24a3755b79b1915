"""Finding submissions: a student's repository, their exercises/ tree, or a class of many.

A submission is whatever holds the exercise folders (``NN_slug/app.py``): the
folder itself, its ``exercises/``, or, as uploads often come, one folder
deeper (``kata-main/exercises/...``, a single folder holding the repository).
A class is a folder whose subfolders are submissions, as Gradescope's
"Download submissions" (with its ``submission_metadata.yml``) and GitHub
Classroom's clone-all give them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness import catalog
from harness.catalog import KataError

GRADESCOPE_METADATA = "submission_metadata.yml"  # in Gradescope's "Download submissions" export
# Folders an upload may carry that are never the student's work.
IGNORED = ("__MACOSX", "__pycache__", "node_modules", ".venv", "venv")


@dataclass(frozen=True)
class Submission:
    name: str  # the folder's name: unique in a class, safe as a folder name
    folder: Path  # what was handed in
    student: str = ""  # who handed it in, when the class says so (Gradescope's metadata)

    def tree(self) -> Path:
        """The folder holding NN_slug/ (``NotGradable`` if there is none)."""
        return locate(self.folder)


class NotGradable(KataError):
    """A submission that holds no exercise folder: the one-sentence reason is for the student."""


def _holds_exercises(folder: Path) -> bool:
    return any((folder / e.name).is_dir() for e in catalog.exercises())


def _visible_folders(folder: Path) -> list[Path]:
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return []
    return [c for c in children if c.is_dir() and not c.name.startswith(".") and c.name not in IGNORED]


def exercise_tree(folder: Path) -> Path | None:
    """The folder holding NN_slug/: ``folder`` itself or its ``exercises/``."""
    for candidate in (folder / "exercises", folder):
        if candidate.is_dir() and _holds_exercises(candidate):
            return candidate
    return None


def _tree_within(folder: Path) -> Path | None:
    """``exercise_tree`` of ``folder``, or of the one folder in it that holds one (an upload wrapped once)."""
    found = exercise_tree(folder)
    if found is not None:
        return found
    inner = [tree for tree in map(exercise_tree, _visible_folders(folder)) if tree is not None]
    return inner[0] if len(inner) == 1 else None


def locate(folder: Path) -> Path:
    """The exercise tree of one student's submission, or ``NotGradable`` with the reason in one sentence."""
    if not folder.is_dir():
        raise NotGradable(f"the submission {str(folder)!r} is not a folder")
    found = _tree_within(folder)
    if found is not None:
        return found
    children = _visible_folders(folder)
    copies = [child.name for child in children if exercise_tree(child) is not None]
    if len(copies) > 1:
        raise NotGradable(
            f"the submission holds {len(copies)} copies of the kata ({', '.join(copies[:4])}): "
            "hand in one repository, or its exercises/ folder"
        )
    deeper = [child.name for child in children if _tree_within(child) is not None]
    if deeper:
        raise NotGradable(
            f"the exercises are two folders deep (in {deeper[0]}/...): hand in your repository, or its "
            "exercises/ folder, at most one folder down"
        )
    return _explain_empty(folder)


def _explain_empty(folder: Path) -> Path:
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".") and p.name not in IGNORED)
    example = catalog.exercises()[0].name
    if not names:
        raise NotGradable(
            f"the submission is empty: hand in your repository, or its exercises/ folder (holding {example}/app.py ...)"
        )
    if "app.py" in names:
        raise NotGradable(
            f"the submission has app.py at its top, so it is not clear which exercise it solves: "
            f"hand in the folders ({example}/app.py ...), or your whole repository"
        )
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    raise NotGradable(
        f"the submission holds no exercise folder ({example}/app.py ...), neither at its top, in "
        f"exercises/, nor one folder deeper; it holds: {shown}"
    )


def is_class(folder: Path) -> bool:
    """A folder of submissions: Gradescope's export (its submission_metadata.yml), or, not being a submission
    itself, a folder with at least two subfolders that are."""
    if not folder.is_dir():
        return False
    if (folder / GRADESCOPE_METADATA).is_file():
        return True
    return exercise_tree(folder) is None and sum(_tree_within(c) is not None for c in _visible_folders(folder)) >= 2


def members(folder: Path) -> list[Submission]:
    """The submissions of a class folder, one per subfolder; those that cannot be graded are members too,
    so the class summary says why they scored zero."""
    names = gradescope_names(folder)
    return _unique([Submission(child.name, child, names.get(child.name, "")) for child in _visible_folders(folder)])


def gradescope_names(folder: Path) -> dict[str, str]:
    """{"submission_123": "Ada Lovelace, Alan Turing"} from Gradescope's submission_metadata.yml, if present."""
    path = folder / GRADESCOPE_METADATA
    if not path.is_file():
        return {}
    try:
        import yaml

        data = yaml.safe_load(path.read_text(errors="replace"))
    except Exception:  # a damaged file only costs the names
        return {}
    names: dict[str, str] = {}
    for key, entry in data.items() if isinstance(data, dict) else []:
        if not isinstance(entry, dict):
            continue
        submitters = entry.get(":submitters") or entry.get("submitters") or []
        people = [str(s.get(":name") or s.get("name") or "") for s in submitters if isinstance(s, dict)]
        if any(people):
            names[str(key)] = ", ".join(p for p in people if p)
    return names


def expand(paths: list[Path]) -> list[Submission]:
    """Submissions named on a command line: each path is one, or a class folder of many."""
    found: list[Submission] = []
    for path in paths:
        if not path.is_dir():
            raise KataError(f"the path {str(path)!r} is not a directory")
        if is_class(path):
            found.extend(members(path))
            continue
        try:
            locate(path)
        except NotGradable as reason:
            raise KataError(f"{path}: {reason}") from None
        found.append(Submission(path.resolve().name, path))
    return _unique(found)


def safe_name(name: str) -> str:
    """A folder name for a student's results: letters, digits, '.', '_' and '-'."""
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "submission"


def _unique(found: list[Submission]) -> list[Submission]:
    seen: dict[str, int] = {}
    unique = []
    for submission in found:
        name = safe_name(submission.name)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}-{seen[name]}"
        unique.append(Submission(name, submission.folder, submission.student))
    return unique
