"""The app host's parent: imports what apps use once, then forks one app host per world.

    python -I -m harness.apphost.zygote CONTROL_FD [--memory-mb N]

Started by the world (``harness.world.boundary``), as an unprivileged user where it
can be. For each world it receives, on the control socket, the app file and
one end of a fresh socket pair; it forks a child that locks itself down,
imports the app and serves that world, and answers with the child's pid.
Forking before any submission code runs means no state of one world (a
module-level cache, an index added to a shared table) reaches the next.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any


def preload() -> None:
    """Import (and warm up) what every app uses, so a fork costs milliseconds instead of a second."""
    import fastapi
    import fastapi.middleware.gzip  # noqa: F401
    import structlog  # noqa: F401
    import structlog.testing  # noqa: F401
    from fastapi import Depends
    from sqlalchemy.dialects.postgresql import asyncpg  # noqa: F401  # the dialect, when the world runs PostgreSQL

    import harness.cache  # noqa: F401
    import harness.models  # noqa: F401
    from harness.apphost import runner, users  # noqa: F401
    from harness.db import get_db

    warm = fastapi.FastAPI()

    @warm.get("/{item_id}")
    async def item(item_id: int, db: object = Depends(get_db)) -> dict[str, int]:
        return {"id": item_id}

    warm.openapi()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m harness.apphost.zygote")
    parser.add_argument("control", type=int)
    parser.add_argument("--memory-mb", type=int, default=None)
    args = parser.parse_args()
    control = socket.socket(fileno=args.control)
    preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    control.sendall(b'{"ready": true}\n')
    while True:
        try:
            data, fds, _flags, _address = socket.recv_fds(control, 65536, 1)
        except OSError:
            break
        if not data or not fds:
            break
        request = json.loads(data)
        pid = os.fork()
        if pid == 0:
            control.close()
            _child(fds[0], request, args.memory_mb)
        os.close(fds[0])
        control.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def _child(fd: int, request: dict[str, Any], memory_mb: int | None) -> None:
    code = 0
    try:
        from harness.apphost import lockdown, runner

        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        fd = lockdown.keep_only(fd)
        app_file = Path(request["app"])
        inside = lockdown.sandbox(app_file.parent, [str(h) for h in request.get("hide", [])])
        if inside is not None:
            app_folder, writable = inside
            app_file = app_folder / app_file.name
        else:
            writable = lockdown.own_temporary_folder()
        lockdown.use_temporary_folder(writable)
        lockdown.limit_resources(memory_mb)
        sock = socket.socket(fileno=fd)
        if request.get("mode") == "users":  # a locustfile that is a submission: its users, not an app
            from harness.apphost import users

            users.serve(sock, app_file, lock=lambda: lockdown.install_audit_hook(writable))
            return
        dialect = str(request.get("dialect", "sqlite"))
        runner.serve(sock, app_file, dialect, lock=lambda: lockdown.install_audit_hook(writable))
    except BaseException:  # nothing of the submission's may outlive this process, nor its errors stop us
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    main()
