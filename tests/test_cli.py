"""The `kata` command as students and autograders call it."""

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import corpus
import pytest
from conftest import ROOT, kata

from harness import catalog


def run(*args, cwd=ROOT):
    proc = subprocess.run(kata(*args), cwd=cwd, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


METRIC_KEYS = {"queries", "rows_read", "db_ms", "external_ms", "transfer_ms", "total_ms", "response_bytes"}


def test_check_json_on_the_starter_fails_with_the_documented_shape():
    code, out, _ = run("check", "01", "--json")
    assert code == 1
    report = json.loads(out)
    assert set(report) == {"exercise", "passed", "checks", "metrics", "score", "max_score"}
    assert report["exercise"] == "01_dashboard_n_plus_one" and report["passed"] is False
    assert (report["score"], report["max_score"]) == (0, 10)
    assert all(set(c) == {"name", "passed", "message", "points", "max_points", "counted"} for c in report["checks"])
    assert set(report["metrics"]) == METRIC_KEYS
    budget = next(c for c in report["checks"] if c["name"] == "query_budget")
    assert budget["message"] == "92 queries (budget 4); repeated 80x: SELECT users WHERE users.id = ? from app.py:39"
    correct = next(c for c in report["checks"] if c["name"] == "correct")
    assert correct["passed"] and not correct["counted"] and correct["points"] == 0


def test_check_gives_points_and_does_not_count_fast_wrong_answers(tmp_path):
    """A performance check that passes while `correct` fails is shown as not counted, with the points."""
    tree = corpus.build("dropped_call", tmp_path / "tree")
    code, out, _ = run("check", "02", "--path", str(tree))
    assert code == 1
    flat = re.sub(r"\s+", " ", out)  # a long message wraps under itself
    assert re.search(r"✓ pass 0/4 external_time: [^✓✗]*\(not counted while correct fails", flat), out
    assert "score 0/10" in out


@pytest.mark.parametrize("case", ["syntax_error", "import_error", "sys_exit_at_import"])
def test_a_file_that_cannot_load_is_reported_once_and_exits_1(case, tmp_path):
    tree = corpus.build(case, tmp_path / "tree")
    number = corpus.CASES[case].exercise
    code, out, err = run("check", number, "--path", str(tree))
    assert code == 1, err
    reason = corpus.CASES[case].words
    assert re.sub(r"\s+", " ", out).count(reason) == 1, out
    assert "✓" not in out and "Traceback" not in out + err


def test_check_stops_an_endless_loop_after_the_time_limit(tmp_path):
    tree = corpus.build("loop_at_import", tmp_path / "tree")
    code, out, _ = run("check", "01", "--path", str(tree), "--time-limit", "4")
    assert code == 1
    flat = re.sub(r"\s+", " ", out)
    assert "stopped after 4 s of real time while importing app.py: look for an endless loop" in flat


def test_check_shows_what_the_app_printed(tmp_path):
    shutil.copytree(ROOT / "solutions" / "02_sequential_calls", tmp_path / "tree" / "02_sequential_calls")
    app_file = tmp_path / "tree" / "02_sequential_calls" / "app.py"
    app_file.write_text('print("hello from app.py")\n' + app_file.read_text())
    code, out, _ = run("check", "02", "--path", str(tmp_path / "tree"))
    assert code == 0 and "hello from app.py" in out
    code, out, err = run("check", "02", "--path", str(tmp_path / "tree"), "--json")
    assert json.loads(out)["passed"] and "hello from app.py" in err


@pytest.mark.parametrize("number", ["1", "02", "compression"])
def test_check_passes_on_the_solutions(number):
    code, out, _ = run("check", number, "--path", "solutions")
    assert code == 0, out
    assert "All checks pass" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("check", "99"), "there is no exercise '99'"),
        (("check", "01", "--path", "/no/such/dir"), "is not a directory"),
        (("check", "01", "--path", "{import_error}"), "no 01_dashboard_n_plus_one/app.py"),
        (("profile", "01", "--scale", "3x3"), "unknown scale"),
        (("hint", "nope"), "there is no exercise"),
        (("profile", "03", "--hang", "wheather"), "there is no service 'wheather'"),
        (("grade", "exercises", "--jobs", "0"), "--jobs"),
    ],
)
def test_user_errors_are_one_sentence_and_exit_2(args, words, tmp_path):
    trees = {name: str(corpus.build(name, tmp_path / name)) for name in ("import_error",)}
    code, out, err = run(*(arg.format(**trees) for arg in args))
    assert code == 2
    assert words in err
    assert "Traceback" not in out + err


def test_profile_stops_an_endless_loop_after_the_time_limit(tmp_path):
    tree = corpus.build("loop_at_import", tmp_path / "tree")
    code, out, err = run("profile", "01", "--path", str(tree), "--time-limit", "3")
    assert code == 1 and "stopped after 3 s of real time" in err and "Traceback" not in out + err


def test_an_app_that_runs_out_of_memory_at_import_says_so(tmp_path):
    shutil.copytree(ROOT / "exercises" / "01_dashboard_n_plus_one", tmp_path / "tree" / "01_dashboard_n_plus_one")
    app_file = tmp_path / "tree" / "01_dashboard_n_plus_one" / "app.py"
    app_file.write_text("raise MemoryError\n" + app_file.read_text())
    code, out, _ = run("check", "01", "--path", str(tmp_path / "tree"))
    assert code == 1 and "importing app.py ran out of memory" in re.sub(r"\s+", " ", out)


def test_hints_wrap_and_keep_every_word_at_80_columns():
    """A bullet longer than the terminal wraps; no word is cut off."""
    from harness.frontends import state

    sections = state.hints(catalog.find("02"))
    for number, section in enumerate(sections, 1):
        proc = subprocess.run(
            kata("hint", "02"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "80"},
        )
        flat = re.sub(r"\s+", " ", proc.stdout)
        prose = re.sub(r"```.*?```", "", section, flags=re.S)  # code blocks are shown as they are
        for line in prose.splitlines():
            words = re.sub(r"[`*_#>]", "", line).split()
            if words:
                assert words[-1] in flat, f"hint {number}: {line!r} lost its end:\n{proc.stdout}"


def test_profile_of_an_app_that_cannot_load_fails_in_one_sentence(tmp_path):
    tree = corpus.build("syntax_error", tmp_path / "tree")
    code, out, err = run("profile", "01", "--path", str(tree))
    assert code == 1
    assert "app.py line 20 has a syntax error" in err and "Traceback" not in out + err


@pytest.mark.parametrize(
    ("scale", "queries", "db_ms"),
    [("5x4", 27, 135.0), ("10x8", 92, 460.0), ("20x10", 222, 1110.0), ("50x20", 1052, 5260.0)],
)
def test_profile_reproduces_the_lecture_scaling_table(scale, queries, db_ms):
    code, out, _ = run("profile", "01", "--scale", scale, "--json")
    assert code == 0
    data = json.loads(out)
    assert METRIC_KEYS | {"scale", "fingerprints"} <= set(data)
    assert (data["scale"], data["queries"], data["db_ms"], data["external_ms"]) == (
        scale,
        queries,
        db_ms,
        600.0,
    )
    assignees = queries - 2 - int(scale.split("x")[0])
    top = data["fingerprints"][0]
    assert {k: top[k] for k in ("sql", "count", "call_site", "rows")} == {
        "sql": "SELECT users WHERE users.id = ?",
        "count": assignees,
        "call_site": "app.py:39",
        "rows": assignees,  # one user per lookup
    }
    code, out, _ = run("profile", "01", "--scale", scale, "--json", "--path", "solutions")
    fixed = json.loads(out)
    assert fixed["queries"] <= 4 and fixed["external_ms"] <= 330


def test_profile_draws_the_staircase():
    code, out, _ = run("profile", "01", "--scale", "5x4")
    assert code == 0
    bars = [line for line in out.splitlines() if line.startswith("SELECT users WHERE users.id")]
    starts = [len(line) - len(line.split("█", 1)[1]) for line in bars]
    assert len(bars) == 20 and starts == sorted(starts) and starts[0] < starts[-1]


def test_profile_shows_the_failed_and_the_timed_out_call():
    code, out, _ = run("profile", "03", "--path", "solutions", "--hang", "weather", "--fail", "billing", "--json")
    assert code == 0
    data = json.loads(out)
    outcomes = {call["service"]: call["outcome"] for call in data["calls"]}
    assert outcomes == {"analytics": "200", "weather": "timeout", "billing": "500"}
    assert data["status"] == 200 and data["faults"] == {"weather": "hang", "billing": "fail"}
    code, out, _ = run("profile", "03", "--hang", "weather")  # the starter: no timeout, no response
    assert code == 0
    assert "no response" in out and "did not finish within 120 s" in out
    assert "weather (cancelled)" in out  # its row in the waterfall


def test_hints_come_one_at_a_time_and_stop_at_the_last(tmp_path):
    texts = [run("hint", "01")[1] for _ in range(5)]
    assert "hint 1 of" in texts[0] and "hint 2 of" in texts[1]
    total = int(texts[0].split("hint 1 of ")[1].split()[0])
    assert f"hint {total} of {total}" in texts[-1] and "last hint" in texts[-1]


def test_list_shows_the_state_of_the_students_own_checks(tmp_path, monkeypatch):
    """Checks of the student's tree are recorded; `--path solutions` never overwrites them."""
    home = _own_copy_of_the_kata(tmp_path)
    monkeypatch.setenv("KATA_HOME", str(home))
    out = run("list", cwd=tmp_path)[1]
    assert "not checked" in out and f"0/{len(catalog.exercises())} passed" in out
    shutil.copy(ROOT / "solutions" / "02_sequential_calls" / "app.py", home / "exercises" / "02_sequential_calls")
    code, out, err = run("check", "02", cwd=tmp_path)
    assert code == 0, out + err
    assert run("check", "02", "--path", str(ROOT / "exercises"), cwd=tmp_path)[0] == 1  # not the student's tree
    out = run("list", cwd=tmp_path)[1]
    row = next(line for line in out.splitlines() if "sequential_calls" in line)
    assert "passed" in row and f"1/{len(catalog.exercises())} passed" in out


def _own_copy_of_the_kata(tmp_path: Path) -> Path:
    """A student's checkout: exercises/ of their own (KATA_HOME), the kata's code from this one."""
    home = tmp_path / "kata"
    shutil.copytree(ROOT / "exercises", home / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    return home


class Watcher:
    """`kata watch` in a subprocess: its output as it comes, keys typed on its stdin."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            kata("watch", *args),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True).start()

    @property
    def output(self) -> str:
        """What it printed, without colours (the screen clears stay)."""
        return re.sub(r"\x1b\[[0-9;]*m", "", "".join(self.lines))

    def wait_for(self, words: str, count: int = 1, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.output.count(words) < count:
            assert time.monotonic() < deadline and self.proc.poll() is None, self.output
            time.sleep(0.1)

    def type(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self) -> str:
        self.type("q")
        assert self.proc.wait(timeout=60) == 0
        time.sleep(0.2)
        return self.output


WATCHING = "save a file to check again"


def test_watch_checks_once_per_save_and_offers_the_next_exercise(tmp_path):
    for number in ("01", "02"):
        name = catalog.find(number).name
        shutil.copytree(ROOT / "solutions" / name, tmp_path / "tree" / name)
    app_file = tmp_path / "tree" / "01_dashboard_n_plus_one" / "app.py"
    watcher = Watcher("01", "--path", str(tmp_path / "tree"), env={**os.environ, "FORCE_COLOR": "1"})
    watcher.wait_for(WATCHING)
    assert "Type n and Enter to watch the next exercise, 02_sequential_calls" in watcher.output
    # A save as many editors do it: the new text into a temporary file, a backup, then a rename.
    source = app_file.read_text()
    temporary = app_file.with_name(".app.py.swp")
    temporary.write_text(source + "\n# saved again\n")
    (app_file.parent / "app.py~").write_text(source)
    os.replace(temporary, app_file)
    watcher.wait_for(WATCHING, count=2)
    time.sleep(2)  # a second check, if one came, would have started by now
    assert watcher.output.count("kata watch 01") == 2
    watcher.type("n")
    watcher.wait_for(WATCHING, count=3)
    output = watcher.stop()
    assert "kata watch 02" in output
    rounds = re.findall(r"(\d\d:\d\d:\d\d)\S*\s+\S*kata watch (\d\d)", output)
    assert [number for _, number in rounds] == ["01", "01", "02"], output
    assert output.count("\x1b[2J") == 3  # the screen is cleared before each round


def test_reset_restores_the_starter_and_keeps_the_students_version(tmp_path):
    shutil.copytree(ROOT / "solutions" / "02_sequential_calls", tmp_path / "tree" / "02_sequential_calls")
    app_file = tmp_path / "tree" / "02_sequential_calls" / "app.py"
    mine = app_file.read_text()
    code, out, _ = run("reset", "02", "--path", str(tmp_path / "tree"))
    assert code == 0 and "Your version is saved as" in out
    assert app_file.read_text() == (ROOT / "exercises" / "02_sequential_calls" / "app.py").read_text()
    backups = list((tmp_path / "state" / "backups" / "02_sequential_calls").iterdir())
    assert [b.read_text() for b in backups] == [mine]
    code, out, _ = run("reset", "02", "--path", str(tmp_path / "tree"))
    assert code == 0 and "nothing to do" in out
    app_file.unlink()
    code, out, _ = run("reset", "02", "--path", str(tmp_path / "tree"))
    assert code == 0 and "(there was no file)" in out and app_file.is_file()
    code, _, err = run("reset", "02", "--path", str(tmp_path / "tree"), "--from", "no-such-revision")
    assert code == 2 and "cannot read exercises/02_sequential_calls/app.py at no-such-revision" in err
