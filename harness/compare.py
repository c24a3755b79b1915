"""`kata compare`: many submissions side by side, measured the same way."""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import isolation, starters
from harness.autograde import app_digest
from harness.catalog import Exercise
from harness.checks import profile_scale
from harness.results import Graded


@dataclass
class Cell:
    """One submission's result on one exercise."""

    submission: str
    graded: Graded | None  # None: the submission has no such exercise

    @property
    def metrics(self) -> dict[str, Any]:
        return self.graded.report.metrics if self.graded else {}

    @property
    def ratio(self) -> float | None:
        """Baseline modeled total / this total, at the profile scale (higher is better)."""
        if not self.graded or not self.metrics.get("total_ms"):
            return None
        exercise = self.graded.exercise
        baseline = exercise.meta.get("baseline", {}).get(profile_scale(exercise), {}).get("total_ms")
        return round(baseline / self.metrics["total_ms"], 2) if baseline else None

    @property
    def status(self) -> str:
        if self.graded is None:
            return "missing"
        return "pass" if self.graded.report.passed else "fail"

    @property
    def reason(self) -> str:
        if self.graded is None:
            return "no app.py for this exercise"
        failed = [r for r in self.graded.report.checks if not r.passed]
        return f"{failed[0].name}: {failed[0].message}" if failed else ""


def compare(
    submissions: list[tuple[str, Path]],
    exercises: list[Exercise],
    hidden_seed: int,
    limits: isolation.Limits = isolation.Limits(),
    jobs: int = 1,
    on_done: Callable[[], None] = lambda: None,
) -> dict[str, dict[str, Cell]]:
    """{submission: {exercise: Cell}}; identical app.py files are graded once."""
    tasks: dict[tuple[str, str], tuple[Exercise, Path]] = {}
    for _name, tree in submissions:
        for exercise in exercises:
            digest = app_digest(tree, exercise)
            if digest is not None:
                tasks.setdefault((exercise.name, digest), (exercise, tree))

    def grade(key: tuple[str, str]) -> tuple[tuple[str, str], Graded]:
        exercise, tree = tasks[key]
        outcome = isolation.grade_supervised(exercise, tree, hidden_seed, limits)
        on_done()
        return key, Graded(exercise, outcome.report, sum(outcome.check_seconds.values()), outcome.check_seconds)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = dict(pool.map(grade, list(tasks)))
    table: dict[str, dict[str, Cell]] = {}
    for name, tree in submissions:
        row = table.setdefault(name, {})
        for exercise in exercises:
            digest = app_digest(tree, exercise)
            row[exercise.name] = Cell(name, done.get((exercise.name, digest)) if digest else None)
    return table


def unique_tasks(submissions: list[tuple[str, Path]], exercises: list[Exercise]) -> int:
    return len({(e.name, app_digest(tree, e)) for _, tree in submissions for e in exercises
                if app_digest(tree, e) is not None})


def to_csv(table: dict[str, dict[str, Cell]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["submission", "exercise", "status", "score", "max_score", "queries", "db_ms", "external_ms",
                     "transfer_ms", "total_ms", "response_bytes", "improvement", "reason"])
    for name, row in table.items():
        for exercise, cell in row.items():
            m = cell.metrics
            writer.writerow([
                name, exercise, cell.status,
                cell.graded.score if cell.graded else 0, cell.graded.max_score if cell.graded else "",
                *(m.get(k, "") for k in ("queries", "db_ms", "external_ms", "transfer_ms", "total_ms",
                                         "response_bytes")),
                cell.ratio if cell.ratio is not None else "", cell.reason,
            ])
    return out.getvalue()


def diff_against_starter(tree: Path, exercise: Exercise, name: str) -> str:
    """A unified diff of the submission's work file against the pristine starter (not the working copy's)."""
    submitted = tree / exercise.name / exercise.work_file
    try:
        theirs = submitted.read_text(errors="replace").splitlines(keepends=True)
    except OSError:
        return f"--- {name}: no {exercise.name}/{exercise.work_file}\n"
    ours = starters.pristine(exercise).decode(errors="replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(ours, theirs, f"starter/{exercise.name}/{exercise.work_file}",
                                        f"{name}/{exercise.name}/{exercise.work_file}"))
