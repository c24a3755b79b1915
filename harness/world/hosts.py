"""The app hosts' parent, seen from the world: started once per grading, forks a host per world.

This module is light on purpose: the world process starts the parent first,
so that its imports (FastAPI, SQLAlchemy) run while the world imports its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import settings, wire
from harness.catalog import KATA_ROOT, SubmissionError

# Real seconds a new app host may take to import app.py before the grader gives up on it.
IMPORT_SECONDS = 60.0
ENDED = "the app's process ended"
CRASH_HINT = "does app.py call os._exit() or crash the interpreter?"


class HostFailed(Exception):
    """The app host broke the protocol or died; the sentence says which."""


@dataclass
class Zygote:
    """One pre-imported app host parent per grading run; forks a fresh host per world."""

    user: str | None = None  # run as this user (when we are root)
    memory_mb: int | None = 2048
    log: Path | None = None  # where the hosts' stdout and stderr go (the student sees its end)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kata-host-", dir=shared_tmp())))
    _process: subprocess.Popen[bytes] | None = None
    _control: socket.socket | None = None
    _copies: dict[tuple[Path, str], Path] = field(default_factory=dict)
    _ready: bool = False

    def launch(self) -> None:
        """Start the parent now (its imports take most of a second); ``fork`` waits until it is ready."""
        if self._control is not None:
            return
        (self.workdir / "tmp").mkdir(exist_ok=True)
        ours, theirs = socket.socketpair()
        env = settings.environment(
            settings.HOST_ENV, HOME=str(self.workdir), TMPDIR=str(self.workdir / "tmp"), PYTHONDONTWRITEBYTECODE="1"
        )
        command = [sys.executable, "-I", "-m", "harness.apphost.zygote", str(theirs.fileno())]
        if self.memory_mb:
            command += ["--memory-mb", str(self.memory_mb)]
        if self.user is not None:
            for path in [self.workdir, *self.workdir.rglob("*")]:
                shutil.chown(path, user=self.user)
        output = open(self.log, "ab") if self.log is not None else None  # noqa: SIM115  # None: ours
        try:
            self._process = subprocess.Popen(
                command,
                cwd=self.workdir,
                env=env,
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                user=self.user,
            )
        finally:
            theirs.close()
            if output is not None:
                output.close()
        ours.settimeout(IMPORT_SECONDS)
        self._control = ours
        self._ready = False

    def _start(self) -> socket.socket:
        self.launch()
        assert self._control is not None
        if not self._ready:
            if self._readline() != {"ready": True}:
                raise HostFailed("the app host could not start")
            self._ready = True
        return self._control

    def _readline(self) -> Any:
        assert self._control is not None
        data = b""
        while not data.endswith(b"\n"):
            chunk = self._control.recv(4096)
            if not chunk:
                raise HostFailed("the app host's parent ended")
            data += chunk
        return json.loads(data)

    def place(self, app_file: Path) -> Path:
        """A copy of the app's folder where the host's user can read it, nowhere near the original
        (one per folder and content: a folder changed since it was copied is copied again)."""
        folder = app_file.resolve().parent
        key = (folder, _digest(folder))
        if key not in self._copies:
            copy = self.workdir / f"app{len(self._copies) + 1}"
            shutil.copytree(folder, copy, ignore=_IGNORED)
            if self.user is not None:
                for path in [copy, *copy.rglob("*")]:
                    shutil.chown(path, user=self.user)
            self._copies[key] = copy
        return self._copies[key] / app_file.name

    def fork(self, app_file: Path, dialect: str = "sqlite", mode: str = "app") -> tuple[socket.socket, int]:
        """A new app host for ``app_file`` (its SQL compiled for ``dialect``): our end of its socket and its pid.

        A parent that is gone (a host of the same submission may have killed it) is started again, once.
        """
        try:
            return self._fork(app_file, dialect, mode)
        except (OSError, HostFailed, ValueError):
            self._stop()
            return self._fork(app_file, dialect, mode)

    def _fork(self, app_file: Path, dialect: str, mode: str) -> tuple[socket.socket, int]:
        control = self._start()
        placed = self.place(app_file)
        ours, theirs = socket.socketpair()
        try:
            # The grader's temporary folders: a sandboxed host sees none of them (the datasets, the world's files).
            hide = sorted({tempfile.gettempdir(), shared_tmp()})
            request = {"app": str(placed), "dialect": dialect, "mode": mode, "hide": hide}
            socket.send_fds(control, [json.dumps(request).encode()], [theirs.fileno()])
        finally:
            theirs.close()
        return ours, int(self._readline()["pid"])

    def probe(self, app_file: Path) -> None:
        """Import ``app_file`` in a host of its own: ``SubmissionError`` with the reason if it cannot be."""
        sock, pid = self.fork(app_file)
        try:
            sock.settimeout(None)
            framer = wire.Framer()
            while True:
                data = sock.recv(65536)
                if not data:
                    raise SubmissionError(f"{ENDED} while importing {app_file.name}: {CRASH_HINT}")
                frames = framer.feed(data)
                if frames:
                    break
            message, _, _ = wire.decode(frames[0])
            if isinstance(message, wire.Loaded) and message.error:
                raise SubmissionError(message.error)
        finally:
            sock.close()
            kill(pid)

    def _stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                self._process.kill()
            self._process.wait()
            self._process = None

    def close(self) -> None:
        self._stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def _digest(folder: Path) -> str:
    """What a copy of ``folder`` would hold: names and bytes of its files, as ``place`` copies them."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in relative.parts):
            if not path.name.endswith(".pyc"):
                digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def shared_tmp() -> str:
    """A folder every user can reach: the grader's own TMPDIR may be private to it."""
    return "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def host_user() -> str | None:
    """``nobody`` when grading runs as root and that user can run the kata's Python."""
    return unprivileged_user("nobody")


def unprivileged_user(name: str | None) -> str | None:
    """``name`` if we are root and that user can reach the interpreter and the kata."""
    if name is None or os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(name)
    except KeyError:
        return None
    needed = [
        Path(sys.executable).resolve(),
        Path(sys.prefix).resolve(),
        Path(sys.base_prefix).resolve(),
        KATA_ROOT.resolve(),
    ]
    for path in needed:
        for part in [path, *path.parents]:
            mode = part.stat().st_mode
            if not mode & stat.S_IXOTH or (part == path and not mode & (stat.S_IROTH | stat.S_IXOTH)):
                return None
    return name
