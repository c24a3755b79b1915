"""A class graded as course staff do it: `kata grade` over a Gradescope export, then `kata compare` on the results.

The class has 30 submissions generated from the starters, the solutions and
wrong fixes of the corpus (one upload empty, one wrapped in a folder), so
most exercise folders repeat and are graded once.
"""

import csv
import io
import json
import os
import re
import shutil
import subprocess

import corpus
from conftest import ROOT, chromium, kata

from harness import catalog

ARTIFACTS = ROOT / "test-artifacts"
EXERCISES = catalog.exercises()
STUDENTS = 30


def test_a_class_graded_then_compared(tmp_path):
    """One test, as one instructor's session: a fixture shared by tests would be graded once per xdist worker."""
    plan = corpus.build_class(tmp_path / "export", tmp_path / "scratch", STUDENTS)
    out = tmp_path / "results"
    proc = subprocess.run(
        kata("grade", str(tmp_path / "export"), "--out", str(out), "--jobs", "2"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    check_one_folder_per_student_and_a_summary(plan, out)
    check_the_table_fits_80_columns(proc.stdout, tmp_path)
    shutil.rmtree(tmp_path / "export")  # compare reads the results: it grades nothing again
    check_compare_reads_the_graded_class_and_draws_it(out, tmp_path)


def check_one_folder_per_student_and_a_summary(plan, out):
    summary = json.loads((out / "class.json").read_text())
    assert len(summary["students"]) == STUDENTS
    rows = {row["submission"]: row for row in csv.DictReader(io.StringIO((out / "summary.csv").read_text()))}
    full = str(10 * len(EXERCISES))
    assert rows["submission_1000"]["total"] == full and rows["submission_1000"]["student"] == "Student 00"
    for folder, kinds in plan.items():
        data = json.loads((out / folder / "results.json").read_text())
        assert (out / folder / "junit.xml").is_file() and (out / folder / "report.json").is_file()
        if kinds is None:
            assert data["score"] == 0 and "holds no exercise folder" in data["output"]
            continue
        by_exercise = {e.number: 0.0 for e in EXERCISES}
        for test in data["tests"]:
            by_exercise[test["number"].split(".")[0].zfill(2)] += test["score"]
        for number, kind in kinds.items():
            score = by_exercise[number]
            # a wrong fix may keep the points of the guards it still passes, never all ten
            assert score == 10 if kind == "solution" else (score == 0 if kind == "starter" else score < 10), (
                folder,
                number,
                kind,
                score,
            )
        assert rows[folder]["total"] == f"{sum(by_exercise.values()):g}"


def _fits_80_columns(stdout, tmp_path):
    """Every line but those naming a file written (a path is never cut in two, to be copied whole)."""
    lines = [line for line in stdout.splitlines() if str(tmp_path) not in line]
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)


def check_the_table_fits_80_columns(stdout, tmp_path):
    lines = stdout.splitlines()
    _fits_80_columns(stdout, tmp_path)
    header = next(line for line in lines if "submission" in line and "total" in line)
    assert all(e.number in header for e in EXERCISES)
    assert "Total scores" in stdout and "passed" in stdout
    # the names give way, the numbers never do: the student with every solution shows them whole
    first = next(line for line in lines if line.lstrip().startswith("Student 00"))
    full = 10 * len(EXERCISES)
    assert first.count("10✓") == len(EXERCISES) and first.rstrip().endswith(f"{full}/{full}"), first


def check_compare_reads_the_graded_class_and_draws_it(out, tmp_path):
    html, table = tmp_path / "class.html", tmp_path / "class.csv"
    proc = subprocess.run(
        kata("compare", str(out), "--html", str(html), "--csv", str(table)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert proc.returncode == 0, proc.stderr
    _fits_80_columns(proc.stdout, tmp_path)
    totals = [line for line in table.read_text().splitlines() if ",total," in line]
    assert len(totals) == STUDENTS
    full = 10 * len(EXERCISES)
    assert any(line.startswith(f"Student 00 (submission_1000),total,pass,{full},{full}") for line in totals)
    page = html.read_text()
    assert page.count('<td class="total">') == STUDENTS + 1  # and the pass-rate row
    assert "pass rate" in page and "Total scores of the 30 submissions" in page
    assert "01_<wbr>dashboard_<wbr>n_<wbr>plus_<wbr>one" in page  # headers break between words
    assert ">1 submissions<" not in page
    assert "query_budget: 92 queries (budget 4)" in page  # the first failing check and its reason, in a cell
    assert "<script" not in page
    _fits_1400_px_in_chromium(html)


def _fits_1400_px_in_chromium(html):
    flags = [*chromium(html.parent / "chromium-profile"), "--window-size=1400,2400"]
    # The page has no JavaScript; a copy measures it: the widest thing on it against the 1,400 px window.
    probe = html.with_name("probe.html")
    probe.write_text(
        html.read_text().replace(
            "</body>",
            "<script>document.body.setAttribute('data-width', document.documentElement.scrollWidth)</script></body>",
        )
    )
    dom = subprocess.run([*flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    width = int(re.search(r'data-width="(\d+)"', dom.stdout).group(1))
    assert width <= 1400, f"the page is {width} px wide: columns would be hidden at 1,400 px"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "class-report.png"
    shot.unlink(missing_ok=True)
    subprocess.run([*flags, f"--screenshot={shot}", html.as_uri()], capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 20_000, "Chromium did not produce a screenshot"


def test_the_histogram_counts_whole_points():
    from harness.frontends.compare import Cell, histogram

    class Scored:  # a cell's graded result, as far as the histogram reads it
        def __init__(self, score: float) -> None:
            self.score, self.max_score = score, 10.0

    scores = (0, 3, 9, 10, 10)
    rows = {f"s{i}": {"01": Cell(f"s{i}", Scored(score))} for i, score in enumerate(scores)}  # type: ignore[arg-type]
    bars = dict(histogram(rows))
    assert list(bars)[:3] == ["0", "1", "2"] and list(bars)[-1] == "9-10"
    assert bars["0"] == 1 and bars["3"] == 1 and bars["9-10"] == 3
