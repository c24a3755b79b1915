"""What an app host may not do: a web app never needs any of it.

Applied in each forked app host before the submission is imported: no
descriptor but its socket (and the log it prints to), resource limits, and an
audit hook that refuses native code (``ctypes``), new processes, the network,
other processes' ``/proc`` entries and writes outside its temporary folder.
"""

from __future__ import annotations

import importlib.machinery
import os
import resource
import sys
from pathlib import Path
from typing import Any

SOCKET_FD = 3


def keep_only(sock_fd: int) -> int:
    """Close every descriptor but stdin/stdout/stderr and the socket, which becomes ``SOCKET_FD``."""
    if sock_fd != SOCKET_FD:
        os.dup2(sock_fd, SOCKET_FD)
        os.close(sock_fd)
    os.closerange(SOCKET_FD + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    return SOCKET_FD


def limit_resources(memory_mb: int | None) -> None:
    limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, 64 * 1024 * 1024)]
    if memory_mb:
        limits.append((resource.RLIMIT_AS, memory_mb * 1024 * 1024))
    for which, value in limits:
        resource.setrlimit(which, (value, value))


_REFUSED = (
    "ctypes.",
    "os.fork",
    "os.forkpty",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.system",
    "os.startfile",
    "subprocess.Popen",
    "socket.__new__",
    "socket.bind",
    "socket.connect",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
    "socket.sendto",
    "socket.sendmsg",
    "resource.setrlimit",
    "resource.prlimit",
    "sys.remote_exec",
    "os.setuid",
    "os.chroot",
)
_PATH_CHANGES = {
    "os.rename": 2,
    "os.remove": 1,
    "os.rmdir": 1,
    "os.mkdir": 1,
    "os.chmod": 1,
    "os.chown": 1,
    "os.symlink": 2,
    "os.link": 2,
    "os.truncate": 1,
    "os.utime": 1,
    "shutil.rmtree": 1,
    "shutil.copyfile": 2,
    "shutil.move": 2,
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


# Modules that reach native code or start processes without an audit event of their own.
_REFUSED_MODULES = {"_posixsubprocess", "_ctypes", "_testcapi", "_testinternalcapi", "_xxsubinterpreters"}


class Refused(PermissionError):
    pass


def _drop_process_spawning() -> None:
    """``_posixsubprocess.fork_exec`` starts processes without an audit event: take it away."""
    module = sys.modules.get("_posixsubprocess")
    if module is not None and hasattr(module, "fork_exec"):
        del module.fork_exec
    subprocess = sys.modules.get("subprocess")
    if subprocess is not None:
        subprocess._fork_exec = None  # type: ignore[attr-defined]


def install_audit_hook(writable: Path) -> None:
    """From now on this process refuses what grading never allows (``sys.addaudithook`` cannot be undone)."""
    _drop_process_spawning()
    allowed = str(writable.resolve()) + os.sep
    own = str(os.getpid())
    installed = tuple(
        os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    )
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES) + (".so",)

    def refuse(what: str) -> None:
        raise Refused(f"the grader's app host does not allow {what}: a web app never needs it")

    def may_write(path: Any) -> bool:
        if isinstance(path, int):
            return True  # an open descriptor: it was checked when it was opened
        try:
            resolved = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return resolved.startswith(allowed) and not resolved.endswith(suffixes)

    def foreign_proc(path: Any) -> bool:
        if isinstance(path, int):
            return False
        try:
            parts = Path(os.path.realpath(os.fsdecode(path))).parts
        except (TypeError, ValueError):
            return True
        return (
            len(parts) > 2
            and parts[1] == "proc"
            and parts[2] not in (own, "self", "thread-self")
            and (parts[2].isdigit())
        )

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            if foreign_proc(path):
                refuse(f"opening {path}")
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing and not may_write(path):
                refuse(f"writing {path}")
            return
        if event == "import":
            module, filename = (tuple(args) + (None, None))[:2]
            if str(module).split(".")[0] in _REFUSED_MODULES:
                refuse(f"importing {module}")
            if filename and not str(filename).endswith((".py", ".pyc")):
                if not os.path.realpath(str(filename)).startswith(installed):
                    refuse(f"loading native code from {filename}")
            return
        if event.startswith(_REFUSED) or event == "code.__new__":
            refuse(event)
        if event in _PATH_CHANGES:
            for path in args[: _PATH_CHANGES[event]]:
                if not may_write(path):
                    refuse(f"{event} on {path}")
        if event == "os.killpg" or (event == "os.kill" and args and str(args[0]) != own):
            refuse(event)

    sys.addaudithook(hook)
