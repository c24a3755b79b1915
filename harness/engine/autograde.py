"""`kata grade`: every exercise of one submission or of a class, each in its own supervised subprocess.

Identical exercise folders (most students leave some starters untouched) are
graded once: grading is deterministic, so their reports are the same anyway.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.catalog import Exercise
from harness.engine import checks, isolation
from harness.engine.results import Graded, Result
from harness.engine.submissions import NotGradable, Submission


def folder_digest(tree: Path, exercise: Exercise) -> str | None:
    """A hash of everything in the submission's folder for the exercise (what its grading process sees)."""
    folder = tree / exercise.name
    if not (folder / exercise.work_file).is_file():
        return None
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            try:
                digest.update(path.read_bytes() + b"\0")
            except OSError:
                digest.update(b"unreadable\0")
    return digest.hexdigest()


def grade_submission(
    tree: Path,
    exercises: list[Exercise],
    hidden_seed: int,
    limits: isolation.Limits = isolation.Limits(),
    jobs: int = 1,
) -> list[Graded]:
    """Grade one exercise tree (holding NN_slug/); results in the order of ``exercises``."""
    result = grade_many([Submission(tree.name, tree)], exercises, hidden_seed, limits, jobs)[0]
    return result.graded


def grade_many(
    submissions: list[Submission],
    exercises: list[Exercise],
    hidden_seed: int,
    limits: isolation.Limits = isolation.Limits(),
    jobs: int = 1,
    on_done: Callable[[int, int, str], None] = lambda done, total, label: None,
) -> list[Result]:
    """Grade every submission (in order); ``on_done(done, total, label)`` after each grading process."""
    located: list[tuple[Submission, Path | None, str | None, dict[str, str | None]]] = []
    tasks: dict[tuple[str, str], tuple[Exercise, Path, str]] = {}
    for submission in submissions:
        try:
            tree = submission.tree()
        except NotGradable as reason:
            located.append((submission, None, str(reason), {}))
            continue
        digests = {exercise.name: folder_digest(tree, exercise) for exercise in exercises}
        located.append((submission, tree, None, digests))
        for exercise in exercises:
            digest = digests[exercise.name]
            if digest is not None:
                tasks.setdefault((exercise.name, digest), (exercise, tree, submission.name))
    done: dict[tuple[str, str], Graded] = {}
    lock = threading.Lock()

    def grade(key: tuple[str, str]) -> None:
        exercise, tree, name = tasks[key]
        start = time.perf_counter()
        outcome = isolation.grade_supervised(exercise, tree, hidden_seed, limits)
        with lock:
            done[key] = Graded(exercise, outcome.report, time.perf_counter() - start, outcome.check_seconds)
            on_done(len(done), len(tasks), f"{name} · {exercise.name}")

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(grade, list(tasks)))
    return [
        _assemble(submission, tree, reason, digests, exercises, done, hidden_seed)
        for submission, tree, reason, digests in located
    ]


def _assemble(
    submission: Submission,
    tree: Path | None,
    reason: str | None,
    digests: dict[str, str | None],
    exercises: list[Exercise],
    done: dict[tuple[str, str], Graded],
    hidden_seed: int,
) -> Result:
    graded = []
    for exercise in exercises:
        digest = digests.get(exercise.name)
        if reason is not None:
            graded.append(Graded(exercise, checks.failed_report(exercise, f"not graded: {reason}")))
        elif digest is None:
            graded.append(Graded(exercise, checks.missing_report(exercise)))
        else:
            graded.append(done[(exercise.name, digest)])
    return Result(submission.name, submission.student, tree, graded, reason, hidden_seed)
