"""05 timing-middleware: every response timed, every request logged once, slow ones flagged.

What counts as a fix (the rule the checks below enforce; README, "What counts as a fix").

A correct fix MAY change, freely:
- the middleware's style: ``@app.middleware("http")`` with try/except around ``call_next``, a
  ``BaseHTTPMiddleware`` subclass, a pure ASGI class; its names, helpers and structure;
- the clock, as long as it is a performance clock: ``time.perf_counter()``, ``perf_counter_ns()``,
  ``monotonic()`` or ``monotonic_ns()`` (while grading they all read the modeled clock);
- where the duration ends: when the response starts or when its body has gone out (for these
  small responses the two differ by far less than the tolerance);
- how per-request values are kept: local variables, ``request.state``, a ContextVar set per request,
  structlog's ``bind_contextvars`` + ``merge_contextvars``;
- the logging setup: structlog's sync or async methods, any processors and renderer (JSON, console),
  cached loggers, extra keys, the event name and level, the header's number format;
- the 500's body (the starter's was ``Internal Server Error`` as text).

A correct fix MAY NOT change:
- the result: every status and 200 body, on public and hidden data: 404s stay 404, the invoice's
  exception stays a 500 (never a 200) (``correct``);
- the work each request does: the same SQL statements and partner calls as the starter, no retry of
  a failed request, no query of the middleware's own, and none saved either: a URL asked for again,
  after the partners' data changed, is worked out again and answered with today's data (``correct``);
- what the instruments say: ``X-Process-Time-Ms`` on every response, 404s and the 500 included, in
  milliseconds of the modeled clock (the wall clock ``time.time()`` does not follow it), within
  ``tolerance_ms`` of the grader's own server-side time, at the usual latencies and at others (RETIMED:
  a second app where the overview is fast and the invoice slow, so a table of each route's time, or a
  slow flag decided by the route, is wrong there) (``header_on_every_response``,
  ``header_matches_measurement``); exactly one structlog line per request, whatever its outcome, with
  method, path, status (an int), duration_ms (a number, the same time) and slow (a bool: that
  duration compared with ``settings.slow_request_ms``) (``one_log_line_per_request``, ``slow_flagged``);
- the 500's report: its line carries the RuntimeError WITH its traceback as the app renders it
  (Python's "Traceback (most recent call last)" text in the ``exception`` key or in the rendered
  line, or a structured traceback with its frames): not only its text, not a (type, value, None)
  tuple, not ``exc_info=True`` once no exception is being handled any more. And the exception ends
  in the app: one that goes on to the server (an exception handler, a re-raise) makes the server
  write a second, unstructured report of it (``one_log_line_per_request``);
- the requests' independence: each request's header and log line describe that request alone, also
  while others run at the same time; a start time, a duration or a bound logger kept in module state,
  on ``app.state`` or in an object every request shares is someone else's by the time it is read
  (``overlapping_requests``).

What the log checks see: the app's own structlog processors run unchanged (``merge_contextvars``,
``add_log_level``, ``format_exc_info``...), and the event is captured just before the last one (the
renderer) for the request whose context logged it, with the text the renderer made of it under
``_rendered`` (harness/apphost/logs.py). Known limit: when the last processor hands the event on to
the stdlib's logging (ProcessorFormatter.wrap_for_formatter, render_to_log_kwargs), the line is
written later, out of sight: an exception object or ``exc_info=True`` is then taken on trust (a
traceback of None is not).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from harness.engine.checks import Check, CheckFailed, Grading, assert_same_response, explain_status
from harness.settings import QueryLatency
from harness.world.boundary import app_logs
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.services import analytics_summary, current_weather
from harness.world.world import Client, Exchange, World

SCALE = "10x8"
ORG_IDS = (1, 2, 3, 4)
MISSING_ORG = 999
UNKNOWN_PATH = "/organisations/1"  # a typo: no route matches, the router answers 404
HEADER = "x-process-time-ms"
LOG_KEYS = ("method", "path", "status", "duration_ms", "slow")

# The requests the timing checks look at: one of each kind of response, one at a time.
OBSERVED = (
    ("fast", "/organizations/1"),
    ("slow", "/organizations/1/overview"),
    ("missing", f"/organizations/{MISSING_ORG}"),
    ("unknown", UNKNOWN_PATH),
    ("raises", "/organizations/1/invoice"),
)
# The same kinds again, overlapping: (ms after the first is sent, path). The first overview is still
# running when each of the others starts; the invoice and the 404s end before it, the second overview
# (same path) after it, and the last request is another path. Whatever one request leaves where the
# next can overwrite it (module state, app.state, a dict keyed by path, a shared default) is found here.
OVERLAPPING = (
    (0, "/organizations/1/overview"),
    (100, "/organizations/2"),
    (200, "/organizations/3/invoice"),
    (300, UNKNOWN_PATH),
    (400, "/organizations/1/overview"),
    (500, "/organizations/4"),
)

# Asked for again in `correct`, after the partners' data changed: the answer and the work must be the starter's.
AGAIN = ("/organizations/1", "/organizations/1/overview", f"/organizations/{MISSING_ORG}")

# The five requests again on a second app, with other latencies: now the overview is fast (380 ms) and
# the invoice slow (630 ms). A duration or a flag that comes from a table of expected times, or from the
# route, instead of from a clock, is right in one run at most.
RETIMED_STATEMENT_MS = 30.0
RETIMED_PARTNERS_MS = {"analytics": 150.0, "weather": 200.0, "billing": 600.0}
RETIMED = (
    f"(run with SQL statements at {RETIMED_STATEMENT_MS:g} ms, "
    + ", ".join(f"{name} at {ms:g} ms" for name, ms in RETIMED_PARTNERS_MS.items())
    + ")"
)

CALL_NEXT = (
    "an exception raised by the endpoint comes out of `await call_next(request)`, so the code after it never runs"
)
# Said when a request timed alone comes out wrong: the clock, or where the timing starts and ends.
CLOCK = (
    "While grading, a request's time is modeled (5 ms per SQL statement, 280/320/190 ms per analytics/"
    "weather/billing call in the usual run, other latencies in the second), and only the performance "
    "counter that lecture 2.2 times with reads that clock. The wall clock (time.time(), datetime.now()) "
    "and the CPU clock (time.process_time()) move "
    "with the real time the grader spent (a few ms on an idle machine), whatever the modeled time. The "
    "duration runs from the request reaching the middleware until its response starts."
)
SHARED = (
    "timed alone, each request was right, so these requests share one value: a start time, a duration "
    "or a logger kept in module state, on app.state, or in one object every request reads (a default "
    "value, something made at import) belongs to the request that wrote it last"
)


def reference(data: Dataset, path: str, partner_seed: int | None = None) -> tuple[int, Any]:
    """The starter's answer, computed from the rows and the partners' seed (500 for the invoice, which raises)."""
    partners = data.seed if partner_seed is None else partner_seed
    parts = path.strip("/").split("/")
    if parts[0] != "organizations":
        return 404, None
    org = data.organizations.get(int(parts[1]))
    if org is None:
        return 404, None
    if len(parts) == 2:
        return 200, {"id": org["id"], "name": org["name"], "city": org["city"], "member_count": org["member_count"]}
    if parts[2] == "overview":
        return 200, {
            "organization": org["name"],
            "analytics": analytics_summary(partners, org["id"]),
            "weather": current_weather(partners, org["city"]),
        }
    return 500, None  # the invoice preview: no tax rates are configured, the endpoint raises


def reference_work(data: Dataset, path: str) -> tuple[int, list[str]]:
    """The starter's work for ``path``: SQL statements, and the partner services it calls."""
    parts = path.strip("/").split("/")
    if parts[0] != "organizations":
        return 0, []  # the router answers before any endpoint runs
    if int(parts[1]) not in data.organizations or len(parts) == 2:
        return 1, []
    return 1, ["analytics", "weather"] if parts[2] == "overview" else ["billing"]


def _work(statements: int, services: list[str]) -> str:
    calls = ", ".join(services) if services else "no partner"
    return f"{statements} SQL statement{'s' if statements != 1 else ''} and called {calls}"


async def _get(client: Client, path: str) -> tuple[Exchange, list[MutableMapping[str, Any]]]:
    """One request and the structlog events it emitted (captured, so nothing is printed)."""
    with app_logs() as logs:
        exchange = await client.get(path)
    return exchange, logs


def _same_work(exchange: Exchange, data: Dataset, path: str, what: str, again: bool = False) -> None:
    statements, services = reference_work(data, path)
    ran = len(exchange.metrics.queries)
    called = sorted(call.service for call in exchange.metrics.calls)
    if (ran, called) != (statements, sorted(services)):
        why = (
            "a request asked for a second time does its work again: an answer kept from the first one is "
            "stale once the data changes, and instruments measure the work, they do not save it"
            if again
            else "instruments measure the work, they do not add to it or repeat it"
        )
        raise CheckFailed(
            f"{what} ran {_work(ran, called)}; expected what the starter does, {_work(statements, services)}: {why}"
        )


async def correct(g: Grading) -> str:
    paths = [
        f"/organizations/{org_id}{suffix}"
        for org_id in (*ORG_IDS, MISSING_ORG)
        for suffix in ("", "/overview", "/invoice")
    ] + [UNKNOWN_PATH]
    for seed in g.seeds:
        data = dataset(SCALE, seed)
        kind = "public" if seed == PUBLIC_SEED else "hidden"
        async with g.serve(SCALE, seed) as client:
            for path in paths:
                status, body = reference(data, path)
                exchange, _ = await _get(client, path)
                what = f"GET {path} ({kind} data)"
                if status == 500:
                    got = exchange.response.status_code
                    if got != 500:
                        raise CheckFailed(
                            f"{what} returned HTTP {got}, expected 500 (the endpoint raises RuntimeError): "
                            "a middleware must report an error as an error, not hide it"
                        )
                else:
                    assert_same_response(exchange, status, body, what)
                _same_work(exchange, data, path, what)
            # The same URLs again, once the partners' answers have changed: each answer is today's, and is
            # worked out again (the starter keeps nothing between requests).
            assert client.world is not None
            client.world.services.seed = seed + 1
            for path in AGAIN:
                status, body = reference(data, path, seed + 1)
                exchange, _ = await _get(client, path)
                what = f"GET {path} a second time ({kind} data, the partners' data changed since)"
                assert_same_response(exchange, status, body, what)
                _same_work(exchange, data, path, what, again=True)
    return (
        f"organizations, overviews and invoice previews of {len(ORG_IDS)} organizations, 404s and the "
        "invoice's 500 match the reference on public and hidden data, with the starter's queries and calls, "
        "also when asked for again"
    )


@dataclass
class Observed:
    name: str
    path: str
    exchange: Exchange
    logs: list[MutableMapping[str, Any]]
    offset_ms: float | None = None  # when it was sent, among overlapping requests
    setting: str = ""  # how the run was modeled, when not the usual latencies

    @property
    def status(self) -> int:
        return self.exchange.response.status_code

    @property
    def truth_ms(self) -> float:
        """Server-side time measured by the grader: request in until the body starts to go out."""
        return self.exchange.metrics.server_ms

    @property
    def what(self) -> str:
        return f"GET {self.path} (HTTP {self.status}){self.setting}"

    @property
    def header(self) -> str | None:
        return self.exchange.metrics.headers.get(HEADER)


def _retime(world: World) -> None:
    for name, ms in RETIMED_PARTNERS_MS.items():
        world.services[name].latency_ms = ms


async def _observe(g: Grading) -> list[Observed]:
    """The five kinds of request one at a time: at the usual latencies, then at others (RETIMED)."""

    async def measure() -> list[Observed]:
        observed = []
        async with g.serve(SCALE) as client:
            for name, path in OBSERVED:
                exchange, logs = await _get(client, path)
                observed.append(Observed(name, path, exchange, logs))
        latency = QueryLatency(per_statement_ms=RETIMED_STATEMENT_MS)
        async with g.serve(SCALE, latency=latency, configure=_retime) as client:
            for name, path in OBSERVED:
                exchange, logs = await _get(client, path)
                observed.append(Observed(name, path, exchange, logs, setting=f" {RETIMED}"))
        return observed

    return await g.once("observed requests", measure)


def _usual(o: Observed, observed: list[Observed]) -> Observed | None:
    """The same request at the usual latencies, when ``o`` ran at others."""
    if not o.setting:
        return None
    return next((u for u in observed if not u.setting and u.path == o.path), None)


async def _overlap(g: Grading) -> list[Observed]:
    async def measure() -> list[Observed]:
        async with g.serve(SCALE) as client:

            async def send(offset_ms: float, path: str) -> Observed:
                await asyncio.sleep(offset_ms / 1000)
                exchange, logs = await _get(client, path)
                return Observed(path, path, exchange, logs, offset_ms)

            return list(await asyncio.gather(*(send(offset, path) for offset, path in OVERLAPPING)))

    return await g.once("overlapping requests", measure)


def _listing(observed: list[Observed]) -> str:
    return ", ".join(o.what for o in observed)


def _parse_ms(o: Observed) -> float:
    try:
        value = float(o.header.strip())  # type: ignore[union-attr]
        if not math.isfinite(value):
            raise ValueError(o.header)
        return value
    except ValueError:
        raise CheckFailed(f"X-Process-Time-Ms on {o.what} is {o.header!r}, expected a number of milliseconds") from None


def _off(value: float, o: Observed, tolerance: float) -> bool:
    return abs(value - o.truth_ms) > tolerance


def _unchanged(o: Observed, usual: Observed | None, what: str) -> str:
    """Said when a value at other latencies is the one the same request had at the usual ones."""
    if usual is None:
        return ""
    return (
        f"; it is what the same request said at the usual latencies, where it took {usual.truth_ms:g} ms: "
        f"{what} does not follow the time this request took"
    )


def _same_value(a: float, b: Any) -> bool:
    return isinstance(b, int | float) and not isinstance(b, bool) and abs(a - float(b)) < 0.01


def _header_value(o: Observed | None) -> float | None:
    if o is None or o.header is None:
        return None
    try:
        return float(o.header.strip())
    except ValueError:
        return None


def _header_problem(o: Observed, tolerance: float, usual: Observed | None = None) -> str | None:
    """What is wrong with the request's header (None: present and within tolerance)."""
    if o.header is None:
        raised = explain_status(o.exchange)
        return f"no X-Process-Time-Ms on {o.what} (expected on every response, errors included){raised}"
    value = _parse_ms(o)
    if not _off(value, o, tolerance):
        return None
    facts = (
        f"X-Process-Time-Ms: {o.header} on {o.what}, but the grader measured {o.truth_ms:g} ms from the "
        f"request reaching the app to its response going out (tolerance {tolerance:g} ms)"
    )
    if o.truth_ms > 0 and abs(value * 1000 - o.truth_ms) <= tolerance:
        return f"{facts}: that is the time in seconds; the header is in milliseconds"
    before = _header_value(usual)
    if usual is not None and before is not None and _same_value(value, before) and _off(value, o, tolerance):
        return f"{facts}; off by {abs(value - o.truth_ms):g} ms{_unchanged(o, usual, 'the header')}"
    return f"{facts}; off by {abs(value - o.truth_ms):g} ms"


def _worst_first(observed: list[Observed]) -> list[Observed]:
    """The longest request first: where a wrong clock or window shows the most, whatever the machine."""
    return sorted(observed, key=lambda o: -o.truth_ms)


async def header_on_every_response(g: Grading) -> str:
    observed = await _observe(g)
    missing = [o for o in observed if o.header is None]
    if len(missing) == len(observed):
        raise CheckFailed(
            f"no response carried an X-Process-Time-Ms header (expected on every response): {_listing(observed)}"
        )
    for o in missing:
        if o.name == "raises":
            raise CheckFailed(
                f"no X-Process-Time-Ms on {o.what} (expected on every response, errors included)"
                f"{explain_status(o.exchange)}: {CALL_NEXT}"
            )
    if missing:
        present = [o for o in observed if o.header is not None]
        raise CheckFailed(
            f"no X-Process-Time-Ms on {_listing(missing)} (expected on every response, errors included); "
            f"it is on {_listing(present)}"
        )
    return f"X-Process-Time-Ms on every response: {_listing(observed)}"


async def header_matches_measurement(g: Grading) -> str:
    tolerance = g.budget("tolerance_ms")
    everything = await _observe(g)
    observed = [o for o in everything if o.header is not None]
    if not observed:
        measured = ", ".join(f"{o.what} {o.truth_ms:g} ms" for o in everything)
        raise CheckFailed(
            "no response carries an X-Process-Time-Ms header, so there is no value to compare with the "
            f"grader's measurements ({measured}; tolerance {tolerance:g} ms; see header_on_every_response)"
        )
    for o in _worst_first(observed):
        problem = _header_problem(o, tolerance, _usual(o, everything))
        if problem is not None:
            raise CheckFailed(problem if "in seconds" in problem else f"{problem}. {CLOCK}")
    return f"X-Process-Time-Ms within {tolerance:g} ms of the grader's measurement on " + ", ".join(
        f"{o.what} {o.header}" for o in observed
    )


# How a line shows where an exception came from: Python's traceback text (format_exc_info, a console
# renderer, the stdlib's formatter), or a structured traceback whose frames are listed (dict_tracebacks).
TRACEBACK = "Traceback (most recent call last)"
RENDERED = "_rendered"  # harness/apphost/logs.py: the text the app's renderer made of the event


def _exceptions_on(entry: MutableMapping[str, Any]) -> list[Any]:
    """The exception the line carries: formatted (``exception``) or still to be rendered."""
    found = []
    for key in ("exception", "exc_info"):
        if entry.get(key):
            found.append(entry[key])
    return found


def _keys(entry: MutableMapping[str, Any]) -> str:
    return ", ".join(k for k in entry if k not in ("event", "log_level", "level", RENDERED))


def _frames_of_runtime_error(value: Any) -> bool:
    """A structured traceback (structlog's dict_tracebacks): a RuntimeError with the frames it came through."""
    stack = value if isinstance(value, list) else [value]
    return any(
        isinstance(part, dict) and part.get("exc_type") == "RuntimeError" and bool(part.get("frames")) for part in stack
    )


def _handed_on(rendered: str) -> bool:
    """The app's last processor handed the event on to the stdlib's logging (ProcessorFormatter's
    wrap_for_formatter, render_to_log_kwargs): the line is written later, out of the grader's sight."""
    return rendered.startswith(("(({", "({", "{'"))


def _shows_traceback(entry: MutableMapping[str, Any]) -> bool:
    """The 500's line shows the RuntimeError with its traceback, as the app renders it."""
    rendered = entry.get(RENDERED)
    texts = [value for value in (entry.get("exception"), rendered) if isinstance(value, str)]
    if any(TRACEBACK in text and "RuntimeError" in text for text in texts):
        return True
    if _frames_of_runtime_error(entry.get("exception")):
        return True
    if isinstance(rendered, str) and _handed_on(rendered):
        # Known limit: the stdlib formats it later; an exception object or the one being handled is taken
        # on trust, a traceback of None is not.
        carried = entry.get("exc_info")
        if carried is True or (isinstance(carried, str) and "RuntimeError" in carried):
            return True
        return isinstance(carried, list) and len(carried) == 3 and carried[2] is not None
    return False


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _carried_exception(o: Observed, entry: MutableMapping[str, Any]) -> str | None:
    """What is wrong with the exception on the 500's line (None: it is there, with its traceback)."""
    if _shows_traceback(entry):
        return None
    carried = _exceptions_on(entry)
    if not carried:
        return f"the log line for {o.what} does not carry the exception the endpoint raised; it has: {_keys(entry)}"
    if any(value is True for value in carried):
        return (
            f"the log line for {o.what} asks for the exception being handled (True), but the line it was "
            "written as has no traceback, so it does not carry the exception the endpoint raised: by the time "
            "it was logged no exception was being handled any more"
        )
    if not any(TRACEBACK in str(value) for value in carried) and any(
        "RuntimeError(" in str(value) or "<class 'RuntimeError'>" in str(value) for value in carried
    ):
        return (
            f"the log line for {o.what} names the RuntimeError ({_shown(carried[0])!r}), but the line it was "
            f"written as has no traceback ({TRACEBACK}... or a structured one with its frames): without it, "
            "nobody can tell where the error came from"
        )
    return (
        f"the log line for {o.what} carries {_shown(carried[0])!r}, but not the exception the endpoint raised "
        "(a RuntimeError, with its type and traceback): the error's text alone does not say where it came from"
    )


def _escaped(o: Observed) -> str | None:
    """The 500's exception went on past the app to the server, which writes its own report of it."""
    if o.status != 500 or not o.exchange.metrics.error:
        return None
    return (
        f"the exception of {o.what} went on out of the app to the server{explain_status(o.exchange)}: the server "
        "then writes its own traceback for it, a second, unstructured line for the request. Once the "
        "middleware has logged the exception and sent the 500, nothing else reports it"
    )


def _log_problem(o: Observed, tolerance: float, usual: Observed | None = None) -> str | None:
    """What is wrong with the request's log line (None: one line, right keys and values)."""
    if not o.logs:
        if o.name == "raises":
            return (
                f"no log line for {o.what} (expected exactly one per request){explain_status(o.exchange)}: {CALL_NEXT}"
            )
        return f"no structlog log line for {o.what} (expected exactly one per request, with {', '.join(LOG_KEYS)})"
    if len(o.logs) > 1:
        events = ", ".join(repr(e.get("event")) for e in o.logs)
        return f"{len(o.logs)} log lines for {o.what} ({events}), expected exactly one per request"
    escaped = _escaped(o)
    if escaped is not None:
        return escaped
    entry = o.logs[0]
    for key in LOG_KEYS:
        if key not in entry:
            have = _keys(entry)
            note = " (the lecture calls it status_code; this log schema calls it status)" if key == "status" else ""
            return f"the log line for {o.what} has no key {key!r}{note}; it has: {have or 'nothing'}"
    expected = {"method": "GET", "path": o.path, "status": o.status}
    for key, value in expected.items():
        if entry[key] != value or type(entry[key]) is not type(value):
            return f"the log line for {o.what} has {key}={entry[key]!r}, expected {value!r}"
    duration = entry["duration_ms"]
    if isinstance(duration, bool) or not isinstance(duration, int | float) or not math.isfinite(duration):
        return f"the log line for {o.what} has duration_ms={duration!r}, expected a number of milliseconds"
    if _off(duration, o, tolerance):
        header = f"; its X-Process-Time-Ms is {o.header}" if o.header is not None else ""
        facts = (
            f"the log line for {o.what} has duration_ms={duration!r}, but the grader measured "
            f"{o.truth_ms:g} ms (tolerance {tolerance:g} ms){header}"
        )
        if o.truth_ms > 0 and abs(duration * 1000 - o.truth_ms) <= tolerance:
            return f"{facts}: that is the time in seconds; duration_ms is in milliseconds"
        before = [e.get("duration_ms") for e in usual.logs] if usual is not None else []
        if len(before) == 1 and _same_value(duration, before[0]):
            return facts + _unchanged(o, usual, "duration_ms")
        return facts
    if o.status == 500:
        return _carried_exception(o, entry)
    carried = _exceptions_on(entry)
    if carried:
        shown = str(carried[0]) if len(str(carried[0])) <= 80 else str(carried[0])[:77] + "..."
        return (
            f"the log line for {o.what} carries an exception ({shown!r}), but that request raised nothing "
            "(expected only on the 500's line): it belongs to another request"
        )
    return None


async def one_log_line_per_request(g: Grading) -> str:
    tolerance = g.budget("tolerance_ms")
    observed = await _observe(g)
    problems = [
        (o, problem) for o in observed if (problem := _log_problem(o, tolerance, _usual(o, observed))) is not None
    ]
    # A duration that is off is shown on the longest request (where a wrong clock shows the most, whatever the
    # machine); any other problem first, on the first request that has it.
    timing = [(o, p) for o, p in problems if p.startswith(f"the log line for {o.what} has duration_ms=")]
    other = [p for o, p in problems if not p.startswith(f"the log line for {o.what} has duration_ms=")]
    if other:
        raise CheckFailed(other[0])
    if timing:
        _, problem = max(timing, key=lambda pair: pair[0].truth_ms)
        raise CheckFailed(problem if "in seconds" in problem else f"{problem}. {CLOCK}")
    return f"exactly one log line with {', '.join(LOG_KEYS)} for each of {_listing(observed)}"


def _flag_problem(o: Observed, threshold: float, usual: Observed | None = None) -> str | None:
    flags = [e["slow"] for e in o.logs if "slow" in e]
    if not flags:
        return (
            f"no log line with a slow flag for {o.what}, which took {o.truth_ms:g} ms "
            f"(threshold {threshold:g} ms; see one_log_line_per_request)"
        )
    expected = o.truth_ms > threshold
    for flag in flags:
        if not isinstance(flag, bool):
            return f"the log line for {o.what} has slow={flag!r}, a {type(flag).__name__}, expected a bool"
        if flag is not expected:
            facts = (
                f"{o.what} took {o.truth_ms:g} ms and settings.slow_request_ms is {threshold:g} ms, but its "
                f"log line says slow={flag}"
            )
            before = [e.get("slow") for e in usual.logs] if usual is not None else []
            if usual is not None and before == [flag] and (usual.truth_ms > threshold) is flag:
                return (
                    f"{facts}; at the usual latencies the same request took {usual.truth_ms:g} ms and said "
                    f"slow={flag} too: the flag follows the path, not the time this request took"
                )
            return facts
    return None


async def slow_flagged(g: Grading) -> str:
    threshold, tolerance = g.budget("slow_request_ms"), g.budget("tolerance_ms")
    observed = await _observe(g)
    slow = next(o for o in observed if o.name == "slow")
    if slow.truth_ms <= threshold:
        raise CheckFailed(
            f"{slow.what} took {slow.truth_ms:g} ms, not more than the {threshold:g} ms threshold, so the slow "
            "flag cannot be tested: keep the endpoints as they are (making this one fast is exercise 02)"
        )
    for o in observed:
        problem = _flag_problem(o, threshold, _usual(o, observed))
        if problem is not None:
            raise CheckFailed(problem)
    # A right flag from a wrong duration is luck (a wall clock on a busy machine): it must come from the time.
    for o in _worst_first(observed):
        for entry in o.logs:
            duration = entry.get("duration_ms")
            number = isinstance(duration, int | float) and not isinstance(duration, bool)
            if "slow" in entry and (not number or _off(float(duration), o, tolerance)):  # type: ignore[arg-type]
                raise CheckFailed(
                    f"the log line for {o.what} says slow={entry['slow']} next to duration_ms={duration!r}, but the "
                    f"request took {o.truth_ms:g} ms (threshold {threshold:g} ms, tolerance {tolerance:g} ms): "
                    "a flag is only as right as the time it comes from (see one_log_line_per_request)"
                )
    return f"slow=True for {slow.what} ({slow.truth_ms:g} ms), slow=False for the others (threshold {threshold:g} ms)"


def _schedule(observed: list[Observed]) -> str:
    return ", ".join(f"GET {o.path} at {o.offset_ms:g} ms" for o in observed)


async def overlapping_requests(g: Grading) -> str:
    tolerance, threshold = g.budget("tolerance_ms"), g.budget("slow_request_ms")
    overlapping = await _overlap(g)
    if all(o.header is None for o in overlapping) and all(not o.logs for o in overlapping):
        raise CheckFailed(
            f"{len(overlapping)} overlapping requests ({_schedule(overlapping)}) came back with no "
            "X-Process-Time-Ms header and no log line (expected on every response; see "
            "header_on_every_response and one_log_line_per_request)"
        )
    alone = await _observe(g)
    right_alone = all(
        _header_problem(o, tolerance) is None
        and _log_problem(o, tolerance) is None
        and _flag_problem(o, threshold) is None
        for o in alone
    )
    for o in overlapping:
        problem = _header_problem(o, tolerance) or _log_problem(o, tolerance) or _flag_problem(o, threshold)
        if problem is None:
            continue
        others = [other for other in overlapping if other is not o]
        context = f"it was sent at {o.offset_ms:g} ms while others ran ({_schedule(others)})"
        if right_alone:
            raise CheckFailed(f"{problem}; {context}: {SHARED}")
        raise CheckFailed(
            f"{problem}; {context}. It is wrong for requests sent one at a time too: see the checks above"
        )
    return (
        f"{len(overlapping)} overlapping requests ({_schedule(overlapping)}) each got their own header, "
        f"log line and slow flag, within {tolerance:g} ms of the grader's times: "
        + ", ".join(f"{o.what} {o.truth_ms:g} ms" for o in overlapping)
    )


CHECKS = [
    Check(
        "correct",
        "responses, the 404s and the invoice's 500 equal the reference on public and hidden data, with the "
        "starter's queries and partner calls",
        correct,
        guard=True,
    ),
    Check(
        "header_on_every_response",
        "X-Process-Time-Ms on a fast, a slow, two 404 and a 500 response",
        header_on_every_response,
    ),
    Check(
        "header_matches_measurement",
        "X-Process-Time-Ms within budget.tolerance_ms of the grader's server-side time",
        header_matches_measurement,
    ),
    Check(
        "one_log_line_per_request",
        "exactly one structlog line per request with method, path, status, duration_ms, slow",
        one_log_line_per_request,
    ),
    Check("slow_flagged", "slow=True above settings.slow_request_ms, slow=False below", slow_flagged),
    Check(
        "overlapping_requests",
        "six requests that overlap in time each get their own header, log line and slow flag",
        overlapping_requests,
    ),
]
