import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _private_state(tmp_path, monkeypatch):
    """Hints, check history and whatever a graded submission writes (it may plant a results.json in
    its working directory or home) stay in the test's own folder, never the developer's or the repository's."""
    monkeypatch.setenv("KATA_STATE_DIR", str(tmp_path / "state"))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)


def kata(*args: str) -> list[str]:
    """The `kata` command as a subprocess argv, from this interpreter's environment."""
    return [sys.executable, "-c", "from harness.cli import main; main()", *args]


def free_port() -> int:
    """A loopback port nothing listens on, for a `kata serve` under test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
