"""Run a command with a throwaway PostgreSQL and/or Redis, started from the Debian packages.

    python scripts/with_servers.py --postgres --redis -- pytest tests/test_backends.py

Each server lives in a temporary directory on a free loopback port and is
stopped afterwards; the command sees KATA_DATABASE_URL / KATA_REDIS_URL. As
root, PostgreSQL runs as the ``postgres`` user the package created (initdb
refuses root). A missing server skips the command with the reason, exit 0,
except in CI (``CI`` set), where it is an error: CI must test for real.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path


class Unavailable(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds:g} s")


def postgres_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise Unavailable("PostgreSQL is not installed (Debian: apt-get install postgresql)")


@contextmanager
def postgres() -> Iterator[str]:
    bindir = postgres_bindir()
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="kata-pg-"))
    data, log = root / "data", root / "postgres.log"
    as_user: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: use the package's postgres user.
        try:
            shutil.chown(root, "postgres", "postgres")
        except LookupError:
            shutil.rmtree(root, ignore_errors=True)
            raise Unavailable("running as root, and there is no postgres user to run PostgreSQL as") from None
        as_user = ["runuser", "-u", "postgres", "--"]
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    try:
        subprocess.run(
            [
                *as_user,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "kata",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"with_servers: PostgreSQL {bindir.parent.name} on 127.0.0.1:{port}", file=sys.stderr)
        yield f"postgresql+asyncpg://kata@127.0.0.1:{port}/postgres"
    finally:
        if data.exists():
            subprocess.run(
                [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def redis() -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        raise Unavailable("Redis is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="kata-redis-"))
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(root)],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        print(f"with_servers: Redis on 127.0.0.1:{port}", file=sys.stderr)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    env = dict(os.environ)
    # Stopped from outside (CI timeout, Ctrl+C): still stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with ExitStack() as stack:
        try:
            if args.postgres:
                env["KATA_DATABASE_URL"] = stack.enter_context(postgres())
            if args.redis:
                env["KATA_REDIS_URL"] = stack.enter_context(redis())
        except Unavailable as missing:
            if os.environ.get("CI"):
                print(f"with_servers: {missing}; CI must run these tests", file=sys.stderr)
                return 1
            print(f"with_servers: {missing}: skipping {' '.join(command)}", file=sys.stderr)
            return 0
        return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
