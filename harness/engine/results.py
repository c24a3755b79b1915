"""Scores and result files: Gradescope's results.json, JUnit XML, and the kata's own report.json.

One submission's results folder holds all three; a class's results folder
holds one such folder per student, ``class.json`` and ``summary.csv``.
``report.json`` keeps every measurement, so `kata compare` reads a graded
class back without grading it again.

Every check is worth its weight from ``[weights]`` in exercise.toml (1 when
not listed), with two rules that keep the score honest:
- a performance check earns nothing while a guard of its exercise fails: a
  fast wrong answer is not an improvement;
- a guard (which the untouched starter passes too) earns nothing until some
  performance check passes: handing in the starter scores zero.
"""

from __future__ import annotations

import csv
import io
import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import catalog
from harness.catalog import Exercise, KataError
from harness.engine import checks

REPORT_FILE = "report.json"
CLASS_FILE = "class.json"
SUMMARY_FILE = "summary.csv"


@dataclass
class Graded:
    """One exercise of one submission, graded."""

    exercise: Exercise
    report: checks.Report
    seconds: float = 0.0
    check_seconds: dict[str, float] = field(default_factory=dict)

    def weight(self, check: str) -> float:
        return self.exercise.spec.weight(check)

    def scored(self) -> list[dict[str, Any]]:
        """One entry per check: name, score, max_score, status, output, execution_time."""
        guards = {c.name for c in checks.checks_of(self.exercise) if c.guard}
        guard_failed = next((r for r in self.report.checks if r.name in guards and not r.passed), None)
        improved = any(r.passed for r in self.report.checks if r.name not in guards)
        entries = []
        for number, result in enumerate(self.report.checks, 1):
            is_guard = result.name in guards
            # Nothing counts while a guard fails (a fast wrong answer is not a fix), and a guard, which the
            # starter passes too, only once a performance check passes.
            credit = result.passed and guard_failed is None and (improved or not is_guard)
            output = result.message
            if result.passed and not credit:
                output += (
                    f" ({not_counted(is_guard and guard_failed is None, guard_failed.name if guard_failed else None)})"
                )
            elif self.report.error and number > 1:
                # The submission could not be graded at all: say why once, in the first check.
                output = f"not run: see `{self.report.checks[0].name}` for why {self.exercise.name} could not be graded"
            entries.append(
                {
                    "name": f"{self.exercise.name} · {result.name}",
                    "number": f"{int(self.exercise.number)}.{number}",
                    "score": self.weight(result.name) if credit else 0.0,
                    "max_score": self.weight(result.name),
                    "status": "passed" if result.passed else "failed",
                    "output": output,
                    "execution_time": round(self.check_seconds.get(result.name, 0.0), 3),
                    "visibility": "visible",
                }
            )
        return entries

    @property
    def score(self) -> float:
        return sum(entry["score"] for entry in self.scored())

    @property
    def max_score(self) -> float:
        return sum(entry["max_score"] for entry in self.scored())


@dataclass
class Result:
    """One submission, graded: its exercises in order, or the reason it could not be graded."""

    name: str  # the submission's folder name (its results folder in a class)
    student: str  # who handed it in, when known
    tree: Path | None  # the folder holding NN_slug/ (for diffs); None if there was none
    graded: list[Graded]
    reason: str | None = None  # why nothing could be graded (an empty or badly packed upload)
    hidden_seed: int | None = None  # of the hidden correctness data it was graded with

    @property
    def score(self) -> float:
        return sum(g.score for g in self.graded)

    @property
    def max_score(self) -> float:
        return sum(g.max_score for g in self.graded)


def not_counted(is_guard: bool, failed_guard: str | None) -> str:
    """Why a passing check earns no points."""
    if is_guard:
        return "not counted until a performance check passes: the untouched starter passes this too"
    return f"not counted while {failed_guard} fails: a fast wrong answer is not a fix"


def results_json(graded: list[Graded], seconds: float, note: str = "") -> dict[str, Any]:
    tests = [entry for g in graded for entry in g.scored()]
    score = sum(t["score"] for t in tests)
    max_score = sum(t["max_score"] for t in tests)
    return {
        "score": score,
        "max_score": max_score,
        "execution_time": round(seconds, 3),
        "output": note or f"FastAPI Performance Kata: {score:g} / {max_score:g}",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def placeholder(exercises: list[Exercise]) -> dict[str, Any]:
    """The zero-score result written before any submission code runs."""
    graded = [
        Graded(
            e,
            checks.Report(
                e.name,
                False,
                [
                    checks.CheckResult(c.name, False, "not graded: grading stopped before this check ran")
                    for c in checks.checks_of(e)
                ],
                {},
            ),
        )
        for e in exercises
    ]
    return results_json(graded, 0.0, note="Grading did not finish; this is the score until it does.")


def junit_xml(graded: list[Graded], suite_name: str) -> str:
    root = ET.Element("testsuites", name=suite_name)
    for g in graded:
        entries = g.scored()
        suite = ET.SubElement(
            root,
            "testsuite",
            name=g.exercise.name,
            tests=str(len(entries)),
            failures=str(sum(e["status"] == "failed" for e in entries)),
            time=f"{g.seconds:.3f}",
        )
        for entry, result in zip(entries, g.report.checks, strict=True):
            case = ET.SubElement(
                suite, "testcase", classname=g.exercise.name, name=result.name, time=f"{entry['execution_time']:.3f}"
            )
            if entry["status"] == "failed":
                failure = ET.SubElement(case, "failure", message=entry["output"][:500])
                failure.text = entry["output"]
    root.set("tests", str(sum(int(s.get("tests", 0)) for s in root)))
    root.set("failures", str(sum(int(s.get("failures", 0)) for s in root)))
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` in one step, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_results(out: Path, result: Result, seconds: float) -> None:
    """results.json (Gradescope), junit.xml and report.json for one submission."""
    note = f"Not graded: {result.reason}" if result.reason else ""
    write_atomically(out / "results.json", json.dumps(results_json(result.graded, seconds, note), indent=2))
    write_atomically(out / "junit.xml", junit_xml(result.graded, f"kata:{result.name}"))
    report = {
        "kata_report": 1,
        "name": result.name,
        "student": result.student,
        "tree": str(result.tree) if result.tree else None,
        "reason": result.reason,
        "hidden_seed": result.hidden_seed,
        "exercises": [
            {"report": g.report.to_dict(), "seconds": round(g.seconds, 3), "check_seconds": g.check_seconds}
            for g in result.graded
        ],
    }
    write_atomically(out / REPORT_FILE, json.dumps(report, indent=2))


def write_class(out: Path, results: list[Result], seconds: float, hidden_seed: int) -> None:
    """One folder per student, then class.json and summary.csv (one row per student, a column per exercise)."""
    for result in results:
        # each student's own grading time (a folder graded once for several counts for each of them)
        write_results(out / result.name, result, sum(g.seconds for g in result.graded))
    exercises = [g.exercise.name for g in results[0].graded] if results else []
    summary = {
        "kata_class": 1,
        "hidden_seed": hidden_seed,
        "exercises": exercises,
        "execution_time": round(seconds, 3),
        "students": [
            {"name": r.name, "student": r.student, "score": r.score, "max_score": r.max_score, "reason": r.reason}
            for r in results
        ],
    }
    write_atomically(out / CLASS_FILE, json.dumps(summary, indent=2))
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["submission", "student", *exercises, "total", "max_score", "reason"])
    for r in results:
        writer.writerow(
            [r.name, r.student, *(f"{g.score:g}" for g in r.graded), f"{r.score:g}", f"{r.max_score:g}", r.reason or ""]
        )
    write_atomically(out / SUMMARY_FILE, table.getvalue())


def read_results(folder: Path) -> list[Result]:
    """The results `kata grade` wrote: a class's folder (class.json) or one submission's (report.json)."""
    if (folder / CLASS_FILE).is_file():
        data = _read_json(folder / CLASS_FILE)
        try:
            names = [str(student["name"]) for student in data["students"]]
        except (KeyError, TypeError):
            raise KataError(f"{folder / CLASS_FILE} is not a class summary written by kata grade") from None
        return [_read_report(folder / name / REPORT_FILE) for name in names]
    return [_read_report(folder / REPORT_FILE)]


def is_results_folder(folder: Path) -> bool:
    return (folder / CLASS_FILE).is_file() or (folder / REPORT_FILE).is_file()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise KataError(f"cannot read {path}: {error.strerror}") from None
    except ValueError:
        raise KataError(f"{path} is not valid JSON (a results folder written by kata grade?)") from None


def _read_report(path: Path) -> Result:
    data = _read_json(path)
    try:
        graded = []
        for entry in data["exercises"]:
            exercise = catalog.find(str(entry["report"]["exercise"]))
            report = checks.report_from_dict(exercise, entry["report"])
            if report is None:
                raise ValueError(exercise.name)
            seconds = {str(k): float(v) for k, v in dict(entry.get("check_seconds", {})).items()}
            graded.append(Graded(exercise, report, float(entry.get("seconds", 0.0)), seconds))
        tree = Path(data["tree"]) if data.get("tree") else None
        seed = data.get("hidden_seed")
        return Result(
            str(data["name"]),
            str(data.get("student") or ""),
            tree,
            graded,
            data.get("reason"),
            int(seed) if seed is not None else None,
        )
    except (KeyError, TypeError, ValueError, KataError):
        raise KataError(f"{path} is not a report written by this version of kata grade: grade again") from None
