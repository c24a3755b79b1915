"""07 query-profiler: per-request query count and time, and a warning only for the N+1.

What counts as a fix (the rule these checks enforce; the README says the same):

May change, freely: the middleware's style (``@app.middleware("http")`` or pure
ASGI adding to ``http.response.start``), the per-request holder (any object made
per request and reached through a ContextVar), how listeners are attached (in
the lifespan; ``event.listen`` or ``@listens_for``) and where a statement's start
is kept (``conn.info``, the context, a stack), the clock (any the virtual clock
moves: ``perf_counter``/``_ns``, the loop's time), how a shape is normalised (the
raw bound statement is a shape too), the warning's event name, keys and text, the
headers' number format.

May not change:
- the endpoints' answers, and the N+1 route keeps its N+1 (``correct``, and
  ``warns_only_when_it_should`` refuses a route that no longer repeats);
- X-Query-Count = exactly the statements the request ran, on every response,
  404 included, one request after another (``count_matches``);
- X-Query-Time-Ms = the sum of the request's statements' own modeled times:
  checked in a world whose statement costs vary from one statement to the next,
  where the app also spends modeled CPU time between statements, so count x
  latency, the request's duration and the first-to-last span cannot match
  (``time_matches``);
- per-request isolation under concurrency (``concurrent_requests_separate``);
- one structlog warning above the threshold naming the most repeated shape and
  its count, none at or below (``warns_only_when_it_should``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from grading.references import dashboard_projects, organization_in
from harness.engine.checks import Check, CheckFailed, Grading, compare_with_reference, explain_status, profile_scale
from harness.settings import QueryLatency
from harness.world.boundary import app_logs
from harness.world.fingerprint import fingerprint
from harness.world.measure import RequestMetrics
from harness.world.seed import Dataset
from harness.world.world import Exchange

ORG_IDS = (1, 2, 3)  # many tasks, unassigned tasks, no projects
MISSING_ORG = 999
CORRECTNESS_SCALE = "10x8"
SLOW = "/organizations/1/dashboard"  # the N+1 route
FAST = "/organizations/1/dashboard/fast"  # its fixed twin
MISSING = f"/organizations/{MISSING_ORG}/dashboard"
COUNT = "x-query-count"
TIME = "x-query-time-ms"


def reference(data: Dataset, path: str) -> tuple[int, Any]:
    """Both dashboards as the pristine starter returns them, computed from the rows."""
    org_id, org = organization_in(data, path)
    if org is None:
        return 404, None
    projects = dashboard_projects(data, org_id)
    return 200, {"organization": org["name"], "member_count": org["member_count"], "projects": projects}


# What the profile request must answer at every scale it is measured at (``Grading.profile``).
PROFILE_REFERENCE = reference


async def correct(g: Grading) -> str:
    paths = [
        f"/organizations/{org_id}/dashboard{suffix}" for org_id in (*ORG_IDS, MISSING_ORG) for suffix in ("", "/fast")
    ]
    with app_logs():  # the app's own log lines would clutter the report
        await compare_with_reference(g, CORRECTNESS_SCALE, paths, reference)
    return (
        f"both dashboards of {len(ORG_IDS)} organizations and their 404s match the reference on public and hidden data"
    )


# --- reading the app's headers -----------------------------------------------


def _what(path: str, scale: str) -> str:
    route = "the fixed route" if path.endswith("/fast") else "the N+1 route"
    return f"GET {path} ({route}, scale {scale})"


def _header(exchange: Exchange, name: str, what: str) -> float:
    metrics = exchange.metrics
    value = metrics.headers.get(name)
    if value is None:
        raise CheckFailed(
            f"no {name.title()} header on {what} (HTTP {metrics.status}{explain_status(exchange)}), "
            "expected on every response"
        )
    try:
        return float(value)
    except ValueError:
        raise CheckFailed(f"{name.title()}: {value!r} on {what} is not a number") from None


def _top(metrics: RequestMetrics) -> str:
    groups = metrics.repeated()
    if not groups:
        return ""
    return f" (most repeated: {groups[0]['sql']} x{groups[0]['count']} from {groups[0]['call_site']})"


# --- the world the headers are checked in --------------------------------------

# Each statement costs the base latency times the next of these factors, in
# turn: statements do not all cost the same, as in a real database.
FACTORS = (1.0, 0.6, 1.5, 0.8, 1.3, 0.7)


@dataclass(frozen=True)
class VariedLatency(QueryLatency):
    """``per_statement_ms`` times the next factor of ``factors``, statement after statement.

    No estimate from the query count (times 5 ms, or times any one number)
    matches the time the statements took: only timing each one does.
    """

    factors: tuple[float, ...] = FACTORS
    _next: list[int] = field(default_factory=lambda: [0], compare=False, repr=False)

    def seconds(self, statement: str) -> float:
        index = self._next[0]
        self._next[0] += 1
        return self.per_statement_ms * self.factors[index % len(self.factors)] / 1000


def base_latency(g: Grading) -> float:
    """The base ms per statement of the worlds the headers are checked in: not the usual 5, from the hidden seed."""
    return 5.0 + 0.75 * (1 + g.hidden_seed % 5)


def _latency(g: Grading) -> VariedLatency:
    rotation = g.hidden_seed % len(FACTORS)
    return VariedLatency(base_latency(g), factors=FACTORS[rotation:] + FACTORS[:rotation])


def _charges(g: Grading) -> str:
    cheapest, dearest = (round(base_latency(g) * f, 3) for f in (min(FACTORS), max(FACTORS)))
    return (
        f"this check's world charges between {cheapest:g} and {dearest:g} ms per statement, varying from one "
        "statement to the next (not the usual 5 ms)"
    )


@dataclass
class Session:
    """What one app at one scale did: requests one after another (with the structlog events each
    logged), then two at the same time."""

    sequential: list[tuple[str, Exchange, list[MutableMapping[str, Any]]]]
    concurrent: list[tuple[str, Exchange]]


async def _session(g: Grading, scale: str) -> Session:
    """The N+1 route, the fixed route and a 404 one after another, then (at the first of the
    count_scales) the two routes together."""

    async def measure() -> Session:
        sequential = []
        with app_logs():  # the app's own log lines would clutter the report
            async with g.serve(scale, latency=_latency(g)) as client:
                for path in (SLOW, FAST, MISSING):
                    with app_logs() as events:
                        exchange = await client.get(path)
                    sequential.append((path, exchange, events))
                together = []
                if scale == g.budget("count_scales")[0]:
                    slow, fast = await asyncio.gather(client.get(SLOW), client.get(FAST))
                    together = [(SLOW, slow), (FAST, fast)]
        return Session(sequential, together)

    return await g.once(("session", scale), measure)


async def _sequential(g: Grading, scale: str) -> list[tuple[str, Exchange]]:
    return [(path, exchange) for path, exchange, _ in (await _session(g, scale)).sequential]


async def count_matches(g: Grading) -> str:
    seen = []
    for scale in g.budget("count_scales"):
        earlier = 0  # statements of the earlier requests in this world
        for path, exchange in await _sequential(g, scale):
            what = _what(path, scale)
            reported, ran = _header(exchange, COUNT, what), len(exchange.metrics.queries)
            if reported != ran:
                if earlier and reported == earlier + ran:
                    raise CheckFailed(
                        f"X-Query-Count {reported:g} on {what}, but it ran {ran} statements: {reported:g} is this "
                        f"request's {ran} plus the {earlier} of the requests before it; the stats object outlives "
                        "the request (a module-level object, or a default= value, is shared by every request)"
                    )
                raise CheckFailed(
                    f"X-Query-Count {reported:g} on {what}, but the harness counted {ran} SQL statements"
                    f"{_top(exchange.metrics)}"
                )
            earlier += ran
            seen.append(f"{ran:g}")
    return f"X-Query-Count equals the statements run ({', '.join(seen)}) on both routes and a 404, at " + " and ".join(
        g.budget("count_scales")
    )


async def time_matches(g: Grading) -> str:
    tolerance = g.budget("time_tolerance_ms")
    seen = []
    for scale in g.budget("count_scales"):
        for path, exchange in await _sequential(g, scale):
            what = _what(path, scale)
            metrics = exchange.metrics
            reported, db_ms = _header(exchange, TIME, what), metrics.db_ms
            if abs(reported - db_ms) <= tolerance:
                seen.append(f"{db_ms:g}")
                continue
            queries = len(metrics.queries)
            facts = (
                f"X-Query-Time-Ms {reported:g} on {what}, but its {queries} statements spent {db_ms:g} ms in "
                f"the database (tolerance {tolerance:g} ms)"
            )
            if db_ms and abs(reported * 1000 - db_ms) <= tolerance:
                raise CheckFailed(f"{facts}: that is the DB time in seconds")
            how = "time each statement on its own, from its start to its end, and add them up (kata hint 07)"
            whole = metrics.server_ms
            span = whole
            if metrics.queries:
                span = round((max(q.end for q in metrics.queries) - min(q.start for q in metrics.queries)) * 1000, 3)
            if abs(reported - span) <= tolerance and abs(reported - span) < abs(reported - whole):
                raise CheckFailed(
                    f"{facts}: {reported:g} ms is the span from the first statement's start to the last one's end, "
                    f"with {round(span - db_ms, 3):g} ms of the app's own work between statements in it (building "
                    f"each project's rows); {how}"
                )
            if abs(reported - whole) <= tolerance:
                raise CheckFailed(
                    f"{facts}: {reported:g} ms is the whole request's time, {round(whole - db_ms, 3):g} ms of which "
                    f"was the app's own work (building the response), not SQL; {how}"
                )
            per_statement = reported / queries if queries else 0.0
            if per_statement > 0 and abs(per_statement - round(per_statement, 2)) < 1e-9:
                raise CheckFailed(
                    f"{facts}: {reported:g} ms is {queries} x {per_statement:g} ms, an estimate from the count. It "
                    f"cannot match: {_charges(g)}; {how}"
                )
            raise CheckFailed(f"{facts}; {_charges(g)}: {how}")
    return (
        f"X-Query-Time-Ms within {tolerance:g} ms of the modeled DB time ({', '.join(seen)} ms), with statements "
        f"costing about {base_latency(g):g} ms each, varied"
    )


async def concurrent_requests_separate(g: Grading) -> str:
    scale = g.budget("count_scales")[0]
    results = []
    for path, exchange in (await _session(g, scale)).concurrent:
        results.append((path, _header(exchange, COUNT, _what(path, scale)), len(exchange.metrics.queries)))
    told = "; ".join(f"GET {path} reported {reported:g} but ran {ran}" for path, reported, ran in results)
    if any(reported != ran for _, reported, ran in results) and not any(reported > ran for _, reported, ran in results):
        raise CheckFailed(f"two requests served at the same time: {told}; statements went uncounted")
    if any(reported != ran for _, reported, ran in results):
        raise CheckFailed(
            f"two requests served at the same time mix their counts: {told}; a counter shared by every request "
            "(a module-level variable, or one object the middleware resets at the start of each request, the "
            "lecture's \"state the middleware resets\") counts the other request's queries too"
        )
    return "concurrent requests report their own counts: " + ", ".join(f"GET {path} {ran}" for path, _, ran in results)


def _values(value: Any) -> list[Any]:
    """Every leaf value of a log event, nested dicts and lists included."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _values(item)]
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in _values(item)]
    return [value]


def _level(event: Mapping[str, Any]) -> Any:
    """The event's level: ``log_level`` as structlog's capture names it, ``level`` as its add_log_level does."""
    return event.get("log_level", event.get("level"))


def _brief(event: Mapping[str, Any], limit: int = 240) -> str:
    text = repr({k: v for k, v in event.items() if k not in ("log_level", "level", "timestamp", "_rendered")})
    return text if len(text) <= limit else text[: limit - 5] + " ...}"


def _names_query(event: Mapping[str, Any], shape: str, short_shape: str, count: int) -> tuple[bool, bool]:
    """(does the event name the query's shape, does it say how many times it ran)."""
    leaves = _values(event)
    texts = [" ".join(str(v).split()) for v in leaves if isinstance(v, str)]
    # Compared as shapes: a raw statement names the query too, in either database's parameter style.
    names = any(shape in text or short_shape in text or shape in fingerprint(text) for text in texts)
    times = any(v == count for v in leaves if isinstance(v, int) and not isinstance(v, bool)) or any(
        re.search(rf"(?<![\d.]){count}(?![\d.])", text) for text in texts
    )
    return names, times


async def warns_only_when_it_should(g: Grading) -> str:
    with app_logs():  # the report's summary reuses this measurement: keep its log lines out of the report
        await g.profile()
    threshold = g.budget("query_warning_threshold")
    scale = profile_scale(g.exercise)
    told = []
    for path, exchange, events in (await _session(g, scale)).sequential:
        what, ran = _what(path, scale), len(exchange.metrics.queries)
        if path == SLOW and ran <= threshold:
            plural = "" if ran == 1 else "s"
            raise CheckFailed(
                f"{what} ran only {ran} statement{plural} (HTTP {exchange.metrics.status}{explain_status(exchange)}), "
                f"not more than the threshold {threshold}: this check needs the N+1 route as the starter has it. Leave "
                "the endpoints alone; the profiler is what you build"
            )
        warnings = [e for e in events if _level(e) == "warning"]
        if ran <= threshold:
            if warnings:
                header = exchange.metrics.headers.get(COUNT)
                miscounted = f" (its X-Query-Count says {header}: see count_matches)" if header != str(ran) else ""
                raise CheckFailed(
                    f"{len(warnings)} warning(s) logged for {what}, which ran {ran} statements{miscounted} "
                    f"(threshold {threshold}): {warnings[0].get('event')!r}. Warn only above the threshold, or the "
                    "alarm that should catch an N+1 rings on every request and nobody reads it"
                )
            told.append(f"none for {ran} statements")
            continue
        if len(warnings) != 1:
            others = sorted({str(_level(e)) for e in events} - {"warning"})
            elsewhere = f" (events at other levels: {', '.join(others)})" if others else ""
            logged = f": {', '.join(repr(e.get('event')) for e in warnings[:3])}" if warnings else ""
            raise CheckFailed(
                f"{len(warnings)} warnings logged (structlog, level warning) for {what}, which ran {ran} "
                f"statements (threshold {threshold}); expected exactly one{elsewhere}{logged}"
            )
        top = exchange.metrics.fingerprints()[0]
        shape = next(q.fingerprint for q in exchange.metrics.queries if q.call_site == top["call_site"])
        tail = shape[shape.upper().find(" FROM ") + 1 :]  # the shape without its column list
        names, times = _names_query(warnings[0], tail, top["sql"], top["count"])
        if not (names and times):
            missing = " and ".join(
                part
                for part, ok in (
                    (f"the query's shape ({top['sql']}, values as ?)", names),
                    (f"how many times it ran ({top['count']})", times),
                )
                if not ok
            )
            raise CheckFailed(
                f"the warning for {what} is {_brief(warnings[0])}, but it does not name {missing}; the most repeated "
                f"query ran {top['count']}x from {top['call_site']}"
            )
        told.append(f"one for {ran} statements naming {top['sql']} x{top['count']}")
    return "warnings: " + "; ".join(told)


CHECKS = [
    Check(
        "correct",
        "both dashboards equal the reference, 404 included, on public and hidden data",
        correct,
        guard=True,
    ),
    Check("count_matches", "X-Query-Count equals the statements the request ran, at two scales", count_matches),
    Check("time_matches", "X-Query-Time-Ms equals the modeled DB time of the request", time_matches),
    Check(
        "concurrent_requests_separate",
        "two concurrent requests each report their own query count",
        concurrent_requests_separate,
    ),
    Check(
        "warns_only_when_it_should",
        "one warning naming the most repeated query above the threshold, none below it",
        warns_only_when_it_should,
    ),
]
