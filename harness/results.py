"""Scores and result files: Gradescope's results.json and JUnit XML.

Every check is worth its weight from ``[weights]`` in exercise.toml (1 when
not listed), with two rules that keep the score honest:
- a performance check earns nothing while a guard of its exercise fails: a
  fast wrong answer is not an improvement;
- a guard (which the untouched starter passes too) earns nothing until some
  performance check passes: handing in the starter scores zero.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import checks
from harness.catalog import Exercise


@dataclass
class Graded:
    """One exercise of one submission, graded."""

    exercise: Exercise
    report: checks.Report
    seconds: float = 0.0
    check_seconds: dict[str, float] = field(default_factory=dict)

    def weight(self, check: str) -> float:
        return float(self.exercise.meta.get("weights", {}).get(check, 1))

    def scored(self) -> list[dict[str, Any]]:
        """One entry per check: name, score, max_score, status, output, execution_time."""
        guards = {c.name for c in checks.checks_of(self.exercise) if c.guard}
        guard_failed = next((r for r in self.report.checks if r.name in guards and not r.passed), None)
        improved = any(r.passed for r in self.report.checks if r.name not in guards)
        entries = []
        for number, result in enumerate(self.report.checks, 1):
            is_guard = result.name in guards
            credit = result.passed and (improved if is_guard else guard_failed is None)
            output = result.message
            if result.passed and not credit:
                output += f" ({not_counted(is_guard, guard_failed.name if guard_failed else None)})"
            elif self.report.error and number > 1:
                # The submission could not be graded at all: say why once, in the first check.
                output = f"not run: see `{self.report.checks[0].name}` for why {self.exercise.name} could not be graded"
            entries.append({
                "name": f"{self.exercise.name} · {result.name}",
                "number": f"{int(self.exercise.number)}.{number}",
                "score": self.weight(result.name) if credit else 0.0,
                "max_score": self.weight(result.name),
                "status": "passed" if result.passed else "failed",
                "output": output,
                "execution_time": round(self.check_seconds.get(result.name, 0.0), 3),
                "visibility": "visible",
            })
        return entries

    @property
    def score(self) -> float:
        return sum(entry["score"] for entry in self.scored())

    @property
    def max_score(self) -> float:
        return sum(entry["max_score"] for entry in self.scored())


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
        Graded(e, checks.Report(e.name, False, [checks.CheckResult(c.name, False, "not graded: grading stopped "
                                                                                   "before this check ran")
                                                for c in checks.checks_of(e)], {}))
        for e in exercises
    ]
    return results_json(graded, 0.0, note="Grading did not finish; this is the score until it does.")


def junit_xml(graded: list[Graded], suite_name: str) -> str:
    root = ET.Element("testsuites", name=suite_name)
    for g in graded:
        entries = g.scored()
        suite = ET.SubElement(
            root, "testsuite", name=g.exercise.name, tests=str(len(entries)),
            failures=str(sum(e["status"] == "failed" for e in entries)), time=f"{g.seconds:.3f}",
        )
        for entry, result in zip(entries, g.report.checks, strict=True):
            case = ET.SubElement(suite, "testcase", classname=g.exercise.name, name=result.name,
                                 time=f"{entry['execution_time']:.3f}")
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


def write_results(out: Path, graded: list[Graded], seconds: float, suite_name: str) -> None:
    write_atomically(out / "results.json", json.dumps(results_json(graded, seconds), indent=2))
    write_atomically(out / "junit.xml", junit_xml(graded, suite_name))
