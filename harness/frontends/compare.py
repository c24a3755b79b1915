"""`kata compare`: many submissions side by side, measured the same way.

It reads a class that `kata grade` graded (its results folder), or grades
submissions itself. The terminal view fits 80 columns (a score per exercise
and the total; the figures behind them when the console is wide enough), the
CSV has one row per submission and exercise, and ``report_html`` draws it all.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from harness.catalog import Exercise, KataError
from harness.engine import checks, isolation
from harness.engine.autograde import grade_many
from harness.engine.checks import profile_scale
from harness.engine.results import Graded, Result, is_results_folder, read_results
from harness.engine.submissions import expand
from harness.frontends import starters


@dataclass
class Cell:
    """One submission's result on one exercise."""

    submission: str
    graded: Graded | None  # None: this submission was not graded on the exercise

    @property
    def metrics(self) -> dict[str, Any]:
        return self.graded.report.metrics if self.graded else {}

    @property
    def ratio(self) -> float | None:
        """Baseline modeled total / this total, at the profile scale (higher is better); for a pass only:
        the improvement of a wrong answer is no improvement."""
        if not self.graded or self.status != "pass" or not self.metrics.get("total_ms"):
            return None
        exercise = self.graded.exercise
        baseline = exercise.spec.baseline.get(profile_scale(exercise), {}).get("total_ms")
        return round(baseline / self.metrics["total_ms"], 2) if baseline else None

    @property
    def status(self) -> str:
        if self.graded is None or checks.is_missing(self.graded.report):
            return "missing"
        return "pass" if self.graded.report.passed else "fail"

    @property
    def score(self) -> float:
        return self.graded.score if self.graded else 0.0

    @property
    def max_score(self) -> float:
        return self.graded.max_score if self.graded else 0.0

    @property
    def reason(self) -> str:
        """The first failing check and its message ('' when every check passes)."""
        if self.graded is None:
            return "not graded"
        report = self.graded.report
        if report.error:
            return report.error
        failed = [r for r in report.checks if not r.passed]
        return f"{failed[0].name}: {failed[0].message}" if failed else ""


Rows = dict[str, dict[str, Cell]]


def gather(
    paths: list[Path],
    exercises: list[Exercise],
    hidden_seed: int,
    limits: isolation.Limits = isolation.Limits(),
    jobs: int = 1,
    on_done: Callable[[int, int, str], None] = lambda done, total, label: None,
) -> list[Result]:
    """Results folders written by `kata grade` are read back; submissions (or folders of them) are graded."""
    results: list[Result] = []
    to_grade: list[Path] = []
    for path in paths:
        if path.is_dir() and is_results_folder(path):
            results.extend(read_results(path))
        else:
            to_grade.append(path)
    if to_grade:
        results.extend(grade_many(expand(to_grade), exercises, hidden_seed, limits, jobs, on_done))
    names = [r.name for r in results]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise KataError(f"two submissions are both called {duplicated[0]!r}: compare them in separate runs")
    return results


def table(results: list[Result], exercises: list[Exercise]) -> Rows:
    """{submission: {exercise: Cell}} for the exercises asked for."""
    rows: Rows = {}
    for result in results:
        by_name = {g.exercise.name: g for g in result.graded}
        label = label_of(result)
        rows[label] = {e.name: Cell(label, by_name.get(e.name)) for e in exercises}
    return rows


def label_of(result: Result) -> str:
    """The student's name first, when the class says who handed it in: ``Ada Lovelace (submission_1001)``."""
    return f"{result.student} ({result.name})" if result.student else result.name


def total(row: dict[str, Cell]) -> tuple[float, float]:
    return sum(c.score for c in row.values()), sum(c.max_score for c in row.values())


def pass_rates(rows: Rows, exercises: list[Exercise]) -> dict[str, tuple[int, int]]:
    """{exercise: (submissions passing every check, submissions graded on it)}."""
    rates = {}
    for exercise in exercises:
        cells = [row[exercise.name] for row in rows.values() if row[exercise.name].graded is not None]
        rates[exercise.name] = (sum(c.status == "pass" for c in cells), len(cells))
    return rates


def histogram(rows: Rows, buckets: int = 10) -> list[tuple[str, int]]:
    """Total scores in ``buckets`` equal ranges of the maximum: [("0-9", 3), ..., ("90-100", 12)]."""
    totals = [total(row) for row in rows.values()]
    maximum = max((m for _, m in totals), default=0.0) or 1.0
    width = maximum / buckets
    counts = [0] * buckets
    for score, _ in totals:
        counts[min(buckets - 1, int(score / width))] += 1
    labels = []
    for i in range(buckets):  # whole points: bucket i holds scores from ceil(i * width) up to the next bucket's
        low = math.ceil(i * width)
        high = maximum if i == buckets - 1 else math.ceil((i + 1) * width) - 1
        labels.append(f"{low:g}" if high <= low else f"{low:g}-{high:g}")
    return list(zip(labels, counts, strict=True))


# --- terminal ---------------------------------------------------------------

DETAIL_WIDTH = 26  # a column per exercise showing queries, modeled time and bytes
SCORE_WIDTH, TOTAL_WIDTH = 3, 7  # "10✓" and "100" (the pass rate, in %), "140/140"


def terminal_table(rows: Rows, exercises: list[Exercise], console_width: int) -> Table:
    """Scores per exercise and the total; with the measured figures when the console has room for them."""
    detailed = console_width >= 18 + DETAIL_WIDTH * len(exercises) + 10
    rates = pass_rates(rows, exercises)
    if not detailed:
        return _compact_table(rows, exercises, rates, console_width)
    view = Table(
        title="Submissions compared (modeled time; improvement = starter total / this total)",
        title_justify="left",
        pad_edge=False,
    )
    view.add_column("submission", overflow="ellipsis", no_wrap=True, max_width=20)
    for e in exercises:
        view.add_column(e.name)
    view.add_column("total", justify="right", no_wrap=True)
    for name, row in rows.items():
        score, maximum = total(row)
        view.add_row(name, *(_detailed(row[e.name]) for e in exercises), f"[bold]{score:g}[/]/{maximum:g}")
    view.add_section()
    view.add_row("[dim]passed[/dim]", *(f"[dim]{rates[e.name][0]}/{rates[e.name][1]}[/dim]" for e in exercises), "")
    return view


def _compact_table(
    rows: Rows, exercises: list[Exercise], rates: dict[str, tuple[int, int]], console_width: int
) -> Table:
    """A narrow table (80 columns hold fourteen exercises): the name gives way, the numbers never do."""
    view = Table(
        title="Points per exercise (✓ every check passes; – no file)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=0,
    )
    # No padding: the box puts one space between columns, and one at either edge.
    numbers = len(exercises) * SCORE_WIDTH + TOTAL_WIDTH + (len(exercises) + 1) + 2
    longest = max((len(name) for name in rows), default=10)
    view.add_column(
        "submission", overflow="ellipsis", no_wrap=True, width=max(8, min(longest, console_width - numbers))
    )
    for e in exercises:
        view.add_column(e.number, justify="right", no_wrap=True, width=SCORE_WIDTH)
    view.add_column("total", justify="right", no_wrap=True, width=TOTAL_WIDTH)
    for name, row in rows.items():
        score, maximum = total(row)
        view.add_row(name, *(_compact(row[e.name]) for e in exercises), f"[bold]{score:g}[/]/{maximum:g}")
    view.add_section()
    percent = [
        f"{100 * passed / graded:.0f}" if graded else "" for passed, graded in (rates[e.name] for e in exercises)
    ]
    view.add_row("[dim]passed %[/dim]", *(f"[dim]{p}[/dim]" for p in percent), "")
    return view


def _compact(cell: Cell) -> str:
    if cell.status == "missing":
        return "[dim]–[/dim]"
    colour = "green" if cell.status == "pass" else ("yellow" if cell.score else "red")
    mark = "✓" if cell.status == "pass" else " "
    return f"[{colour}]{cell.score:g}{mark}[/]"


def _detailed(cell: Cell) -> str:
    if cell.status == "missing":
        return "[dim]missing[/dim]"
    m = cell.metrics
    colour = "green" if cell.status == "pass" else "red"
    ratio = f" {cell.ratio:g}x" if cell.ratio is not None else ""
    figures = (
        f"\n{m['queries']} q · {m['total_ms']:,.1f} ms · {m['response_bytes']:,} B"
        if m
        else f"\n[dim]{cell.reason[:60]}[/dim]"
    )
    return f"[{colour}]{cell.status}[/] {cell.score:g}/{cell.max_score:g}{ratio}{figures}"


def class_summary(rows: Rows, exercises: list[Exercise]) -> Table:
    """Per exercise: how many pass, the median score and modeled total; then the histogram of totals."""
    view = Table(title="The class, per exercise", title_justify="left", pad_edge=False)
    for column in ("exercise", "passed", "median points", "median modeled total"):
        view.add_column(column, justify="left" if column == "exercise" else "right")
    rates = pass_rates(rows, exercises)
    for e in exercises:
        cells = [row[e.name] for row in rows.values() if row[e.name].graded is not None]
        scores = [c.score for c in cells]
        totals = [c.metrics["total_ms"] for c in cells if c.metrics.get("total_ms")]
        passed, graded = rates[e.name]
        view.add_row(
            e.name,
            f"{passed}/{graded} ({100 * passed / graded:.0f} %)" if graded else "0/0",
            f"{statistics.median(scores):g}" if scores else "",
            f"{statistics.median(totals):,.1f} ms" if totals else "",
        )
    return view


def histogram_lines(rows: Rows, width: int = 40) -> list[str]:
    bars = histogram(rows)
    most = max((n for _, n in bars), default=0) or 1
    return [f"{label:>8} │{'█' * round(width * n / most)} {n}" for label, n in bars]


# --- CSV and diffs ----------------------------------------------------------


def to_csv(rows: Rows) -> str:
    """One row per submission and exercise, then one 'total' row per submission."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "submission",
            "exercise",
            "status",
            "score",
            "max_score",
            "queries",
            "db_ms",
            "external_ms",
            "transfer_ms",
            "total_ms",
            "response_bytes",
            "improvement",
            "reason",
        ]
    )
    for name, row in rows.items():
        for exercise, cell in row.items():
            m = cell.metrics
            writer.writerow(
                [
                    name,
                    exercise,
                    cell.status,
                    f"{cell.score:g}",
                    f"{cell.max_score:g}",
                    *(
                        m.get(k, "")
                        for k in ("queries", "db_ms", "external_ms", "transfer_ms", "total_ms", "response_bytes")
                    ),
                    cell.ratio if cell.ratio is not None else "",
                    cell.reason,
                ]
            )
        score, maximum = total(row)
        passed = all(c.status == "pass" for c in row.values())
        writer.writerow([name, "total", "pass" if passed else "fail", f"{score:g}", f"{maximum:g}", *([""] * 7), ""])
    return out.getvalue()


def diff_against_starter(tree: Path | None, exercise: Exercise, name: str) -> str:
    """A unified diff of the submission's work file against the pristine starter (not the working copy's)."""
    submitted = tree / exercise.name / exercise.work_file if tree else None
    try:
        assert submitted is not None
        theirs = submitted.read_text(errors="replace").splitlines(keepends=True)
    except (OSError, AssertionError):
        return f"--- {name}: no {exercise.name}/{exercise.work_file}\n"
    ours = starters.pristine(exercise).decode(errors="replace").splitlines(keepends=True)
    return "".join(
        difflib.unified_diff(
            ours,
            theirs,
            f"starter/{exercise.name}/{exercise.work_file}",
            f"{name}/{exercise.name}/{exercise.work_file}",
        )
    )
