"""Grade a submission's exercise in a subprocess the grader supervises.

The subprocess (``harness.engine.worker``) is the world: it measures and judges, and
runs the submission only in app hosts of its own (``harness.world.boundary``), which,
when the grader runs as root and the installation allows it, run as an
unprivileged user who cannot write the grader's results. It sees a private
copy of the one exercise folder, runs in a fresh temporary directory (so a
submission's conftest.py, pytest.ini or results.json mean nothing), with a
memory limit, under a real time limit. Whatever happens to it (a crash, an
endless loop in the app), the parent writes a failed report with one
sentence saying what happened and while doing what.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness import catalog, settings
from harness.catalog import Exercise
from harness.engine import checks
from harness.world.hosts import unprivileged_user

DEFAULT_WALL_SECONDS = 60.0
OUTPUT_LIMIT = 20_000  # characters of the submission's own output kept for the student (the end of it)


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = DEFAULT_WALL_SECONDS
    memory_mb: int | None = 2048
    user: str | None = "nobody"  # used only when running as root and the user can run Python


@dataclass
class Outcome:
    """One exercise graded in its own process."""

    report: checks.Report
    check_seconds: dict[str, float]  # real seconds per check: for result files, never for grades
    output: str = ""  # what the submission printed (its stdout and stderr), the last OUTPUT_LIMIT characters


def privilege_note(limits: Limits) -> str | None:
    """A sentence for course staff when the app hosts run as root because the unprivileged user cannot run Python."""
    if os.geteuid() != 0 or limits.user is None or unprivileged_user(limits.user) is not None:
        return None
    return (
        f"the submissions' app hosts run as root, in a namespace sandbox where the kernel allows, else behind an "
        f"audit hook only: the user {limits.user!r} cannot reach {Path(sys.executable).resolve()} or "
        f"{catalog.KATA_ROOT} (install the kata where every user can read it, as setup.sh does on Gradescope)"
    )


def grade_isolated(exercise: Exercise, tree: Path, hidden_seed: int, limits: Limits = Limits()) -> checks.Report:
    """Grade ``tree/NN_slug/app.py`` in a supervised subprocess; never raises for the submission's faults."""
    return grade_supervised(exercise, tree, hidden_seed, limits).report


def grade_supervised(exercise: Exercise, tree: Path, hidden_seed: int, limits: Limits = Limits()) -> Outcome:
    """``grade_isolated``, with the real seconds each check took and what the submission printed."""
    limits = dataclasses.replace(limits, wall_seconds=limits.wall_seconds * exercise.spec.time_limit_factor)
    source = tree / exercise.name
    if not (source / exercise.work_file).is_file():
        return Outcome(checks.missing_report(exercise), {})
    workdir = Path(tempfile.mkdtemp(prefix="kata-grade-"))
    user = unprivileged_user(limits.user)
    try:
        copy = workdir / "submission" / exercise.name
        shutil.copytree(source, copy, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        (workdir / "tmp").mkdir()
        # The hidden seed goes by the environment, which no other user can read (a command line anyone can).
        env = settings.environment(settings.WORLD_ENV, KATA_WORLD_SEED=str(hidden_seed))
        env.update(HOME=str(workdir), TMPDIR=str(workdir / "tmp"), PYTHONDONTWRITEBYTECODE="1")
        command = [
            sys.executable,
            "-I",
            "-m",
            "harness.engine.worker",
            exercise.name,
            str(workdir / "submission"),
            "--log",
            str(workdir / "output.log"),
        ]
        if limits.memory_mb:
            command += ["--memory-mb", str(limits.memory_mb)]
        if user is not None:
            command += ["--host-user", user]
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            text=True,
        )
        timed_out = False
        try:
            out, err = process.communicate(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(process)
            out, err = process.communicate()
        finally:  # also on Ctrl+C: the grading process is in a session of its own and would outlive us
            _kill_group(process)  # and leftovers a submission may have started
        report, seconds = _interpret(exercise, out, err, process.returncode, timed_out, limits)
        return Outcome(report, seconds, _tail(workdir / "output.log"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _tail(log: Path) -> str:
    try:
        with log.open("rb") as file:
            file.seek(max(0, log.stat().st_size - OUTPUT_LIMIT * 4))
            return file.read().decode(errors="replace")[-OUTPUT_LIMIT:]
    except OSError:
        return ""


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _interpret(
    exercise: Exercise, out: str, err: str, code: int | None, timed_out: bool, limits: Limits
) -> tuple[checks.Report, dict[str, float]]:
    report, timings = _read_channel(exercise, out)
    return _verdict(exercise, report, timings, err, code, timed_out, limits), _durations(timings)


def _read_channel(exercise: Exercise, out: str) -> tuple[checks.Report | str | None, list[tuple[str, float]]]:
    """The worker's report (or why it cannot be trusted) and its phases with their start times."""
    timings: list[tuple[str, float]] = []
    phase = "starting"
    for line in out.splitlines():
        try:
            message = json.loads(line)
            assert isinstance(message, dict)
        except (ValueError, AssertionError):
            return (
                f"the grader's private channel received foreign output while {phase}; grading refuses the result",
                timings,
            )
        if "phase" in message:
            phase = str(message["phase"])
            timings.append((phase, float(message.get("t", 0.0))))
        elif "report" in message:
            report = checks.report_from_dict(exercise, message["report"])
            timings.append(("done", float(message.get("t", 0.0))))
            return report or "the grader's report was altered; grading refuses the result", timings
    return None, timings


def _durations(timings: list[tuple[str, float]]) -> dict[str, float]:
    prefix = "running the check "
    return {
        phase.removeprefix(prefix): end - start
        for (phase, start), (_, end) in zip(timings, timings[1:], strict=False)
        if phase.startswith(prefix)
    }


def _verdict(
    exercise: Exercise,
    report: checks.Report | str | None,
    timings: list[tuple[str, float]],
    err: str,
    code: int | None,
    timed_out: bool,
    limits: Limits,
) -> checks.Report:
    phase = timings[-1][0] if timings else "starting"
    if isinstance(report, str):
        return checks.failed_report(exercise, report)
    if report is not None:
        return report
    if timed_out:
        return checks.failed_report(
            exercise,
            f"stopped after {limits.wall_seconds:g} s of real time while {phase}: "
            "look for an endless loop or a call that blocks forever",
        )
    if code is not None and code < 0:
        how = f"was killed by signal {-code}"
    else:
        how = f"ended with exit code {code}"
    if "MemoryError" in err:
        how += f" out of memory (limit {limits.memory_mb} MB)"
    if phase == "starting" and err.strip():
        return checks.failed_report(exercise, f"the grader could not start: {err.strip().splitlines()[-1]}")
    return checks.failed_report(
        exercise, f"the grading process {how} while {phase}: does app.py call os._exit() or crash the interpreter?"
    )
