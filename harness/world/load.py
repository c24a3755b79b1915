"""The load runner: many users, sent by the world into the app on the virtual clock.

Two models:

- **closed** (Locust's): ``users`` users start at ``spawn_rate`` per second; each
  logs in once (``on_start``), then runs weighted tasks with a think time between
  them. A slow server slows its own load: a user waits for each answer.
- **open** (wrk2's): a new user arrives every ``1 / rate`` seconds whatever the
  server does, runs ``on_start`` and one task, and leaves. Slow answers pile up
  instead of hiding ("coordinated omission").

Nothing here models a queue: requests wait where the app makes them wait (its
connection pool on the virtual clock, a blocked event loop, a partner's or the
database's connection limit). Each request is timed on the world's clock from
send to last byte; its failure cause comes from what the world saw happen.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.util import await_, greenlet_spawn

from harness.world import measure
from harness.world.locustfile import LocustfileError, Scenario, StopUser, TaskSpec, User, UserClass
from harness.world.world import Client, RequestHung

# Modeled seconds a user waits for one response before it gives up (a failure: "no response").
REQUEST_TIMEOUT_SECONDS = 60.0

# A response check: (method, path, status, body) -> what is wrong with it, or None.
ResponseCheck = Callable[[str, str, int, bytes], "str | None"]


@dataclass(frozen=True)
class LoadOptions:
    users: int = 50
    spawn_rate: float = 10.0
    duration: float = 60.0  # modeled seconds of load (requests under way at the end still finish)
    rate: float | None = None  # open model: users arriving per second
    seed: int = 1
    request_timeout: float = REQUEST_TIMEOUT_SECONDS
    # A run stops once this many requests were sent: users that never wait could otherwise send millions.
    max_requests: int = 100_000

    @property
    def model(self) -> str:
        return "open" if self.rate is not None else "closed"


@dataclass(frozen=True)
class Sample:
    """One request: when it was sent (modeled seconds since the run began), how long until its last
    byte arrived, and, if it failed, why."""

    time: float
    method: str
    name: str
    path: str
    response_ms: float
    status: int | None
    failure: str | None  # the cause ("pool timeout", "partner timeout", "HTTP 500", ...); None: success
    detail: str
    response_bytes: int
    queries: int
    user: int
    user_class: str
    authorization: str | None = None  # the request's Authorization header (who sent it, as the app sees it)
    # Where its time went, as the world measured it (ms): statements, partner calls, bytes on the wire.
    db_ms: float = 0.0
    external_ms: float = 0.0
    transfer_ms: float = 0.0
    rows_examined: int = 0
    calls: int = 0  # partner calls made while it ran, charged to it

    @property
    def waiting_ms(self) -> float:
        """Time in no statement, no partner call and no transfer: queued (a pool, a blocked loop) or computing."""
        return max(0.0, self.response_ms - self.db_ms - self.external_ms - self.transfer_ms)

    @property
    def end(self) -> float:
        return self.time + self.response_ms / 1000


@dataclass
class Tick:
    """The state of the run at one modeled second (the time series, and the progress display)."""

    time: float
    users: int
    requests: int
    failures: int


@dataclass
class LoadRun:
    options: LoadOptions
    samples: list[Sample] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    errors: dict[tuple[str, str], int] = field(default_factory=dict)  # (where, exception) -> count
    users_started: dict[str, int] = field(default_factory=dict)  # per user class
    logins: int = 0  # on_start calls that returned
    truncated: bool = False  # stopped at ``options.max_requests``
    end: float = 0.0  # modeled seconds until the last request finished


def failure_cause(status: int | None, metrics: measure.RequestMetrics | None, timed_out: bool) -> str | None:
    """Why a request failed, from the world's own record of it (None: it did not fail)."""
    if timed_out:
        return "no response (client timeout)"
    if status is None:
        return "no response"
    if status < 400:
        return None
    if status < 500:
        return f"HTTP {status}"
    if metrics is not None:
        error = metrics.error or ""
        if "QueuePool limit" in error or "pool" in error.lower() and "TimeoutError" in error:
            return "pool timeout"
        if metrics.connections_refused:
            return "database refused a connection"
        if any(c.outcome == "timeout" for c in metrics.calls):
            return "partner timeout"
        if any(c.outcome not in ("200", "pending", "cancelled") for c in metrics.calls):
            return "partner error"
    return f"HTTP {status}"


@dataclass
class Timed:
    """One request as the world saw it: sent at ``sent`` (loop time), answered ``elapsed_ms`` later."""

    response: httpx.Response | None
    metrics: measure.RequestMetrics | None
    failure: str | None
    sent: float
    elapsed_ms: float

    def sample(
        self,
        start: float,
        method: str,
        name: str,
        path: str,
        user: int,
        user_class: str,
        failure: str | None,
        detail: str = "",
        authorization: str | None = None,
    ) -> Sample:
        """This request as a sample of a run that began at ``start`` (``failure``: as finally judged)."""
        metrics = self.metrics
        if not detail and failure and metrics is not None:
            detail = metrics.error or ""
        return Sample(
            time=round(self.sent - start, 6),
            method=method,
            name=name,
            path=path,
            response_ms=round(self.elapsed_ms, 3),
            status=self.response.status_code if self.response is not None else None,
            failure=failure,
            detail=detail,
            response_bytes=metrics.response_bytes if metrics is not None else 0,
            queries=len(metrics.queries) if metrics is not None else 0,
            user=user,
            user_class=user_class,
            authorization=authorization,
            db_ms=metrics.db_ms if metrics is not None else 0.0,
            external_ms=metrics.external_ms if metrics is not None else 0.0,
            transfer_ms=metrics.transfer_ms if metrics is not None else 0.0,
            rows_examined=metrics.rows_examined if metrics is not None else 0,
            calls=len(metrics.calls) if metrics is not None else 0,
        )


async def send_timed(
    client: Client, method: str, path: str, timeout: float, check: ResponseCheck | None, kwargs: dict[str, Any]
) -> Timed:
    """Send one request into the app and time it on the world's clock, from send to last byte."""
    loop = asyncio.get_running_loop()
    sent = loop.time()
    metrics: measure.RequestMetrics | None = None
    response: httpx.Response | None = None
    timed_out = False
    try:
        exchange = await client.request(method, path, timeout=timeout, **kwargs)
        response, metrics = exchange.response, exchange.metrics
    except RequestHung as hung:
        timed_out, metrics = True, hung.metrics
    elapsed_ms = (loop.time() - sent) * 1000
    status = response.status_code if response is not None else None
    cause = failure_cause(status, metrics, timed_out)
    if cause is None and check is not None and response is not None:
        wrong = check(method, path.partition("?")[0], response.status_code, response.content)
        if wrong:
            cause = f"wrong answer: {wrong}"
    return Timed(response, metrics, cause, sent, elapsed_ms)


class LoadResponse:
    """What a task's ``self.client.get(...)`` returns: the httpx response, with requests' ``ok`` and, under
    ``catch_response=True``, Locust's ``success()`` / ``failure(why)``."""

    def __init__(self, response: httpx.Response | None, error: str | None = None) -> None:
        self._response = response
        self.error = error
        self._verdict: tuple[bool, str] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._response is None:
            raise AttributeError(f"no response ({self.error}): {name}")
        return getattr(self._response, name)

    @property
    def status_code(self) -> int:
        return self._response.status_code if self._response is not None else 0

    @property
    def ok(self) -> bool:
        return self._response is not None and self._response.status_code < 400

    def success(self) -> None:
        self._verdict = (True, "")

    def failure(self, why: Any) -> None:
        self._verdict = (False, str(why))

    def __enter__(self) -> LoadResponse:
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> bool:
        self._on_exit(self, value)
        return value is not None and not isinstance(value, StopUser | asyncio.CancelledError)

    _on_exit: Callable[[LoadResponse, BaseException | None], None] = staticmethod(lambda r, e: None)


class _Session:
    """A user's ``self.client``: Locust's HttpSession API, each request sent into the world."""

    def __init__(self, runner: _Runner, user: int, user_class: str) -> None:
        self._runner = runner
        self._user = user
        self._class = user_class
        self.headers: dict[str, str] = {}  # sent with every request (``self.client.headers["Authorization"]``)

    def request(
        self, method: str, url: str, name: str | None = None, catch_response: bool = False, **kwargs: Any
    ) -> Any:
        if self.headers:
            kwargs["headers"] = {**self.headers, **(kwargs.get("headers") or {})}
        return self._runner.send(self._user, self._class, method.upper(), url, name, catch_response, kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> Any:
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> Any:
        return self.request("OPTIONS", url, **kwargs)


_DROPPED = ("allow_redirects", "timeout", "verify", "stream", "cert", "proxies", "context")


class _Environment:
    def __init__(self, runner: _Runner) -> None:
        self._runner = runner

    def sleep(self, seconds: float) -> None:
        await_(asyncio.sleep(max(0.0, min(seconds, self._runner.remaining()))))


class _Runner:
    def __init__(
        self,
        client: Client,
        scenario: Scenario,
        options: LoadOptions,
        check: ResponseCheck | None,
        progress: Callable[[LoadRun], None] | None,
    ) -> None:
        self.client = client
        self.scenario = scenario
        self.options = options
        self.check = check
        self.progress = progress
        self.loop = asyncio.get_running_loop()
        self.start = self.loop.time()
        self.stop_at = self.start + options.duration
        self.run = LoadRun(options)
        self.active = 0
        self.sent = 0
        self.environment = _Environment(self)

    def now(self) -> float:
        return self.loop.time() - self.start

    def remaining(self) -> float:
        return max(0.0, self.stop_at - self.loop.time())

    # -- one request, from a user's greenlet -----------------------------------------

    def send(
        self,
        user: int,
        user_class: str,
        method: str,
        url: str,
        name: str | None,
        catch_response: bool,
        kwargs: dict[str, Any],
    ) -> LoadResponse:
        if self.loop.time() >= self.stop_at:
            raise StopUser()  # the run is over: no new requests
        if self.sent >= self.options.max_requests:
            self.run.truncated = True
            self.stop_at = min(self.stop_at, self.loop.time())
            raise StopUser()
        self.sent += 1
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        for key in _DROPPED:
            kwargs.pop(key, None)
        label = name or parts.path
        if getattr(self.client, "takes_names", False):
            kwargs["kata_name"] = label
        timed = await_(send_timed(self.client, method, path, self.options.request_timeout, self.check, kwargs))
        cause = timed.failure
        result = LoadResponse(timed.response, cause)
        authorization = {k.lower(): v for k, v in (kwargs.get("headers") or {}).items()}.get("authorization")

        def record(outcome: LoadResponse, raised: BaseException | None) -> None:
            failure, detail = cause, ""
            if outcome._verdict is not None:
                ok, why = outcome._verdict
                failure = None if ok else (failure or "failed by the scenario")
                detail = why
            elif raised is not None and not isinstance(raised, StopUser):
                failure, detail = failure or "exception in the task", f"{type(raised).__name__}: {raised}"
            self.run.samples.append(
                timed.sample(self.start, method, label, parts.path, user, user_class, failure, detail, authorization)
            )

        if catch_response:
            result._on_exit = record
        else:
            record(result, None)
        return result

    # -- users -------------------------------------------------------------------------

    def _make_user(self, number: int, user_class: UserClass) -> User:
        user = user_class.cls(self.environment)
        user.client = _Session(self, number, user_class.name)  # type: ignore[attr-defined]
        user.kata_random = random.Random(f"{self.options.seed}:{number}")
        user.kata_now = self.now
        if user.host is None:
            user.host = "http://kata.test"
        return user

    def _error(self, where: str, error: BaseException) -> None:
        key = (where, f"{type(error).__name__}: {error}")
        self.run.errors[key] = self.run.errors.get(key, 0) + 1

    def _run_task(self, user: User, user_class: UserClass, chosen: TaskSpec) -> bool:
        """One task; False when the user stops."""
        try:
            chosen.function(user)
        except StopUser:
            return False
        except LocustfileError:
            raise
        except Exception as error:  # Locust logs a task's exception and the user goes on
            self._error(f"{user_class.name}.{chosen.name}", error)
        return True

    def _user_body(self, number: int, user_class: UserClass, tasks_left: int | None) -> None:
        user = self._make_user(number, user_class)
        rng = user.kata_random
        weights = [t.weight for t in user_class.tasks]
        try:
            try:
                user.on_start()
                self.run.logins += 1
            except StopUser:
                return
            except Exception as error:
                self._error(f"{user_class.name}.on_start", error)
                return
            while self.loop.time() < self.stop_at and tasks_left != 0:
                chosen = rng.choices(user_class.tasks, weights)[0]
                if not self._run_task(user, user_class, chosen):
                    return
                if tasks_left is not None:
                    tasks_left -= 1
                    continue
                wait = user.next_wait()
                if wait > 0:
                    self.environment.sleep(wait)
        finally:
            self.active -= 1

    async def _user(self, number: int, user_class: UserClass, tasks_left: int | None = None) -> None:
        self.active += 1
        self.run.users_started[user_class.name] = self.run.users_started.get(user_class.name, 0) + 1
        await greenlet_spawn(self._user_body, number, user_class, tasks_left)

    # -- the run -----------------------------------------------------------------------

    async def _ticker(self) -> None:
        await tick_every_second(self.run, self.start, lambda: self.active, self.progress)

    async def main(self) -> LoadRun:
        order = assign_classes(self.scenario.users, self.options.users)
        users: list[asyncio.Task[None]] = []
        ticker = self.loop.create_task(self._ticker())
        try:
            if self.options.rate is None:
                for number, user_class in enumerate(order, start=1):
                    at = self.start + (number - 1) / self.options.spawn_rate
                    if at >= self.stop_at:
                        break
                    await asyncio.sleep(max(0.0, at - self.loop.time()))
                    users.append(self.loop.create_task(self._user(number, user_class)))
            else:
                arrivals = int(math.floor(self.options.duration * self.options.rate + 1e-9))
                classes = assign_classes(self.scenario.users, max(arrivals, 1))
                for number in range(1, arrivals + 1):
                    at = self.start + (number - 1) / self.options.rate
                    await asyncio.sleep(max(0.0, at - self.loop.time()))
                    users.append(self.loop.create_task(self._user(number, classes[number - 1], tasks_left=1)))
            await asyncio.gather(*users)
            await ticker
        finally:
            ticker.cancel()
            for user in users:
                user.cancel()
        self.run.end = max([self.options.duration, *(s.end for s in self.run.samples)])
        self.run.samples.sort(key=lambda s: (s.time, s.user))
        return self.run


async def tick_every_second(
    run: LoadRun, start: float, users: Callable[[], int], progress: Callable[[LoadRun], None] | None
) -> None:
    """At each whole modeled second of the run: a ``Tick`` (users then, requests and failures so far)."""
    loop = asyncio.get_running_loop()
    second = 0
    while second < math.ceil(run.options.duration):
        second += 1
        await asyncio.sleep(max(0.0, start + second - loop.time()))
        run.ticks.append(Tick(float(second), users(), len(run.samples), sum(1 for s in run.samples if s.failure)))
        if progress is not None:
            progress(run)


def assign_classes(users: tuple[UserClass, ...], count: int) -> list[UserClass]:
    """Which class each of ``count`` users is, in spawn order: ``fixed_count`` classes first, then the others
    in proportion to their weights, interleaved (smooth weighted round robin), so any prefix is near the mix."""
    order: list[UserClass] = []
    for user_class in users:
        order.extend([user_class] * min(user_class.fixed_count, count - len(order)))
    weighted = [u for u in users if not u.fixed_count and u.weight > 0]
    total = sum(u.weight for u in weighted)
    current = [0] * len(weighted)
    while len(order) < count and weighted:
        for index, user_class in enumerate(weighted):
            current[index] += user_class.weight
        best = max(range(len(weighted)), key=lambda i: (current[i], -i))
        current[best] -= total
        order.append(weighted[best])
    return order


async def run_load(
    client: Client,
    scenario: Scenario,
    options: LoadOptions,
    check: ResponseCheck | None = None,
    progress: Callable[[LoadRun], None] | None = None,
) -> LoadRun:
    """Run ``scenario``'s users against the app behind ``client`` for ``options.duration`` modeled seconds."""
    saved = random.getstate()
    random.seed(options.seed)  # a locustfile's own ``random.randint(...)``: the same draws every run
    try:
        return await _Runner(client, scenario, options, check, progress).main()
    finally:
        random.setstate(saved)
