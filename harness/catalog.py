"""The exercise catalog: which exercises exist, their metadata, and where submissions live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness import spec as specs
from harness.spec import Spec

KATA_ROOT = Path(os.environ.get("KATA_HOME", Path(__file__).resolve().parent.parent))
CATALOG_DIR = KATA_ROOT / "exercises"
SOLUTIONS_DIR = KATA_ROOT / "solutions"


class KataError(Exception):
    """A problem the user can fix, stated in one sentence."""


class SubmissionError(KataError):
    """The submission could not be loaded: syntax error, import error, no app..."""


class LifespanError(SubmissionError):
    """The app's startup failed: nothing can be graded."""


@dataclass(frozen=True)
class Exercise:
    number: str  # "01"
    slug: str  # "dashboard_n_plus_one"
    spec: Spec  # its exercise.toml, parsed

    @property
    def name(self) -> str:
        return f"{self.number}_{self.slug}"

    @property
    def title(self) -> str:
        return self.spec.title or self.slug

    @property
    def folder(self) -> Path:
        """The exercise's folder in the kata itself (README, hints, starter)."""
        return CATALOG_DIR / self.name

    def budget(self, key: str) -> Any:
        try:
            return self.spec.budget[key]
        except KeyError:
            raise KataError(f"{self.name}/exercise.toml has no budget.{key}") from None

    @property
    def work_file(self) -> str:
        """The file the student works on: app.py, or e.g. a test file (``work_file`` in exercise.toml)."""
        return self.spec.work_file

    def submitted_file(self, target: Path) -> Path:
        """The student's work for this exercise under ``target``."""
        return resolve_target(target) / self.name / self.work_file

    def app_file(self, target: Path) -> Path:
        """The app to run: the submission's app.py, or the kata's own when the work is something else."""
        if self.work_file == "app.py":
            return resolve_target(target) / self.name / "app.py"
        return self.folder / "app.py"


def _load_spec(folder: Path) -> Spec:
    try:
        return specs.load(folder / "exercise.toml")
    except specs.SpecError as error:
        raise KataError(str(error)) from None


@cache
def exercises() -> tuple[Exercise, ...]:
    found = []
    for folder in sorted(CATALOG_DIR.iterdir()) if CATALOG_DIR.is_dir() else []:
        number, _, slug = folder.name.partition("_")
        if folder.is_dir() and number.isdigit() and slug:
            found.append(Exercise(number, slug, _load_spec(folder)))
    return tuple(found)


def find(key: str) -> Exercise:
    """Accepts ``01``, ``1``, ``dashboard_n_plus_one``, ``dashboard-n-plus-one`` or ``01_dashboard_n_plus_one``."""
    wanted = key.strip().replace("-", "_").lower()
    for exercise in exercises():
        if wanted.isdigit() and int(wanted) == int(exercise.number):
            return exercise
        if wanted in (exercise.slug, exercise.name):
            return exercise
    names = ", ".join(e.number for e in exercises())
    raise KataError(f"there is no exercise {key!r}; the exercises are {names} (see `kata list`)")


def resolve_target(target: Path | str) -> Path:
    """A submission tree given by path, or by the names ``exercises``/``solutions``."""
    path = Path(target)
    if not path.exists() and not path.is_absolute() and (KATA_ROOT / path).is_dir():
        path = KATA_ROOT / path
    if not path.is_dir():
        raise KataError(f"the path {str(target)!r} is not a directory")
    return path.resolve()
