import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _private_state(tmp_path, monkeypatch):
    """Hints and check history of a test never touch the developer's own."""
    monkeypatch.setenv("KATA_STATE_DIR", str(tmp_path / "state"))


def kata(*args: str) -> list[str]:
    """The `kata` command as a subprocess argv, from this interpreter's environment."""
    return [sys.executable, "-c", "from harness.cli import main; main()", *args]
