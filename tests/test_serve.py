"""`kata serve`: the app under uvicorn in real time, started and stopped as a student does it."""

import os
import pty
import select
import subprocess
import sys
import time

import corpus
import httpx
from conftest import ROOT, free_port, kata


class Terminal:
    """`kata serve` on a pseudo-terminal, so Ctrl+C is a real keypress, as in a student's shell."""

    def __init__(self, *args: str) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes kata serve
            os.chdir(ROOT)
            os.execv(sys.executable, kata(*args))
        self.output = b""
        self.closed = False

    def read(self, seconds: float, until: bytes | None = None) -> str:
        deadline = time.monotonic() + seconds
        while not self.closed and time.monotonic() < deadline and not (until and until in self.output):
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:  # the child ended
                    break
        return self.output.decode(errors="replace")

    def ctrl_c(self) -> int:
        os.write(self.fd, b"\x03")
        self.read(15, until=b"stopped")
        _, status = os.waitpid(self.pid, 0)
        self.read(0.5)
        os.close(self.fd)
        self.closed = True
        return os.waitstatus_to_exitcode(status)


def test_serve_runs_the_app_with_real_latency_and_stops_quietly_on_ctrl_c():
    port = free_port()
    terminal = Terminal("serve", "01", "--port", str(port))
    assert "listening on" in terminal.read(60, until=b"listening on")
    start = time.monotonic()
    response = httpx.get(f"http://127.0.0.1:{port}/organizations/1/dashboard", timeout=30)
    elapsed = time.monotonic() - start
    assert response.status_code == 200 and response.json()["organization"]
    # Real time: 92 queries of 5 ms and the two partner calls in sequence are really waited for.
    assert elapsed >= 1.0
    terminal.read(2, until=b"92 queries")
    code = terminal.ctrl_c()
    output = terminal.read(0)
    assert "GET /organizations/1/dashboard → 200 · 92 queries" in output
    assert "stopped" in output and code == 0
    assert "Traceback" not in output and "CancelledError" not in output, output


def test_a_broken_app_is_reported_before_any_listening_line(tmp_path):
    tree = corpus.build("syntax_error", tmp_path / "tree")
    proc = subprocess.run(
        kata("serve", "01", "--path", str(tree), "--port", str(free_port())),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "app.py line 20 has a syntax error" in proc.stderr
    assert "listening" not in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def test_a_busy_port_is_one_sentence_naming_the_option():
    port = free_port()
    terminal = Terminal("serve", "02", "--port", str(port))
    try:
        terminal.read(60, until=b"listening on")
        proc = subprocess.run(
            kata("serve", "02", "--port", str(port)), cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    finally:
        terminal.ctrl_c()
    assert proc.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in proc.stderr and "--port" in proc.stderr
    assert "Traceback" not in proc.stderr and "listening" not in proc.stdout
