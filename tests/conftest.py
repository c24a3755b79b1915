import os
import shutil
import socket
import subprocess
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


@pytest.fixture(scope="session")
def hosts():
    """One app hosts' parent for the tests that grade in this process: it forks a fresh host per world
    (what ``kata grade`` does per exercise), and importing FastAPI once saves most of a second a grade."""
    from harness.world.hosts import Zygote

    zygote = Zygote()
    yield zygote
    zygote.close()


def kata(*args: str) -> list[str]:
    """The `kata` command as a subprocess argv, from this interpreter's environment."""
    return [sys.executable, "-c", "from harness.frontends.cli import main; main()", *args]


def free_port() -> int:
    """A loopback port nothing listens on, for a `kata serve` under test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


GIT_IDENTITY = ["-c", "user.name=kata-tests", "-c", "user.email=kata-tests@example.invalid"]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *GIT_IDENTITY, *args], check=True, capture_output=True)


def fresh_clone(dest: Path) -> Path:
    """The kata as a fresh clone has it: the files git tracks here (as they are now), in a new repository
    with one commit. Modification times are kept, so make sees the installed venv as up to date."""
    listing = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout
    for name in filter(None, listing.decode().split("\0")):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "clone")
    return dest


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium(profile: Path) -> list[str]:
    """Headless Chromium's command line, with its own profile folder; skips the test where it is not installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no Chromium here (CI installs the Debian package `chromium`)")
    return [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]


def run_kata(
    *args: str, cwd: Path = ROOT, home: Path | None = None, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`kata ARGS` as a user runs it, from ``cwd``; ``home``: another copy of the kata (KATA_HOME)."""
    env = {**os.environ, **(env or {}), **({"KATA_HOME": str(home)} if home else {})}
    return subprocess.run(kata(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
