"""Grading building blocks: checks, reports, and the comparison with the reference.

An exercise's checks live in ``grading/exNN_slug.py`` as a list of ``Check``.
Each check is an async function that returns a message when it passes and
raises ``CheckFailed`` (with a teaching message) when it does not. ``grade``
runs them all on the virtual clock and never lets a broken submission crash
the run: a failure to import fails every check with the same sentence.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.catalog import Exercise, KataError, SubmissionError, resolve_target
from harness.settings import QueryLatency, env_int
from harness.world import clock
from harness.world.hosts import Zygote, host_user
from harness.world.load import LoadOptions, LoadRun, ResponseCheck, run_load
from harness.world.locustfile import load as load_locustfile
from harness.world.measure import RequestMetrics
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.swarm import run_hosted_load
from harness.world.world import Client, Exchange, RequestHung, World

DEFAULT_HIDDEN_SEED = 2026


def hidden_seed_from_env() -> int:
    return env_int("KATA_HIDDEN_SEED", DEFAULT_HIDDEN_SEED)


class CheckFailed(Exception):
    """A check did not pass; the message says what was measured and where to look."""


@dataclass(frozen=True)
class Check:
    """One graded property.

    A performance check fails on the pristine starter and passes once it is
    fixed. A guard (correctness, calls still made, no compression where it is
    not accepted...) passes on the starter too: it catches the wrong fixes, and
    the project's tests show a bad submission that fails it.
    """

    name: str
    description: str
    run: Callable[[Grading], Awaitable[str]]
    guard: bool = False


@dataclass
class CheckResult:
    name: str
    passed: bool
    message: str


@dataclass
class Report:
    exercise: str
    passed: bool
    checks: list[CheckResult]
    metrics: dict[str, Any]
    error: str | None = None

    def result(self, name: str) -> CheckResult:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if data["error"] is None:
            del data["error"]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


@dataclass
class Grading:
    """What a check gets: the exercise, the submission, and ways to run it."""

    exercise: Exercise
    app_file: Path  # the app to run
    submission: Path  # the submission's folder for this exercise
    hidden_seed: int
    hosts: Zygote  # forks the app hosts that run the submission
    _memo: dict[Any, Any] = field(default_factory=dict)

    @property
    def seeds(self) -> tuple[int, int]:
        return (PUBLIC_SEED, self.hidden_seed)

    def budget(self, key: str) -> Any:
        return self.exercise.budget(key)

    @asynccontextmanager
    async def serve(
        self,
        scale: str | None = None,
        seed: int = PUBLIC_SEED,
        latency: QueryLatency | None = None,
        configure: Callable[[World], None] | None = None,
        app_file: Path | None = None,
    ) -> AsyncIterator[Client]:
        """A fresh world and a fresh app host running the submission's app (or ``app_file``).

        ``latency`` replaces the query latency model; ``configure`` may change
        the world before the app starts (slow or failing services...).
        """
        async with World.of(
            self.exercise.spec.world, scale=scale or profile_scale(self.exercise), seed=seed, latency=latency
        ) as world:
            if configure is not None:
                configure(world)
            async with world.serve_hosted(self.hosts, app_file or self.app_file) as client:
                yield client

    async def load(
        self,
        users: int | None = None,
        duration: float | None = None,
        rate: float | None = None,
        scale: str | None = None,
        seed: int = PUBLIC_SEED,
        check: ResponseCheck | None = None,
        configure: Callable[[World], None] | None = None,
        app_file: Path | None = None,
        locustfile: Path | None = None,
        max_requests: int | None = None,
    ) -> LoadRun:
        """The exercise's scenario (its own locustfile, ``[load]``) run against the submission, once per
        grading run for each set of arguments. ``check`` judges each response (a wrong answer is a failure).

        ``locustfile``: a locustfile that is the submission (exercise 13): its users run in a users host of
        their own, and the world records what they send."""
        spec = self.exercise.spec.load
        if spec is None:
            raise KataError(f"exercise {self.exercise.number} has no [load] section in exercise.toml")
        options = LoadOptions(
            users=users or spec.users,
            spawn_rate=spec.spawn_rate,
            duration=duration or spec.duration,
            rate=rate,
            seed=seed,
            **({"max_requests": max_requests} if max_requests else {}),
        )

        async def run() -> LoadRun:
            async with self.serve(scale or spec.scale, seed=seed, configure=configure, app_file=app_file) as client:
                if locustfile is not None:
                    assert client.world is not None
                    return await run_hosted_load(client.world, self.hosts, locustfile, client, options, check)
                scenario = load_locustfile(self.exercise.folder / spec.locustfile)
                return await run_load(client, scenario, options, check)

        key = ("load", options, scale, check, configure, app_file, locustfile)
        return await self.once(key, run)

    async def once(self, key: Any, compute: Callable[[], Awaitable[Any]]) -> Any:
        """Compute a measurement once per grading run (checks share them)."""
        if key not in self._memo:
            self._memo[key] = await compute()
        return self._memo[key]

    async def profile(self, scale: str | None = None) -> RequestMetrics:
        """The exercise's profile request, measured once per scale.

        Where the exercise's grading module names its answer (``PROFILE_REFERENCE``), a
        measurement at another scale than the profile's (where ``correct`` checks the
        answers) counts only with the right answer: an app that answers correctly where
        it is checked and cheaply elsewhere fails every check that measures it elsewhere.
        """
        scale = scale or profile_scale(self.exercise)

        async def measure() -> tuple[RequestMetrics, str | None]:
            async with self.serve(scale) as client:
                exchange = await send_profile_request(client, self.exercise)
            reference = getattr(spec_module(self.exercise), "PROFILE_REFERENCE", None)
            if reference is None or scale == profile_scale(self.exercise):
                return exchange.metrics, None
            status, body = reference(dataset(scale, PUBLIC_SEED), exchange.metrics.path)
            try:
                assert_same_response(exchange, status, body, f"the measured GET {exchange.metrics.path} at {scale}")
            except CheckFailed as wrong:
                return exchange.metrics, str(wrong)
            return exchange.metrics, None

        metrics, wrong = await self.once(("profile", scale), measure)
        if wrong is not None:
            raise CheckFailed(f"{wrong}: a measurement counts only with the right answer")
        return metrics


def profile_request(exercise: Exercise) -> tuple[str, str, dict[str, str]]:
    profile = exercise.spec.profile
    return profile.method, profile.path, dict(profile.headers)


def profile_warm_up(exercise: Exercise) -> int:
    """Identical requests sent before the measured one (``warm_up`` under [profile]): a cache's steady state."""
    return exercise.spec.profile.warm_up


async def send_profile_request(client: Client, exercise: Exercise, warm_up: int | None = None) -> Exchange:
    """The exercise's profile request, after its warm-up requests (``warm_up`` overrides [profile])."""
    method, path, headers = profile_request(exercise)
    for _ in range(profile_warm_up(exercise) if warm_up is None else warm_up):
        await client.request(method, path, headers=headers)
    return await client.request(method, path, headers=headers)


def profile_scale(exercise: Exercise) -> str:
    return exercise.spec.profile.scale


# --- comparing with the reference -------------------------------------------


def first_difference(expected: Any, actual: Any, path: str = "") -> str | None:
    """Where two JSON values first differ, e.g. ``projects[3].tasks[0].assignee``."""
    if type(expected) is not type(actual) and not (
        isinstance(expected, int | float) and isinstance(actual, int | float) and not isinstance(actual, bool)
    ):
        return f"{path or 'the body'}: expected {_show(expected)}, got {_show(actual)}"
    if isinstance(expected, dict):
        for key in expected:
            if key not in actual:
                return f"{path or 'the body'}: key {key!r} is missing"
            found = first_difference(expected[key], actual[key], f"{path}.{key}" if path else key)
            if found:
                return found
        extra = [k for k in actual if k not in expected]
        if extra:
            return f"{path or 'the body'}: unexpected key {extra[0]!r}"
        return None
    if isinstance(expected, list):
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
            found = first_difference(e, a, f"{path}[{i}]")
            if found:
                return found
        if len(expected) != len(actual):
            return f"{path or 'the body'}: expected {len(expected)} items, got {len(actual)}"
        return None
    if expected != actual:
        return f"{path or 'the body'}: expected {_show(expected)}, got {_show(actual)}"
    return None


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def explain_status(exchange: Exchange) -> str:
    """' — the app raised KeyError: 'x' (at app.py:41)' when a 500 came from an exception."""
    if exchange.metrics.error:
        return f"; the app raised {exchange.metrics.error}"
    return ""


def assert_same_response(exchange: Exchange, expected_status: int, expected_body: Any, what: str) -> None:
    status = exchange.response.status_code
    if status != expected_status:
        raise CheckFailed(f"{what} returned HTTP {status}, expected {expected_status}{explain_status(exchange)}")
    try:
        body = exchange.response.json()
    except ValueError:
        raise CheckFailed(f"{what} did not return JSON (got {exchange.response.text[:60]!r})") from None
    if expected_status >= 400:
        return  # the error body's wording is the app's own
    difference = first_difference(expected_body, body)
    if difference:
        raise CheckFailed(f"{what} differs from the reference at {difference}")


async def compare_with_reference(
    g: Grading,
    scale: str,
    paths: list[str],
    reference: Callable[[Dataset, str], tuple[int, Any]],
    headers: dict[str, str] | None = None,
) -> None:
    """Every path answers as the reference does, on public and on hidden data."""
    for seed in g.seeds:
        data = dataset(scale, seed)
        async with g.serve(scale, seed) as client:
            for path in paths:
                status, body = reference(data, path)
                exchange = await client.get(path, headers=headers)
                kind = "public" if seed == PUBLIC_SEED else "hidden"
                assert_same_response(exchange, status, body, f"GET {path} ({kind} data)")


# --- running a grading ------------------------------------------------------


def spec_module(exercise: Exercise) -> Any:
    return importlib.import_module(f"grading.ex{exercise.name}")


def checks_of(exercise: Exercise) -> list[Check]:
    return list(spec_module(exercise).CHECKS)


MISSING = "the submission has no "  # how a missing_report starts: is_missing reads it back


def missing_report(exercise: Exercise) -> Report:
    """The submission has no file for the exercise: nothing to grade."""
    return failed_report(exercise, f"{MISSING}{exercise.name}/{exercise.work_file}")


def is_missing(report: Report) -> bool:
    return report.error is not None and report.error.startswith(MISSING)


def failed_report(exercise: Exercise, reason: str) -> Report:
    """Every check failed for one reason that stopped the grading (the submission could not be graded)."""
    results = [CheckResult(c.name, False, reason) for c in checks_of(exercise)]
    return Report(exercise.name, False, results, {}, error=reason)


def report_from_dict(exercise: Exercise, data: object) -> Report | None:
    """A report read back (from a grading process, or a results folder), if it has exactly this exercise's checks."""
    try:
        assert isinstance(data, dict) and data["exercise"] == exercise.name
        results = [CheckResult(str(c["name"]), bool(c["passed"]), str(c["message"])) for c in data["checks"]]
        assert [r.name for r in results] == [c.name for c in checks_of(exercise)]
        metrics = {str(k): v for k, v in dict(data["metrics"]).items() if isinstance(v, int | float)}
        error = data.get("error")
        return Report(
            exercise.name, all(r.passed for r in results), results, metrics, str(error) if error is not None else None
        )
    except (AssertionError, KeyError, TypeError, ValueError):
        return None


async def _run_checks(
    grading: Grading, checks: list[Check], on_phase: Callable[[str], None]
) -> tuple[list[CheckResult], dict[str, Any]]:
    results = []
    for check in checks:
        on_phase(f"running the check {check.name}")
        try:
            message = await check.run(grading)
            results.append(CheckResult(check.name, True, message))
        except CheckFailed as failed:
            results.append(CheckResult(check.name, False, str(failed)))
        except KataError:  # a broken submission or a bad setting: not one check's failure
            raise
        except RequestHung as hung:
            results.append(CheckResult(check.name, False, f"{hung}: look for a call without a timeout"))
        except Exception as exc:  # a submission can break a check in any way
            results.append(CheckResult(check.name, False, f"the check could not run: {type(exc).__name__}: {exc}"))
    try:
        metrics = (await grading.profile()).summary()
    except Exception:
        metrics = {}
    return results, metrics


def grade(
    exercise: Exercise,
    target: Path,
    hidden_seed: int | None = None,
    on_phase: Callable[[str], None] = lambda phase: None,
    hosts: Zygote | None = None,
) -> Report:
    """Grade one exercise of a submission tree; never raises for a broken submission.

    This process is the world: it never imports the submission. The app runs
    in app hosts forked by ``hosts`` (a new ``Zygote`` by default, as
    ``nobody`` when we are root), and every number is measured here.
    ``on_phase`` hears what is being done ("importing app.py", "running the
    check correct"), so a supervisor can say where a submission hung or died.
    """
    checks = checks_of(exercise)
    zygote = hosts if hosts is not None else Zygote(user=host_user())
    grading = Grading(
        exercise,
        exercise.app_file(target),
        resolve_target(target) / exercise.name,
        hidden_seed if hidden_seed is not None else hidden_seed_from_env(),
        zygote,
    )
    try:
        on_phase(f"importing {grading.app_file.name}")
        if not grading.app_file.is_file():
            raise SubmissionError(f"there is no {grading.app_file.name} at {grading.app_file.parent}")
        zygote.probe(grading.app_file)  # fail fast, with one clear sentence
        results, metrics = clock.run(_run_checks(grading, checks, on_phase))
    except SubmissionError as error:
        failed = [CheckResult(c.name, False, str(error)) for c in checks]
        return Report(exercise.name, False, failed, {}, error=str(error))
    finally:
        if hosts is None:
            zygote.close()
    return Report(exercise.name, all(r.passed for r in results), results, metrics)
