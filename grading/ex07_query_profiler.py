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
- the work done: a path requested again runs the statements it ran the first
  time (no response cache in the profiler) (``count_matches``);
- per-request isolation under concurrency, counts and times, with the requests
  really overlapping (no lock serialising them) (``concurrent_requests_separate``).
  While they overlap the app's modeled CPU work takes no time: a loop held by one
  request's work delays the moment the other sees its statement end, so a correct
  profiler would report more than the statement cost, by an amount that depends
  on how the two happen to line up;
- one structlog warning above the threshold, decided by the count alone (an
  empty organization's N+1 route runs 2 statements: none), naming the most
  repeated shape of this request and its count in this request, none at or
  below; checked at both count_scales, on organizations the session adds with
  exactly threshold and threshold + 1 statements whose last statement is not
  the most repeated one (``warns_only_when_it_should``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from grading.references import dashboard_projects, organization_in
from harness.engine.checks import Check, CheckFailed, Grading, compare_with_reference, explain_status, profile_scale
from harness.settings import VARIED_FACTORS, VariedLatency
from harness.world.boundary import app_logs
from harness.world.fingerprint import fingerprint
from harness.world.measure import RequestMetrics
from harness.world.seed import Dataset
from harness.world.world import Client, Exchange

ORG_IDS = (1, 2, 3)  # many tasks, unassigned tasks, no projects
MISSING_ORG = 999
CORRECTNESS_SCALE = "10x8"
SLOW = "/organizations/1/dashboard"  # the N+1 route
FAST = "/organizations/1/dashboard/fast"  # its fixed twin
MISSING = f"/organizations/{MISSING_ORG}/dashboard"
# Organizations the session adds, shaped around the warning threshold (``_add_probes``).
ABOVE_ORG, AT_ORG = 701, 702
EMPTY = "/organizations/3/dashboard"  # the N+1 route of the organization without projects: 2 statements
ABOVE = f"/organizations/{ABOVE_ORG}/dashboard"  # one statement over the threshold, its last not the most repeated
AT = f"/organizations/{AT_ORG}/dashboard"  # exactly the threshold
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


def base_latency(g: Grading) -> float:
    """The base ms per statement of the worlds the headers are checked in: not the usual 5, from the hidden seed."""
    return 5.0 + 0.75 * (1 + g.hidden_seed % 5)


def _latency(g: Grading) -> VariedLatency:
    return VariedLatency.rotated(base_latency(g), g.hidden_seed)


def _charges(g: Grading) -> str:
    cheapest, dearest = (round(base_latency(g) * f, 3) for f in (min(VARIED_FACTORS), max(VARIED_FACTORS)))
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


async def _add_probes(client: Client, threshold: int) -> None:
    """Two organizations whose N+1 route runs threshold + 1 and exactly threshold statements.

    Each has a project of k assigned tasks (its tasks query, then k user queries) and, last, a
    project whose one task is unassigned (a tasks query, no user query): org, projects, k + 1, 1
    statements. The most repeated query is the user lookup (k times); the last one run is not.
    """
    world = client.world
    assert world is not None and world.database is not None
    async with world.database.sessionmaker() as session:
        for org_id, k in ((ABOVE_ORG, threshold - 3), (AT_ORG, threshold - 4)):
            await session.execute(
                text("INSERT INTO organizations (id, name, city, member_count) VALUES (:id, :name, 'Oslo', 4)"),
                {"id": org_id, "name": f"Probe {org_id}"},
            )
            for index, assigned in enumerate((k, 0)):
                project_id = org_id * 10 + index
                await session.execute(
                    text("INSERT INTO projects (id, org_id, name) VALUES (:id, :org, :name)"),
                    {"id": project_id, "org": org_id, "name": f"Probe project {index + 1}"},
                )
                for task in range(max(assigned, 1)):
                    await session.execute(
                        text(
                            "INSERT INTO tasks (id, project_id, assignee_id, title, status, description, due_date) "
                            "VALUES (:id, :project, :assignee, 'Probe', 'todo', 'A probe task.', '2026-09-01')"
                        ),
                        {
                            "id": project_id * 100 + task,
                            "project": project_id,
                            "assignee": task + 1 if assigned else None,
                        },
                    )
        await session.commit()


# The requests sent one after another: the first three as the lecture's table has them, then the
# organizations around the threshold, then the N+1 route again (it must run its statements again).
SEQUENCE = (SLOW, FAST, MISSING, EMPTY, AT, ABOVE, SLOW)


async def _session(g: Grading, scale: str) -> Session:
    """The requests of ``SEQUENCE`` one after another, then the N+1 route and the fixed route at the
    same time."""

    async def measure() -> Session:
        sequential = []
        with app_logs():  # the app's own log lines would clutter the report
            async with g.serve(scale, latency=_latency(g)) as client:
                await _add_probes(client, g.budget("query_warning_threshold"))
                for path in SEQUENCE:
                    with app_logs() as events:
                        exchange = await client.get(path)
                    sequential.append((path, exchange, events))
                paths = (SLOW, FAST)
                # The app's CPU work takes no time now: while one request's work held the loop, the
                # other's finished statement would wait to be seen, and rightly count it.
                assert client.world is not None
                client.world.app_cpu = 0.0
                together = list(zip(paths, await asyncio.gather(*(client.get(path) for path in paths)), strict=True))
        return Session(sequential, together)

    return await g.once(("session", scale), measure)


async def _sequential(g: Grading, scale: str) -> list[tuple[str, Exchange]]:
    return [(path, exchange) for path, exchange, _ in (await _session(g, scale)).sequential]


async def count_matches(g: Grading) -> str:
    seen = []
    for scale in g.budget("count_scales"):
        earlier = 0  # statements of the earlier requests in this world
        first: dict[str, int] = {}  # statements each path ran the first time
        for path, exchange in await _sequential(g, scale):
            what = _what(path, scale)
            reported, ran = _header(exchange, COUNT, what), len(exchange.metrics.queries)
            if path in first and ran != first[path]:
                raise CheckFailed(
                    f"{what} ran {ran} statements when requested again, {first[path]} the first time (the data did "
                    "not change): the app must do the same work on every request, or the profiler measures "
                    "something else than the app. A response kept from an earlier request (a cache in the "
                    "middleware) hides the very queries the profiler is there to count; leave the endpoints' work "
                    "alone"
                )
            first.setdefault(path, ran)
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


def _interleaved(a: RequestMetrics, b: RequestMetrics) -> bool:
    """Did the two requests' statements run during each other (neither all before the other's first)?"""
    if not (a.queries and b.queries):
        return True
    return min(q.start for q in a.queries) < max(q.end for q in b.queries) and min(q.start for q in b.queries) < max(
        q.end for q in a.queries
    )


async def concurrent_requests_separate(g: Grading) -> str:
    seen = []
    for scale in g.budget("count_scales"):
        seen.append(await _concurrent(g, scale))
    return "concurrent requests overlap and report their own counts and DB time: " + "; ".join(seen)


async def _concurrent(g: Grading, scale: str) -> str:
    tolerance = g.budget("time_tolerance_ms")
    together = (await _session(g, scale)).concurrent
    results = []
    for path, exchange in together:
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
    (slow_path, slow), (fast_path, fast) = together[:2]
    if not _interleaved(slow.metrics, fast.metrics):
        alone = next(exchange for path, exchange, _ in (await _session(g, scale)).sequential if path == fast_path)
        raise CheckFailed(
            f"GET {slow_path} and GET {fast_path} were sent at the same time, but one's statements all ran after "
            f"the other's: GET {fast_path} took {fast.metrics.server_ms:g} ms next to the N+1 route "
            f"({slow.metrics.server_ms:g} ms), {alone.metrics.server_ms:g} ms alone (expected close to alone). "
            "The profiler made requests wait for each other (a lock around each request?): counts kept apart by "
            "serving one request at a time cost every user the others' time. Keep each request's numbers apart "
            "while requests overlap"
        )
    for path, exchange in together:
        metrics = exchange.metrics
        reported, db_ms = _header(exchange, TIME, _what(path, scale)), metrics.db_ms
        if abs(reported - db_ms) > tolerance:
            raise CheckFailed(
                f"two requests served at the same time (scale {scale}): X-Query-Time-Ms {reported:g} on GET {path}, "
                "but its "
                f"{len(metrics.queries)} statements spent {db_ms:g} ms in the database (tolerance {tolerance:g} ms). "
                "Right one request at a time, wrong while another request runs: the time measured includes, or "
                "misses, the other request's work (a statement's start kept where the other request's statements "
                "overwrite it, or a time derived from the request's duration)"
            )
    return f"{scale}: " + ", ".join(f"GET {path} {ran}" for path, _, ran in results)


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


def _other_shape(event: Mapping[str, Any], metrics: RequestMetrics, top: str) -> str:
    """If the warning names another query of the request than the most repeated one: which, and how often it ran."""
    for group in metrics.fingerprints():
        if group["sql"] == top:
            continue
        shape = next(q.fingerprint for q in metrics.queries if q.call_site == group["call_site"])
        if _names_query(event, shape[shape.upper().find(" FROM ") + 1 :], group["sql"], group["count"])[0]:
            return (
                f"; it names {group['sql']}, which ran only {group['count']}x (the last statement, or another one, "
                "is not the most repeated: count each shape over the whole request)"
            )
    return ""


async def warns_only_when_it_should(g: Grading) -> str:
    with app_logs():  # the report's summary reuses this measurement: keep its log lines out of the report
        await g.profile()
    threshold = g.budget("query_warning_threshold")
    scales = [profile_scale(g.exercise), *(s for s in g.budget("count_scales") if s != profile_scale(g.exercise))]
    told = []
    requests = []
    for at in scales:
        requests += [(at, *request) for request in (await _session(g, at)).sequential]
    for scale, path, exchange, events in requests:
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
            told.append(f"{scale}: none for {ran} statements")
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
            other = _other_shape(warnings[0], exchange.metrics, top["sql"])
            raise CheckFailed(
                f"the warning for {what} is {_brief(warnings[0])}, but it does not name {missing}; the most repeated "
                f"query ran {top['count']}x from {top['call_site']}{other}"
            )
        told.append(f"{scale}: one for {ran} statements naming {top['sql']} x{top['count']}")
    return "warnings: " + "; ".join(dict.fromkeys(told))


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
