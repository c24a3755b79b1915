"""Every code block of the README, run as a reader would run it.

Each block is one test. Shell blocks run line by line in a fresh checkout of
the kata (the files git tracks, committed in a new repository) with `kata` and
`pytest` on PATH: a command may fail a submission (exit 1), never crash (exit 2
or a traceback). Python blocks run under pytest beside a starter and a
solution; text blocks must appear in what the command they show prints; the
module tree must name every module of harness/. A block no rule below runs
fails the test that lists them, so a new block cannot slip by unrun.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port, fresh_clone

README = ROOT / "README.md"
# Commands this suite cannot run inside itself: they are run by CI itself (.ci/run).
RUN_BY_CI = {
    "make test": "this test suite is `make test`",
    "make test-backends": ".ci/run runs it after make test, with throwaway servers",
    "make test-postgres": "make test-backends runs the same tests with PostgreSQL and Redis",
    "make test-redis": "make test-backends runs the same tests with PostgreSQL and Redis",
}
CRASH = "Traceback (most recent call last)"


def blocks() -> list[tuple[int, str, str]]:
    """(line number, language, text) of every fenced block."""
    found, lines = [], README.read_text().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            language, start, i = lines[i][3:].strip(), i + 1, i + 1
            while not lines[i].startswith("```"):
                i += 1
            found.append((start, language, "\n".join(lines[start:i])))
        i += 1
    return found


def commands(text: str) -> list[str]:
    """A shell block's commands: comments dropped, backslash continuations joined."""
    joined = re.sub(r"\\\n\s*", "", text)
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def block_id(block: tuple[int, str, str]) -> str:
    line, language, text = block
    return f"L{line}-{language or 'plain'}-{text.strip().splitlines()[0][:30]}"


BLOCKS = blocks()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A fresh clone as a reader has it (the tracked files, one commit), and what the README's examples name."""
    root = tmp_path_factory.mktemp("reader")
    kata = fresh_clone(root / "kata")
    # path/to/alice: a student's repository with three exercises, 01 fixed
    alice = kata / "path" / "to" / "alice" / "exercises"
    for name in ("01_dashboard_n_plus_one", "02_sequential_calls", "04_compression"):
        shutil.copytree(ROOT / "exercises" / name, alice / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "solutions" / "01_dashboard_n_plus_one" / "app.py", alice / "01_dashboard_n_plus_one")
    # submissions/: a class of three
    for student, fixed in (("ada", "01_dashboard_n_plus_one"), ("grace", "04_compression"), ("linus", None)):
        shutil.copytree(alice, kata / "submissions" / student / "exercises")
        work = kata / "submissions" / student / "exercises"
        shutil.copy(ROOT / "exercises" / "01_dashboard_n_plus_one" / "app.py", work / "01_dashboard_n_plus_one")
        if fixed:
            shutil.copy(ROOT / "solutions" / fixed / "app.py", work / fixed)
    shims = root / "bin"
    shims.mkdir()
    for name, how in (("kata", '-c "from harness.frontends.cli import main; main()"'), ("pytest", "-m pytest")):
        (shims / name).write_text(f'#!/bin/sh\nexec "{sys.executable}" {how} "$@"\n')
        (shims / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KATA_DATABASE_URL", "KATA_REDIS_URL"))}
    env.update(
        PATH=f"{shims}{os.pathsep}{env['PATH']}",
        KATA_HOME=str(kata),
        KATA_STATE_DIR=str(root / "state"),
        COLUMNS="100",
        MAKEFLAGS=f"VENV={ROOT / '.venv'}",
        PYTHONPATH=str(kata),
    )
    return kata, env


def run(command: str, kata: Path, env: dict[str, str], stdin: str = "", timeout: float = 600):
    return subprocess.run(
        ["bash", "-c", command], cwd=kata, env=env, input=stdin, capture_output=True, text=True, timeout=timeout
    )


def assert_ran(command: str, proc: subprocess.CompletedProcess) -> None:
    output = proc.stdout + proc.stderr
    words = [w for w in command.split() if not re.match(r"^[A-Z_]+=", w)]  # after any VAR=value settings
    allowed = (0, 1) if words[:2] in (["kata", "check"], ["pytest", "grading/"]) else (0,)
    assert proc.returncode in allowed, f"{command}: exit {proc.returncode}\n{output[-3000:]}"
    assert CRASH not in output, f"{command} crashed:\n{output[-3000:]}"


def serve(command: str, kata: Path, env: dict[str, str]) -> str:
    """`kata serve`: it listens, answers with real latency, and stops quietly on Ctrl+C."""
    port = free_port()
    server = subprocess.Popen(
        ["bash", "-c", f"exec {command} --port {port}"],
        cwd=kata,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/organizations/1/dashboard", timeout=30)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response.status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0 and "listening on" in output and CRASH not in output, output
    return output


def run_shell_block(text: str, kata: Path, env: dict[str, str]) -> dict[str, str]:
    """Every command of the block, in order; {command: what it printed}."""
    printed = {}
    for command in commands(text):
        if command in RUN_BY_CI:
            continue
        if command.startswith("KATA_DATABASE_URL="):
            if not (os.environ.get("KATA_DATABASE_URL") and os.environ.get("KATA_REDIS_URL")):
                pytest.skip("needs real servers: make test-backends runs this block with them")
            command = re.sub(r"KATA_DATABASE_URL=\S+", f"KATA_DATABASE_URL={os.environ['KATA_DATABASE_URL']}", command)
            command = re.sub(r"KATA_REDIS_URL=\S+", f"KATA_REDIS_URL={os.environ['KATA_REDIS_URL']}", command)
            proc = run(command, kata, env)
        elif command.startswith("kata serve"):
            printed[command] = serve(command, kata, env)
            continue
        elif command.startswith("kata watch"):
            proc = run(command, kata, env, stdin="q\n")  # after its first check, q stops it
        else:
            proc = run(command, kata, env)
        assert_ran(command, proc)
        printed[command] = proc.stdout + proc.stderr
    return printed


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def shows(output: str, text: str) -> None:
    """Each line of a README text block is in the output (spacing aside)."""
    flat = _normalised(output)
    for line in text.splitlines():
        assert _normalised(line).strip() in flat, f"the README shows {line!r}, the command printed:\n{output}"


def _block(start: str) -> str:
    return next(text for _, language, text in BLOCKS if text.lstrip().startswith(start))


SHELL = [b for b in BLOCKS if b[1] == "bash"]
BACKENDS = [b for b in SHELL if b[2].lstrip().startswith("KATA_DATABASE_URL=")]


@pytest.mark.parametrize("block", [b for b in SHELL if b not in BACKENDS], ids=block_id)
def test_shell_block(block, checkout):
    kata, env = checkout
    printed = run_shell_block(block[2], kata, env)
    if "kata check 01" in printed:  # the student commands: the failure the README shows is the real one
        shows(printed["kata check 01"], _block("✗ FAIL"))
    if "kata grade path/to/alice --out results/alice" in printed:
        assert (kata / "results" / "alice" / "results.json").is_file()
    grading = next((out for command, out in printed.items() if command.startswith("pytest grading/")), None)
    if grading is not None:  # the repository's exercises/ is found, as kata grade finds it
        assert "the submission has no 01_dashboard_n_plus_one" not in grading
        assert "passed" in grading and "01_dashboard_n_plus_one::correct" not in grading.split("short test summary")[-1]
    if "kata compare results --html report.html --csv table.csv" in printed:
        assert (kata / "report.html").is_file() and (kata / "table.csv").is_file()


def test_the_real_backends_block(checkout):
    """Run by make test-backends, which starts the servers and sets both URLs (make test has none)."""
    assert len(BACKENDS) == 1
    kata, env = checkout
    printed = run_shell_block(BACKENDS[0][2], kata, env)
    assert printed, "the block ran no command"


def test_python_block_passes_on_the_fix_and_fails_on_the_starter_as_shown(checkout, tmp_path):
    kata, env = checkout
    example = next(text for _, language, text in BLOCKS if language == "python")
    folder = tmp_path / "01_dashboard_n_plus_one"
    shutil.copytree(ROOT / "exercises" / "01_dashboard_n_plus_one", folder)
    (folder / "test_dashboard.py").write_text(example + "\n")
    starter = run(f"pytest -p no:cacheprovider {shlex.quote(str(folder))}", kata, env)
    assert starter.returncode == 1, starter.stdout[-3000:]
    shows(starter.stdout, _block("AssertionError"))
    shutil.copy(ROOT / "solutions" / "01_dashboard_n_plus_one" / "app.py", folder / "app.py")
    fixed = run(f"pytest -p no:cacheprovider {shlex.quote(str(folder))}", kata, env)
    assert fixed.returncode == 0, fixed.stdout[-3000:]


def test_the_module_tree_names_every_module_of_the_harness():
    tree = next(text for _, language, text in BLOCKS if not language).splitlines()
    start = next(i for i, line in enumerate(tree) if line.startswith("harness/"))
    end = next((i for i in range(start + 1, len(tree)) if not tree[i].startswith(" ")), len(tree))
    named, package = set(), ""
    for line in tree[start + 1 : end]:
        indent = len(line) - len(line.lstrip())
        folder = re.match(r"\s*(\w+)/\s", line)
        if folder and indent == 2:
            package = folder.group(1) + "/"
            continue
        if indent == 2:
            package = ""
        if indent <= 4:
            # the first column names the modules: "x.py", or "x.py, y.py"
            head = line.strip().split("  ")[0]
            named |= {package + name for name in re.findall(r"\b(\w+\.py)\b", head)}
            named |= {package + name for name in re.findall(r"(\w+\.py):", line)}
    modules = {str(p.relative_to(ROOT / "harness")) for p in (ROOT / "harness").rglob("*.py")}
    modules -= {m for m in modules if m.endswith("/__init__.py")}  # a package is named by its folder line
    assert modules - named == set(), "modules missing from the README's tree"
    assert named - modules == set(), "the README's tree names modules that do not exist"


def test_every_block_is_run_by_a_test_here():
    """A block none of the tests above runs is a README claim nobody checks."""
    text_blocks = [text for _, language, text in BLOCKS if language == "text"]
    assert sorted(t.lstrip().split()[0] for t in text_blocks) == ["AssertionError:", "✗"]
    assert {language for _, language, _ in BLOCKS} == {"bash", "python", "text", ""}
    assert sum(1 for _, language, _ in BLOCKS if language == "python") == 1
    assert sum(1 for _, language, _ in BLOCKS if not language) == 1
    for _, _, text in SHELL:
        for command in commands(text):
            first = command.split()[0]
            assert first in ("make", "kata", "pytest") or command.startswith("KATA_"), command
