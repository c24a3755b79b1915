"""`kata grade`: every exercise of a submission, each in its own supervised subprocess."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import isolation
from harness.catalog import Exercise
from harness.results import Graded


def grade_submission(
    tree: Path,
    exercises: list[Exercise],
    hidden_seed: int,
    limits: isolation.Limits = isolation.Limits(),
    jobs: int = 1,
    on_done: Callable[[Graded], None] = lambda graded: None,
) -> list[Graded]:
    """Grade ``tree`` (holding NN_slug/app.py); results in the order of ``exercises``."""

    def one(exercise: Exercise) -> Graded:
        start = time.perf_counter()
        outcome = isolation.grade_supervised(exercise, tree, hidden_seed, limits)
        graded = Graded(exercise, outcome.report, time.perf_counter() - start, outcome.check_seconds)
        on_done(graded)
        return graded

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, exercises))


def app_digest(tree: Path, exercise: Exercise) -> str | None:
    """A hash of the student's file for the exercise, to grade identical files once."""
    try:
        return hashlib.sha256((tree / exercise.name / exercise.work_file).read_bytes()).hexdigest()
    except OSError:
        return None
