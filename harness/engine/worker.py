"""The world process: grades one exercise of one submission, reports on a private channel.

    KATA_WORLD_SEED=N python -I -m harness.engine.worker EXERCISE APP_TREE [--host-user nobody]

Started by ``harness.engine.isolation``. It never imports the submission: the app
runs in app hosts it forks (``harness.world.boundary``), as ``--host-user`` when
given. Their output (fd 1 and 2, inherited) goes to a log file; the parent
reads only this process's JSON lines: ``{"phase": ...}`` as it goes, then
``{"report": {...}}``. The process makes itself non-dumpable, so a process of
the same user (an app host, a student's test run) cannot open its
descriptors or memory through ``/proc``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m harness.engine.worker")
    parser.add_argument("exercise")
    parser.add_argument("tree", type=Path)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--memory-mb", type=int, default=None)
    parser.add_argument("--host-user", default=None)
    args = parser.parse_args()
    seed = int(os.environ.pop("KATA_WORLD_SEED"))  # the hidden seed: by the environment, never a command line
    _not_dumpable()
    if args.memory_mb:
        limit = args.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    channel = os.fdopen(os.dup(1), "w", buffering=1)
    log = os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)

    # The app hosts' parent imports FastAPI and SQLAlchemy while we import the grader.
    from harness.world.hosts import Zygote

    hosts = Zygote(user=args.host_user, memory_mb=args.memory_mb)
    hosts.launch()

    def say(**message: object) -> None:
        message["t"] = time.monotonic()
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    from harness import catalog
    from harness.engine import checks

    exercise = catalog.find(args.exercise)
    try:
        report = checks.grade(
            exercise, args.tree, hidden_seed=seed, on_phase=lambda phase: say(phase=phase), hosts=hosts
        )
    finally:
        hosts.close()
    say(report=report.to_dict())
    channel.close()
    # Threads or handlers the submission left behind must not keep us alive.
    os._exit(0)


def _not_dumpable() -> None:
    """prctl(PR_SET_DUMPABLE, 0): /proc/<pid>/fd and /proc/<pid>/mem become root's (Linux only)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


if __name__ == "__main__":
    main()
