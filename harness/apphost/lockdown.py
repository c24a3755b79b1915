"""What an app host may not do: a web app never needs any of it.

Applied in each forked app host before the submission is imported, in layers:

1. Descriptors and limits: nothing open but stdin/stdout/stderr and the
   socket; limits on memory, file size and core dumps.
2. A sandbox, where the kernel lets us (root with ``CAP_SYS_ADMIN``): a mount
   and a network namespace of its own. Every mount is read-only, ``/tmp`` and
   the grader's temporary folders are an empty, ``noexec`` tmpfs holding only
   the app's folder and a fresh temporary folder, ``/proc`` is empty, and
   there is no network device. Elsewhere (a Docker container without that
   capability, a student's laptop) the host runs as ``nobody`` where it can,
   and the next layer is what stands.
3. An audit hook, which no code can remove: it refuses native code
   (``ctypes``, extension modules from outside the installation), new
   processes, sockets, signals to other processes, other processes' ``/proc``
   entries, relative paths (``dir_fd`` tricks) and writes or SQLite files
   outside the host's own temporary folder.
"""

from __future__ import annotations

import importlib.machinery
import os
import resource
import sys
import tempfile
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


# --- the sandbox (Linux namespaces) -----------------------------------------------

_CLONE_NEWNS, _CLONE_NEWNET = 0x00020000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_O_PATH = 0o10000000


def sandbox(app_dir: Path, hidden: list[str]) -> tuple[Path, Path] | None:
    """Enter a mount and network namespace of our own; the app's folder and a fresh temporary folder inside it.

    None where the kernel refuses (no privilege): nothing has changed then.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except (OSError, AttributeError):
        return None
    if libc.unshare(_CLONE_NEWNS | _CLONE_NEWNET) != 0:
        return None

    def mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> bool:
        encoded = [s.encode() if s is not None else None for s in (source, target, kind, data)]
        return bool(libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]) == 0)

    if not mount(None, "/", None, _MS_REC | _MS_PRIVATE):
        raise OSError("cannot make the app host's mounts private")
    with open("/proc/self/mountinfo") as info:
        points = sorted({line.split()[4] for line in info}, key=len)
    # What the host needs from under the folders about to be hidden: the app, Python, the harness.
    import harness

    needed = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, os.path.dirname(harness.__file__))}
    kept = {path: os.open(path, _O_PATH | os.O_DIRECTORY) for path in needed}
    app_fd = os.open(app_dir, _O_PATH | os.O_DIRECTORY)
    for point in points:  # read-only everywhere (a mount whose flags are locked keeps them: ignored)
        mount(None, point, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY)
    empty = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
    if not mount("tmpfs", "/tmp", "tmpfs", empty, "size=64m,mode=755"):
        raise OSError("cannot give the app host a temporary folder")
    for folder in hidden:  # the grader's folders elsewhere than /tmp
        if os.path.isdir(folder) and not mount("tmpfs", folder, "tmpfs", empty, "size=1m"):
            raise OSError(f"cannot hide {folder} from the app host")
    inside = Path("/tmp/app")
    writable = Path("/tmp/tmp")
    inside.mkdir()
    writable.mkdir(mode=0o1777)
    for target, fd in [(str(inside), app_fd), *sorted(kept.items())]:
        if target != str(inside) and os.path.isdir(target):
            os.close(fd)
            continue  # still in sight: nothing was hidden over it
        os.makedirs(target, exist_ok=True)
        if not mount(f"/proc/self/fd/{fd}", target, None, _MS_BIND | _MS_REC):
            raise OSError(f"cannot show the app host {target}")
        mount(None, target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY)
        os.close(fd)
    if not mount("tmpfs", "/proc", "tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, "size=4k"):
        raise OSError("cannot hide /proc from the app host")
    return inside, writable


def own_temporary_folder() -> Path:
    """Without a sandbox: a fresh temporary folder of this host's own, where the hook lets it write."""
    return Path(tempfile.mkdtemp(prefix="host-", dir=os.environ.get("TMPDIR")))


def use_temporary_folder(folder: Path) -> None:
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = str(folder)
    os.chdir(folder)


# --- the audit hook -------------------------------------------------------------

_REFUSED = (
    "ctypes.",
    "os.fork",
    "os.forkpty",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.system",
    "os.startfile",
    "os.setuid",
    "os.chroot",
    "os.killpg",
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
    "code.__new__",
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


def _drop_unaudited_calls() -> None:
    """Functions that start processes or signal them without an audit event: take them away."""
    module = sys.modules.get("_posixsubprocess")
    if module is not None and hasattr(module, "fork_exec"):
        del module.fork_exec
    subprocess = sys.modules.get("subprocess")
    if subprocess is not None:
        subprocess._fork_exec = None  # type: ignore[attr-defined]
    for name in ("os", "posix", "signal", "_signal"):
        owner = sys.modules.get(name)
        for attribute in ("pidfd_open", "pidfd_send_signal"):
            if owner is not None and hasattr(owner, attribute):
                delattr(owner, attribute)


def install_audit_hook(writable: Path) -> None:
    """From now on this process refuses what grading never allows (``sys.addaudithook`` cannot be undone)."""
    _drop_unaudited_calls()
    allowed = os.path.realpath(writable) + os.sep
    own = str(os.getpid())
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES) + (".so",)
    installed = tuple(
        os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    )

    def refuse(what: str) -> None:
        raise Refused(f"the grader's app host does not allow {what}: a web app never needs it")

    def resolved(path: Any) -> str | None:
        try:
            text = os.fsdecode(path)
        except (TypeError, ValueError):
            return None
        if not os.path.isabs(text):
            return None  # relative to a directory descriptor or the working folder: refused
        return os.path.realpath(text)

    def may_write(path: Any) -> bool:
        if isinstance(path, int):
            return True  # an open descriptor: it was checked when it was opened
        real = resolved(path)
        return real is not None and real.startswith(allowed) and not real.endswith(suffixes)

    def foreign_proc(real: str) -> bool:
        parts = Path(real).parts
        return len(parts) > 2 and parts[1] == "proc" and parts[2] not in (own, "self", "thread-self")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            if isinstance(path, int):
                return
            real = resolved(path)
            if real is None:
                refuse(f"opening the relative path {path!r} (use an absolute one)")
            elif foreign_proc(real):
                refuse(f"opening {path}")
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing and not may_write(path):
                refuse(f"writing {path}")
            return
        if event == "import":
            module, filename = (tuple(args) + (None, None))[:2]
            if any(part in _REFUSED_MODULES for part in str(module).split(".")):
                refuse(f"importing {module}")
            if filename and not str(filename).endswith((".py", ".pyc")):
                if not os.path.realpath(str(filename)).startswith(installed):
                    refuse(f"loading native code from {filename}")
            return
        if event == "sqlite3.connect":
            database = args[0] if args else None
            if database not in (":memory:", b":memory:", "") and not may_write(database):
                refuse(f"opening the SQLite file {database} (the world's database is the app's only one)")
            return
        if event.startswith(_REFUSED):
            refuse(event)
        if event in _PATH_CHANGES:
            for path in args[: _PATH_CHANGES[event]]:
                if not may_write(path):
                    refuse(f"{event} on {path}")
        if event in ("os.listdir", "os.scandir", "os.chdir") and args and not isinstance(args[0], int):
            real = resolved(args[0]) if args[0] is not None else None
            if real is not None and foreign_proc(real):
                refuse(f"{event} on {args[0]}")
        if event == "os.kill" and args and str(args[0]) != own:
            refuse(event)

    sys.addaudithook(hook)
