"""The `kata` command as students and autograders call it."""

import json
import subprocess

import corpus
import pytest
from conftest import ROOT, free_port, kata


def run(*args, env_state=None):
    proc = subprocess.run(kata(*args), cwd=ROOT, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


METRIC_KEYS = {"queries", "db_ms", "external_ms", "transfer_ms", "total_ms", "response_bytes"}


def test_check_json_on_the_starter_fails_with_the_documented_shape():
    code, out, _ = run("check", "01", "--json")
    assert code == 1
    report = json.loads(out)
    assert set(report) == {"exercise", "passed", "checks", "metrics"}
    assert report["exercise"] == "01_dashboard_n_plus_one" and report["passed"] is False
    assert all(set(c) == {"name", "passed", "message"} for c in report["checks"])
    assert set(report["metrics"]) == METRIC_KEYS
    budget = next(c for c in report["checks"] if c["name"] == "query_budget")
    assert budget["message"] == "92 queries (budget 4); repeated 80x: SELECT users WHERE users.id = ? from app.py:39"


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
        (("check", "02", "--path", "{import_error}"), "No module named 'fast_httpx_turbo'"),
        (("profile", "01", "--path", "{syntax_error}"), "syntax error"),
        (("profile", "01", "--scale", "3x3"), "unknown scale"),
        (("hint", "nope"), "there is no exercise"),
        (("profile", "03", "--hang", "wheather"), "there is no service 'wheather'"),
    ],
)
def test_user_errors_are_one_sentence_and_exit_2(args, words, tmp_path):
    trees = {name: str(corpus.build(name, tmp_path / name)) for name in ("import_error", "syntax_error")}
    code, out, err = run(*(arg.format(**trees) for arg in args))
    assert code == 2
    assert words in err
    assert "Traceback" not in out + err


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
    assert data["fingerprints"][0] == {
        "sql": "SELECT users WHERE users.id = ?",
        "count": queries - 2 - int(scale.split("x")[0]),
        "call_site": "app.py:39",
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


def test_list_shows_the_state_of_the_last_check():
    assert "not checked" in run("list")[1]
    run("check", "02", "--path", "solutions")
    out = run("list", "--path", "solutions")[1]
    row = next(line for line in out.splitlines() if "sequential_calls" in line)
    assert "passed" in row


def test_serve_runs_the_app_with_real_latency():
    import time

    import httpx

    port = free_port()
    server = subprocess.Popen(
        kata("serve", "02", "--port", str(port)), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/organizations/999/overview", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "kata serve did not start"
                time.sleep(0.2)
        start = time.monotonic()
        response = httpx.get(f"http://127.0.0.1:{port}/organizations/1/overview", timeout=30)
        elapsed = time.monotonic() - start
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[0]
    assert response.status_code == 200 and set(response.json()) >= {"analytics", "weather", "subscription"}
    # Real time: the three sequential calls (280 + 320 + 190 ms) are really waited for.
    assert elapsed >= 0.79
    assert "GET /organizations/1/overview → 200 · 1 queries" in log


def test_watch_checks_again_after_each_save(tmp_path):
    import shutil
    import threading
    import time

    shutil.copytree(ROOT / "solutions" / "02_sequential_calls", tmp_path / "tree" / "02_sequential_calls")
    app_file = tmp_path / "tree" / "02_sequential_calls" / "app.py"
    proc = subprocess.Popen(
        kata("watch", "02", "--path", str(tmp_path / "tree"), "--runs", "2"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while not any("save a file to check again" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert any("All checks pass" in line for line in lines), "".join(lines)
    # A save that breaks the fix: the billing call dropped from the gather.
    source = app_file.read_text()
    broken = source.replace("asyncio.gather(", "asyncio.gather(asyncio.sleep(0), ", 1)
    assert broken != source
    app_file.write_text(broken)
    assert proc.wait(timeout=120) == 0
    reader.join(timeout=10)
    output = "".join(lines)
    assert output.count("02_sequential_calls") >= 2 and "✗ FAIL" in output.split("save a file")[1], output


def test_reset_restores_the_starter_and_keeps_the_students_version(tmp_path):
    import shutil

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
    code, _, err = run("reset", "02", "--path", str(tmp_path / "tree"), "--from", "no-such-revision")
    assert code == 2 and "cannot read exercises/02_sequential_calls/app.py at no-such-revision" in err
