"""`kata load NN --locust`: real Locust, headless, in subprocesses, against `kata serve NN` (real time).

Locust is never imported here (``import locust`` monkey-patches the process
with gevent): it runs as its own command, writes ``--json-file``, and we read
that. With ``workers`` it runs distributed: one master, N workers on this
machine, as a load bigger than one machine would run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.catalog import KATA_ROOT, Exercise, KataError

# The percentiles Locust reports.
PERCENTILES = (0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0)
SERVER_START_SECONDS = 60.0


def bucket(ms: float) -> int:
    """Locust's rounding of a response time (``locust.stats.bucket_response_time``): ~2 significant digits."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return int(round(ms, -1))
    if ms < 10000:
        return int(round(ms, -2))
    return int(round(ms, -3))


def bucket_percentile(response_times: dict[int, int], count: int, fraction: float) -> int:
    """Locust's percentile of bucketed times (``calculate_response_time_percentile``)."""
    wanted = int(count * fraction)
    processed = 0
    for ms in sorted(response_times, reverse=True):
        processed += response_times[ms]
        if count - processed <= wanted:
            return ms
    return 0


@dataclass(frozen=True)
class LocustEntry:
    method: str
    name: str
    requests: int
    failures: int
    average_ms: float
    max_ms: float
    percentiles: dict[float, int]


@dataclass(frozen=True)
class LocustResult:
    entries: list[LocustEntry]
    total: LocustEntry
    wall_seconds: float
    exit_code: int
    workers: int


def read_json_file(path: Path) -> tuple[list[LocustEntry], LocustEntry]:
    """Locust's ``--json-file``: its entries, and their aggregate computed as Locust aggregates them."""
    raw: list[dict[str, Any]] = json.loads(path.read_text())
    entries = []
    merged: dict[int, int] = {}
    for item in raw:
        times = {int(k): int(v) for k, v in item.get("response_times", {}).items()}
        for ms, n in times.items():
            merged[ms] = merged.get(ms, 0) + n
        entries.append(_entry(item["method"] or "", item["name"], item, times))
    total_raw = {
        "num_requests": sum(int(i["num_requests"]) for i in raw),
        "num_failures": sum(int(i["num_failures"]) for i in raw),
        "total_response_time": sum(float(i["total_response_time"]) for i in raw),
        "max_response_time": max((float(i["max_response_time"]) for i in raw), default=0.0),
    }
    return entries, _entry("", "Aggregated", total_raw, merged)


def _entry(method: str, name: str, item: dict[str, Any], times: dict[int, int]) -> LocustEntry:
    count = int(item["num_requests"])
    return LocustEntry(
        method=method,
        name=name,
        requests=count,
        failures=int(item["num_failures"]),
        average_ms=float(item["total_response_time"]) / count if count else 0.0,
        max_ms=float(item["max_response_time"] or 0.0),
        percentiles={p: bucket_percentile(times, count, p) for p in PERCENTILES},
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _locust_command() -> list[str]:
    found = shutil.which("locust", path=str(Path(sys.executable).parent)) or shutil.which("locust")
    if found is None:
        raise KataError("Locust is not installed: `make install` installs it (pip install locust)")
    return [found]


@dataclass(frozen=True)
class Server:
    url: str
    log: Path  # what `kata serve` printed: one line per request it answered
    skip: int = 0  # requests answered before the load (the warm-up)

    def answered(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of each request the server answered, from its own log."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            match = re.match(r"^([A-Z]+) (\S+) → (\d{3}) ", line)
            if match:
                found.append((match[1], match[2], int(match[3])))
        return found[self.skip :]


@contextlib.contextmanager
def served(exercise: Exercise, submission: Path, scale: str) -> Iterator[Server]:
    """`kata serve NN` in a subprocess, until the block ends: its base URL and its log."""
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="kata-serve-")) / "serve.log"
    command = [
        sys.executable,
        "-c",
        "from harness.frontends.cli import main; main()",
        "serve",
        exercise.number,
        "--path",
        str(submission),
        "--scale",
        scale,
        "--port",
        str(port),
    ]
    output = log.open("w")
    server = subprocess.Popen(
        command,
        stdout=output,
        stderr=subprocess.PIPE,
        start_new_session=True,
        text=True,
        # The same catalog as ours (a test or a student's checkout may point KATA_HOME elsewhere).
        env={
            **os.environ,
            "KATA_HOME": str(KATA_ROOT),
            "COLUMNS": "400",
            "TERM": "dumb",
            "NO_COLOR": "1",
            "PYTHONUNBUFFERED": "1",
        },
    )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if server.poll() is not None:
                said = server.stderr.read() if server.stderr is not None else ""
                raise KataError(f"kata serve {exercise.number} stopped: {said.strip()[-300:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise KataError(f"kata serve {exercise.number} did not listen within {SERVER_START_SECONDS:g} s")
            time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        # One request first: the app's first-request work (a connection, compiled statements) is not load.
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url + exercise.spec.profile.path, timeout=30).read()
        server_log = Server(url, log)
        for _ in range(50):  # its line in the log, so the count below starts after it
            if server_log.answered():
                break
            time.sleep(0.05)
        yield Server(url, log, skip=len(server_log.answered()))
    finally:
        output.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def run_locust(
    locustfile: Path,
    host: str,
    users: int,
    spawn_rate: float,
    seconds: float,
    workers: int = 0,
    user: str | None = None,
    csv_prefix: Path | None = None,
) -> LocustResult:
    """Real Locust, headless, against ``host`` for ``seconds`` of real time (``workers``: distributed;
    ``user``: run it as that user, for a locustfile that is a submission)."""
    folder = Path(tempfile.mkdtemp(prefix="kata-locust-"))
    shutil.copyfile(locustfile, folder / "locustfile.py")
    locustfile = folder / "locustfile.py"
    if user is not None:
        for path in (folder, locustfile):
            shutil.chown(path, user=user)
    result_file = folder / "result.json"
    common = ["-f", str(locustfile), "--host", host]
    main = [
        *_locust_command(),
        *common,
        "--headless",
        "-u",
        str(users),
        "-r",
        f"{spawn_rate:g}",
        "-t",
        f"{max(1, round(seconds))}s",
        "--json-file",
        str(folder / "result"),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "10",
    ]
    if csv_prefix is not None:
        main += ["--csv", str(csv_prefix)]
    processes: list[subprocess.Popen[bytes]] = []
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HOME": str(folder)}
    started = time.perf_counter()
    try:
        if workers:
            port = free_port()
            main += ["--master", "--expect-workers", str(workers), "--master-bind-port", str(port)]
            master = subprocess.Popen(
                main, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, user=user
            )
            processes.append(master)
            for _ in range(workers):
                processes.append(
                    subprocess.Popen(
                        [
                            *_locust_command(),
                            *common,
                            "--worker",
                            "--master-host",
                            "127.0.0.1",
                            "--master-port",
                            str(port),
                            "--loglevel",
                            "WARNING",
                        ],
                        cwd=folder,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        user=user,
                    )
                )
        else:
            master = subprocess.Popen(
                main, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, user=user
            )
            processes.append(master)
        try:
            _, stderr = master.communicate(timeout=seconds + 120)
        except subprocess.TimeoutExpired:
            raise KataError(f"Locust did not finish within {seconds + 120:g} s") from None
        wall = time.perf_counter() - started
        if not result_file.is_file():
            tail = stderr.decode(errors="replace").strip().splitlines()[-5:]
            raise KataError("Locust wrote no results: " + " | ".join(tail))
        entries, total = read_json_file(result_file)
        return LocustResult(entries, total, wall, master.returncode, workers)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


WHY_THEY_DIFFER = (
    "Locust measured real time on this machine (its CPU, the event loop's own overhead, scheduling) and "
    "rounds each time into buckets of ~2 significant digits; the kata's run is modeled time, exact and the "
    "same on every machine."
)
