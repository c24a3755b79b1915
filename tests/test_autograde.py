"""`kata grade` and `kata compare`: what an autograder and an instructor run."""

import csv
import json
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import corpus
import pytest
from conftest import ROOT, chromium, kata

from harness import catalog
from harness.engine import autograde, checks

ARTIFACTS = ROOT / "test-artifacts"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(kata(*args), cwd=ROOT, capture_output=True, text=True, timeout=600)


def assert_gradescope_format(data: dict) -> None:
    """The fields Gradescope's autograder reads, with their types."""
    assert isinstance(data["score"], int | float) and isinstance(data["max_score"], int | float)
    assert isinstance(data["execution_time"], int | float)
    assert data["tests"], "no tests"
    for test in data["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], int | float) and isinstance(test["max_score"], int | float)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert isinstance(test["output"], str) and test["output"]
        assert isinstance(test["execution_time"], int | float)
    assert data["score"] == sum(t["score"] for t in data["tests"])
    assert data["max_score"] == sum(t["max_score"] for t in data["tests"])


def comparable(results: dict) -> list:
    """What a grade is: every test's name, score, status and message (not its timing)."""
    return [(t["name"], t["score"], t["max_score"], t["status"], t["output"]) for t in results["tests"]]


# Where grading every exercise would only repeat the point at several times the cost: every starter and
# solution is graded by the meta-test (tests/test_meta.py), and all of them through `kata grade` by the
# Gradescope and class runs of `make test-platforms`.
SOME_NUMBERS = ("01", "02", "04")
SOME = tuple(arg for number in SOME_NUMBERS for arg in ("--exercise", number))
EXERCISES = [catalog.find(number) for number in SOME_NUMBERS]
FULL = 10 * len(EXERCISES)  # every exercise's weights add up to 10


def test_solutions_get_full_score_and_valid_result_files(tmp_path):
    proc = run("grade", "solutions", "--out", str(tmp_path), "--jobs", "2", *SOME)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "results.json").read_text())
    assert_gradescope_format(data)
    assert data["score"] == data["max_score"] == FULL
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert junit.get("tests") == str(sum(len(checks.checks_of(e)) for e in EXERCISES))
    assert junit.get("failures") == "0"
    assert f"score {FULL} / {FULL}" in proc.stdout


def test_starters_score_zero_with_teaching_messages(tmp_path):
    proc = run("grade", "exercises", "--out", str(tmp_path), "--jobs", "2", *SOME)
    assert proc.returncode == 0
    data = json.loads((tmp_path / "results.json").read_text())
    assert_gradescope_format(data)
    assert data["score"] == 0
    outputs = {t["name"]: t["output"] for t in data["tests"]}
    assert outputs["01_dashboard_n_plus_one · query_budget"].startswith("92 queries (budget 4); repeated 80x")
    assert "not counted until a performance check passes" in outputs["01_dashboard_n_plus_one · correct"]
    failures = ET.parse(tmp_path / "junit.xml").getroot().iter("failure")
    assert any("790 ms (budget 330 ms" in f.get("message") for f in failures)


def test_planted_tests_conftest_and_results_change_nothing(tmp_path):
    plain = tmp_path / "plain"
    shutil.copytree(ROOT / "exercises", plain / "exercises")
    planted = tmp_path / "planted"
    shutil.copytree(plain, planted)
    (planted / "grading").mkdir()
    (planted / "grading" / "test_everything.py").write_text("def test_all():\n    assert True\n")
    (planted / "conftest.py").write_text(
        "import pytest\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n"
    )
    (planted / "pytest.ini").write_text("[pytest]\naddopts = -p no:kata\n")
    full = {"score": 30, "max_score": 30, "tests": []}
    for place in (planted, planted / "exercises", planted / "exercises" / "01_dashboard_n_plus_one"):
        (place / "results.json").write_text(json.dumps(full))
    outputs = {}
    for name, tree in (("plain", plain), ("planted", planted)):
        out = tmp_path / f"out-{name}"
        assert run("grade", str(tree), "--out", str(out), "--jobs", "2", *SOME).returncode == 0
        outputs[name] = json.loads((out / "results.json").read_text())
    assert comparable(outputs["planted"]) == comparable(outputs["plain"])
    assert outputs["planted"]["score"] == 0


def test_zero_score_is_on_record_while_grading_runs(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text(json.dumps({"score": 30, "max_score": 30, "tests": []}))
    tree = corpus.build("loop_at_import", tmp_path / "sub")
    grader = subprocess.Popen(
        kata("grade", str(tree), "--out", str(out), "--exercise", "01", "--time-limit", "8"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while json.loads((out / "results.json").read_text())["score"] != 0:
            assert time.monotonic() < deadline and grader.poll() is None, "no zero score written"
            time.sleep(0.1)
        during = json.loads((out / "results.json").read_text())
        assert grader.poll() is None, "grading should still be running (the submission loops)"
    finally:
        grader.wait(timeout=60)
    assert_gradescope_format(during)
    assert "did not finish" in during["output"]
    final = json.loads((out / "results.json").read_text())
    assert final["score"] == 0
    assert "stopped after 8 s of real time while importing app.py" in final["tests"][0]["output"]


def test_a_broken_exercise_leaves_the_others_graded(tmp_path):
    tree = tmp_path / "sub"
    shutil.copytree(ROOT / "solutions", tree, ignore=shutil.ignore_patterns("NOTES.md"))
    corpus.build("os_exit_at_import", tmp_path / "broken")
    shutil.rmtree(tree / "04_compression")
    shutil.copytree(tmp_path / "broken" / "04_compression", tree / "04_compression")
    graded = autograde.grade_submission(tree, list(EXERCISES), checks.DEFAULT_HIDDEN_SEED, jobs=2)
    scores = {g.exercise.number: (g.score, g.max_score) for g in graded}
    assert scores == {e.number: ((0, 10) if e.number == "04" else (10, 10)) for e in EXERCISES}
    broken = next(g for g in graded if g.exercise.number == "04")
    assert "the app's process ended while importing app.py" in broken.report.checks[0].message


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """`kata compare` over exercises, solutions and a folder of three synthetic submissions."""
    root = tmp_path_factory.mktemp("compare")
    cohort = root / "cohort"
    for name, fixed in (("ada", ["01"]), ("grace", ["02", "04"]), ("linus", [])):
        shutil.copytree(ROOT / "exercises", cohort / name / "exercises")
        for number in fixed:
            exercise = catalog.find(number)
            shutil.copy(exercise.app_file(ROOT / "solutions"), cohort / name / "exercises" / exercise.name / "app.py")
    corpus.build("dropped_call", root / "dropped")
    shutil.copy(
        root / "dropped" / "02_sequential_calls" / "app.py",
        cohort / "linus" / "exercises" / "02_sequential_calls" / "app.py",
    )
    html, table = root / "report.html", root / "table.csv"
    proc = subprocess.run(
        kata(
            "compare",
            "exercises",
            "solutions",
            str(cohort),
            "--html",
            str(html),
            "--csv",
            str(table),
            "--diff",
            "--jobs",
            "2",
            *SOME,
        ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )
    return proc, html, table


def test_compare_prints_the_table_and_diffs(compared):
    proc, _, _ = compared
    assert proc.returncode == 0, proc.stderr
    rows = {
        line.split("│")[1].strip(): line
        for line in proc.stdout.splitlines()
        if line.startswith("│") and line.split("│")[1].strip()
    }
    assert set(rows) >= {"exercises", "solutions", "ada", "grace", "linus"}
    assert "pass 10/10 3.08x" in rows["ada"] and "fail 0/10" in rows["linus"]
    assert rows["ada"].rstrip(" │").endswith("10/30") and rows["solutions"].rstrip(" │").endswith("30/30")
    assert "+    analytics, weather = await asyncio.gather(" in proc.stdout  # linus' diff


def test_compare_writes_csv(compared):
    _, _, table = compared
    lines = table.read_text().splitlines()
    assert lines[0].startswith("submission,exercise,status,score,max_score,queries")
    assert len(lines) == 1 + 5 * (3 + 1)  # three exercises and the total, per submission
    assert any(line.startswith("grace,04_compression,pass,10,10,2,") for line in lines)
    assert "grace,total,fail,20,30," in table.read_text()
    failing = next(line for line in lines if line.startswith("linus,02_sequential_calls,fail,"))
    assert next(csv.reader([failing]))[11] == ""  # no improvement figure for a wrong answer


def test_compare_html_is_self_contained_and_renders_in_chromium(compared):
    _, html, _ = compared
    page = html.read_text()
    assert "<svg" in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page
    browser = chromium(html.parent / "chromium-profile")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "compare-report.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [
            *browser,
            f"--screenshot={shot}",
            "--window-size=1400,2200",
            html.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert shot.is_file() and shot.stat().st_size > 20_000, "Chromium did not produce a screenshot"


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("wrapped", 10),  # kata-main/exercises/... : the repository inside one folder
        ("empty", "the submission is empty"),
        ("app_at_top", "the submission has app.py at its top"),
        ("two_copies", "the submission holds 2 copies of the kata (a, b)"),
        ("something_else", "the submission holds no exercise folder"),
    ],
)
def test_an_upload_is_found_one_folder_deeper_or_gets_a_reason(layout, expected, tmp_path):
    upload = tmp_path / "upload"
    upload.mkdir()
    solution = ROOT / "solutions" / "01_dashboard_n_plus_one" / "app.py"
    if layout == "wrapped":
        (upload / "kata-main" / "exercises" / "01_dashboard_n_plus_one").mkdir(parents=True)
        shutil.copy(solution, upload / "kata-main" / "exercises" / "01_dashboard_n_plus_one")
        (upload / "__MACOSX").mkdir()  # what a zip made on a Mac carries beside it
    elif layout == "app_at_top":
        shutil.copy(solution, upload)
    elif layout in ("two_copies", "something_else"):
        for name in ("a", "b"):
            (upload / name / ("01_dashboard_n_plus_one" if layout == "two_copies" else "src")).mkdir(parents=True)
    out = tmp_path / "out"
    proc = run("grade", str(upload), "--out", str(out), "--exercise", "01", "--single")
    assert proc.returncode == 0, proc.stderr
    data = json.loads((out / "results.json").read_text())
    assert_gradescope_format(data)
    if isinstance(expected, int):
        assert data["score"] == expected
    else:
        assert data["score"] == 0 and expected in data["output"] and data["visibility"] == "visible"
        assert expected in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def test_a_missing_path_is_a_usage_error_with_a_reason_on_record(tmp_path):
    proc = run("grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"), "--exercise", "01")
    assert proc.returncode == 2 and "is not a folder" in proc.stderr
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["score"] == 0 and "is not a folder" in data["output"]


def test_github_classroom_gets_points_per_exercise_in_the_reporters_format(tmp_path):
    """The runner results `classroom-resources/autograding-grading-reporter` reads, one runner per exercise."""
    import base64

    import yaml

    tree = tmp_path / "sub"
    shutil.copytree(ROOT / "exercises", tree / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "solutions" / "02_sequential_calls" / "app.py", tree / "exercises" / "02_sequential_calls")
    output = tmp_path / "github_output"
    proc = run("grade", str(tree), "--out", str(tmp_path / "out"), "--single", *SOME, "--github-output", str(output))
    assert proc.returncode == 0, proc.stderr
    runners = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert list(runners) == ["ex01", "ex02", "ex04"]
    decoded = {k: json.loads(base64.b64decode(v)) for k, v in runners.items()}
    for result in decoded.values():
        assert result["version"] == 1 and result["status"] in ("pass", "fail", "error")
        assert result["max_score"] == 10
        for test in result["tests"]:
            assert test["status"] in ("pass", "fail") and isinstance(test["score"], int | float)
            assert isinstance(test["name"], str) and isinstance(test["message"], str)
    # What the reporter posts to the dashboard: the sum of the tests' scores over the sum of max_score.
    assert sum(t["score"] for r in decoded.values() for t in r["tests"]) == 10
    assert decoded["ex02"]["status"] == "pass" and decoded["ex01"]["status"] == "fail"
    # The workflow hands every exercise's output to the reporter under the name it reads (<ID>_RESULTS).
    workflow = yaml.safe_load((ROOT / "autograder" / "github-classroom" / "classroom.yml").read_text())
    steps = next(iter(workflow["jobs"].values()))["steps"]
    grade_step = next(s for s in steps if s.get("id") == "grade")
    assert '--github-output "$GITHUB_OUTPUT"' in grade_step["run"]
    reporter = next(
        s for s in steps if str(s.get("uses", "")).startswith("classroom-resources/autograding-grading-reporter@")
    )
    ids = reporter["with"]["runners"].split(",")
    assert ids == [f"ex{e.number}" for e in catalog.exercises()]
    for runner in ids:
        assert reporter["env"][f"{runner.upper()}_RESULTS"] == f"${{{{ steps.grade.outputs.{runner} }}}}"


def test_a_gradescope_export_is_a_class_even_with_one_real_submission(tmp_path):
    export = tmp_path / "export"
    shutil.copytree(
        ROOT / "exercises" / "01_dashboard_n_plus_one",
        export / "submission_101" / "exercises" / "01_dashboard_n_plus_one",
    )
    shutil.copy(
        ROOT / "solutions" / "01_dashboard_n_plus_one" / "app.py",
        export / "submission_101" / "exercises" / "01_dashboard_n_plus_one",
    )
    (export / "submission_102").mkdir()
    (export / "submission_metadata.yml").write_text(
        "submission_101:\n  :submitters:\n  - :name: Ada\nsubmission_102:\n  :submitters:\n  - :name: Bob\n"
    )
    out = tmp_path / "out"
    proc = run("grade", str(export), "--out", str(out), "--exercise", "01")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "class.json").read_text())
    assert [(s["name"], s["student"], s["score"]) for s in summary["students"]] == [
        ("submission_101", "Ada", 10),
        ("submission_102", "Bob", 0),
    ]
    ada = json.loads((out / "submission_101" / "results.json").read_text())
    bob = json.loads((out / "submission_102" / "results.json").read_text())
    assert ada["execution_time"] > 0 and bob["execution_time"] == 0  # each student's own grading time
    assert "the submission is empty" in bob["output"]


def test_one_copy_of_the_kata_among_other_folders_is_graded(tmp_path):
    upload = tmp_path / "upload"
    shutil.copytree(ROOT / "exercises" / "01_dashboard_n_plus_one", upload / "kata-main" / "01_dashboard_n_plus_one")
    (upload / "notes").mkdir()
    (upload / "notes" / "todo.txt").write_text("x")
    proc = run("grade", str(upload), "--out", str(tmp_path / "out"), "--exercise", "01", "--single")
    assert proc.returncode == 0
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert "92 queries (budget 4)" in json.dumps(data)  # graded: the starter's own failure, not a packing reason


def test_staff_hear_when_grading_cannot_drop_root(monkeypatch):
    from harness.engine import isolation

    monkeypatch.setattr(isolation.os, "geteuid", lambda: 0)
    monkeypatch.setattr(isolation, "unprivileged_user", lambda name: None)
    note = isolation.privilege_note(isolation.Limits())
    assert note and "run as root" in note and "'nobody' cannot reach" in note
    assert isolation.privilege_note(isolation.Limits(user=None)) is None
