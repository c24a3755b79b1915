"""06 server-timing: a Server-Timing header whose numbers are this request's own, same answers.

What counts as a fix (the rule these checks enforce; the README says the same):

May change, freely: how the numbers are collected and sent. The middleware's
style (``@app.middleware("http")``, a ``BaseHTTPMiddleware`` subclass or
dispatch function, or pure ASGI adding to ``http.response.start``; registered
with ``add_middleware`` or ``FastAPI(middleware=...)``),
the per-request holder (dict, dataclass, any mutable object made per request and
reached through a ContextVar), the clock (``time.perf_counter``/``_ns`` or the
loop's time: any clock the virtual clock moves), how statements are timed
(cursor events attached in the lifespan, ``event.listen`` or ``@listens_for``),
how partner calls are timed (httpx hooks, a transport, or a wrapper), the header's layout
(order, desc, decimals, one header or several, extra metrics).

May not change (this exercise makes nothing faster: the app stays the app):
- the responses: status, JSON bodies, the report page's HTML and Content-Type,
  404s, on public and hidden data, and again after the rows and the partner's
  answers changed between requests: nothing kept from an earlier request or
  loaded at startup (``correct``);
- the behaviour on failure: the analytics partner answering an error status
  (5xx or 4xx) or never answering still gives the starter's HTTP 500 on the
  routes that call it (``correct``);
- the work each request does: the starter's SQL statements (2 for an
  organization, 3 for a summary or report page, 1 for a 404) and its one
  analytics call, made during that request: a header describing work the
  request skipped is no fix (``correct``);
- that every response of the routes, 404s included, carries db, total and
  (with a partner call) ext in the W3C syntax (``header_present_and_parses``);
- that the numbers are this request's own, measured: db = the modeled time of
  its statements, ext = of its partner calls, total = its server-side time up to
  the first body byte, including work that is neither (the report page's
  rendering, modeled CPU). Checked in a world whose statement costs vary from
  one statement to the next and whose analytics latency varies from request to
  request, so constants, count x latency estimates and ``total = db + ext``
  cannot match (``values_match_measurement``);
- that concurrent requests keep their numbers apart, two to the same path
  included: the holder and the start times of statements and calls belong to
  one request (``concurrent_requests_separate``).

Known limit: a total computed as db + ext + the app's own time measured
separately (e.g. around the rendering) is right by construction here, since
nothing else takes modeled time; it passes.
"""

from __future__ import annotations

import asyncio
import copy
import math
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape
from typing import Any

from sqlalchemy import insert, update

from harness.engine.checks import Check, CheckFailed, Grading, assert_same_response, explain_status
from harness.models import Organization, Project, Task
from harness.settings import VARIED_FACTORS, VariedLatency
from harness.world.measure import RequestMetrics
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.services import analytics_summary
from harness.world.world import Client, Exchange, RequestHung, World

ORG_IDS = (1, 2, 3, 4)
MISSING_ORG = 999
REPORT_ORG_IDS = (1, 3, MISSING_ORG)  # the full one, the empty one, the missing one
SCALE = "10x8"
METRICS = ("db", "ext", "total")
# Requests sent one after another in one world: every route, and later requests
# that would show numbers carried over from earlier ones.
SEQUENCE = (
    "/organizations/1",
    "/organizations/1/summary",
    "/organizations/1/report.html",
    "/organizations/2",
    "/organizations/4/summary",
    # The 404s of the three routes: errors carry the header too.
    f"/organizations/{MISSING_ORG}/summary",
    f"/organizations/{MISSING_ORG}/report.html",
    f"/organizations/{MISSING_ORG}",
)
# The requests of SEQUENCE that call the partner (the analytics call gets slower along them).
PARTNER_REQUESTS = 5
# Sent at the same time: different work (3 queries and a partner call vs 2 queries and no call).
CONCURRENT = ("/organizations/1/summary", "/organizations/2")
# Then, in the same world, two requests to the same path at the same time: still two requests.
SAME_PATH = ("/organizations/1/summary", "/organizations/1/summary")


# --- the reference ------------------------------------------------------------


def reference(data: Dataset, path: str, partner_seed: int | None = None) -> tuple[int, Any]:
    """JSON routes as the pristine starter answers them, computed from the rows.

    The analytics partner answers from ``partner_seed`` (by default the data's own seed).
    """
    parts = path.strip("/").split("/")
    org_id = int(parts[1])
    org = data.organizations.get(org_id)
    if org is None:
        return 404, None
    projects = data.projects_of(org_id)
    if len(parts) == 2:
        return 200, {
            "id": org["id"],
            "name": org["name"],
            "city": org["city"],
            "member_count": org["member_count"],
            "project_count": len(projects),
        }
    statuses: dict[str, int] = {}
    for project in projects:
        for task in data.tasks_of(project["id"]):
            statuses[task["status"]] = statuses.get(task["status"], 0) + 1
    return 200, {
        "organization": org["name"],
        "city": org["city"],
        "projects": [{"name": p["name"], "task_count": len(data.tasks_of(p["id"]))} for p in projects],
        "tasks_by_status": statuses,
        "analytics": analytics_summary(data.seed if partner_seed is None else partner_seed, org_id),
    }


def assert_same_page(
    exchange: Exchange, data: Dataset, org_id: int, what: str, partner_seed: int | None = None
) -> None:
    """The HTML report: same status, still HTML, about the right organization, with the partner's answer."""
    org = data.organizations.get(org_id)
    expected = 404 if org is None else 200
    status = exchange.response.status_code
    if status != expected:
        raise CheckFailed(f"{what} returned HTTP {status}, expected {expected}{explain_status(exchange)}")
    if org is None:
        return
    content_type = exchange.response.headers.get("content-type", "")
    if not content_type.startswith("text/html"):
        raise CheckFailed(f"{what} is no longer an HTML page (Content-Type: {content_type or 'none'})")
    if escape(org["name"]) not in exchange.response.text:
        raise CheckFailed(f"{what} does not show the organization's name {org['name']!r}")
    users = analytics_summary(data.seed if partner_seed is None else partner_seed, org_id)["active_users_7d"]
    if f"{users} active users this week" not in exchange.response.text:
        raise CheckFailed(
            f"{what} does not show the {users} active users the analytics partner answered during that request"
        )


# What the pristine starter does for each route: (SQL statements, analytics calls),
# for an organization that exists and for one that does not.
STARTER_WORK = {"organization": (2, 0), "summary": (3, 1), "report.html": (3, 1)}
STARTER_WORK_404 = (1, 0)


def _route(path: str) -> str:
    parts = path.strip("/").split("/")
    return parts[2] if len(parts) > 2 else "organization"


def assert_same_work(exchange: Exchange, path: str, what: str) -> None:
    """The request did the starter's work: its statements and its partner call, during the request.

    Nothing in this exercise makes the app faster: a statement or a call
    skipped (an answer kept from an earlier request, rows loaded at startup)
    is a different app, and the header would describe work it no longer does.
    """
    found = exchange.response.status_code != 404
    statements, calls = STARTER_WORK[_route(path)] if found else STARTER_WORK_404
    metrics = exchange.metrics
    made = [call for call in metrics.calls if call.service == "analytics"]
    ran = len(metrics.queries)
    if ran == statements and len(made) == calls:
        return
    did = f"{ran} SQL statement{'s' * (ran != 1)} and {len(made)} analytics call{'s' * (len(made) != 1)}"
    should = f"{statements} and {calls} as the starter does for this route"
    if ran < statements or len(made) < calls:
        raise CheckFailed(
            f"{what} ran {did} during the request, expected {should}: this exercise makes nothing faster, "
            "it only reports where the time goes. An answer kept from an earlier request or rows loaded at "
            "startup are stale as soon as the data or the partner's answer changes, and the header would "
            "describe work the request did not do: let every request do its own work"
        )
    raise CheckFailed(
        f"{what} ran {did} during the request, expected {should}: the header should describe the app's "
        "work, not add to it"
    )


async def correct(g: Grading) -> str:
    ids = (*ORG_IDS, MISSING_ORG)
    for seed in g.seeds:
        data = dataset(SCALE, seed)
        kind = "public" if seed == PUBLIC_SEED else "hidden"
        async with g.serve(SCALE, seed) as client:
            for org_id in ids:
                for path in (f"/organizations/{org_id}", f"/organizations/{org_id}/summary"):
                    status, body = reference(data, path)
                    exchange = await client.get(path)
                    assert_same_response(exchange, status, body, f"GET {path} ({kind} data)")
                    assert_same_work(exchange, path, f"GET {path} ({kind} data)")
                if org_id in REPORT_ORG_IDS:
                    path = f"/organizations/{org_id}/report.html"
                    exchange = await client.get(path)
                    assert_same_page(exchange, data, org_id, f"GET {path} ({kind} data)")
                    assert_same_work(exchange, path, f"GET {path} ({kind} data)")
    await _after_changes(g)
    await _partner_failing(g)
    return (
        f"organizations and summaries of {len(ORG_IDS)} organizations, report pages of {len(REPORT_ORG_IDS) - 1}, "
        "and the 404s match the reference on public and hidden data, with the starter's statements and partner "
        "call in each request; fresh after the data and the partner's answers changed; the partner answering "
        "500 or 429, or never, is still a 500"
    )


CHANGED_ORGS = (1, 2, 3)
CHANGES = (
    "organization 1 renamed and its member count changed, a project with 3 tasks added to organization 3, "
    "a task of organization 2 moved to another status, and the analytics partner answering differently"
)


async def _after_changes(g: Grading) -> None:
    """Answers after the rows and the partner's answers changed: nothing kept from earlier requests."""
    paths = [
        path
        for org_id in CHANGED_ORGS
        for path in (
            f"/organizations/{org_id}",
            f"/organizations/{org_id}/summary",
            f"/organizations/{org_id}/report.html",
        )
    ]
    partner_seed = g.hidden_seed + 1
    async with g.serve(SCALE) as client:
        world = client.world
        assert world is not None and world.database is not None
        for path in paths:  # what a cache or a snapshot would keep
            await client.get(path)
        changed = await _change_the_data(world.database.engine, dataset(SCALE, PUBLIC_SEED))
        world.services.seed = partner_seed
        for path in paths:
            what = f"GET {path} after the data changed ({CHANGES})"
            exchange = await client.get(path)
            if path.endswith(".html"):
                assert_same_page(exchange, changed, int(path.split("/")[2]), what, partner_seed)
            else:
                status, body = reference(changed, path, partner_seed)
                assert_same_response(exchange, status, body, what)
            assert_same_work(exchange, path, what)


async def _change_the_data(engine: Any, data: Dataset) -> Dataset:
    """Write ``CHANGES`` (the rows) into the world's database; return the dataset as it now is."""
    changed = copy.deepcopy(data)
    org = changed.organizations[1]
    org["name"], org["member_count"] = "Renamed & Co", org["member_count"] + 7
    project = {"id": max(p["id"] for p in changed.projects) + 1, "org_id": 3, "name": "Added after the first request"}
    template = changed.tasks[0]
    next_id = max(t["id"] for t in changed.tasks) + 1
    added = [
        {**template, "id": next_id + i, "project_id": project["id"], "status": status, "title": f"New {i + 1}"}
        for i, status in enumerate(("todo", "blocked", "done"))
    ]
    changed.projects.append(project)
    changed.tasks.extend(added)
    moved = changed.tasks_of(changed.projects_of(2)[0]["id"])[0]
    moved["status"] = "blocked" if moved["status"] != "blocked" else "todo"
    async with engine.begin() as conn:
        await conn.execute(
            update(Organization).where(Organization.id == 1).values(name=org["name"], member_count=org["member_count"])
        )
        await conn.execute(insert(Project), [project])
        await conn.execute(insert(Task), added)
        await conn.execute(update(Task).where(Task.id == moved["id"]).values(status=moved["status"]))
    return changed


# (route, how the analytics partner fails: an HTTP status, or None: it never answers).
PARTNER_FAULTS: tuple[tuple[str, int | None], ...] = (
    ("/organizations/1/summary", 500),
    ("/organizations/1/report.html", 429),
    ("/organizations/1/summary", None),
)


async def _partner_failing(g: Grading) -> None:
    """With the analytics partner failing, the routes that call it fail as the starter's do."""
    async with g.serve(SCALE) as client:
        analytics = client.world.services.analytics if client.world is not None else None
        assert analytics is not None
        for path, fault in PARTNER_FAULTS:
            if fault is None:
                analytics.hang()
                how = "never answering"
            else:
                analytics.fail(status=fault)
                how = f"answering HTTP {fault}"
            what = f"GET {path} with the analytics partner {how}"
            try:
                exchange = await client.get(path)
            except RequestHung as hung:
                raise CheckFailed(
                    f"{hung} with the analytics partner never answering; expected HTTP 500 like the starter, "
                    "whose client gives up after 5 s"
                ) from None
            status = exchange.response.status_code
            if status != 500:
                raise CheckFailed(
                    f"{what} returned HTTP {status}, expected HTTP 500 as the starter gives: this exercise changes "
                    "no behaviour, so a partner's failure (an error status, 4xx as well as 5xx, or no answer) "
                    "still fails the request (keeping the page up without the partner is exercise 03); its calls "
                    f"ran {exchange.metrics.call_timeline(outcomes=True) or 'none'}"
                )
            analytics.healthy()
        path = "/organizations/1"
        analytics.fail()
        status, body = reference(dataset(SCALE, PUBLIC_SEED), path)
        assert_same_response(await client.get(path), status, body, f"GET {path} with the analytics partner failing")


# --- reading the header -------------------------------------------------------

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)


def _split(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == separator:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        raise ValueError("a quoted string is never closed")
    parts.append("".join(current))
    return parts


def parse_server_timing(value: str) -> dict[str, dict[str, str]]:
    """``db;dur=12.5;desc="Database", total;dur=30`` -> {"db": {"dur": "12.5", "desc": "Database"}, ...}.

    The W3C Server Timing syntax: a comma-separated list of metrics, each a
    token name followed by ``;param=value`` pairs (value a token or a quoted
    string). Raises ValueError saying what is wrong.
    """
    metrics: dict[str, dict[str, str]] = {}
    for entry in _split(value, ","):
        if not entry.strip():
            continue  # empty list elements are allowed
        name, *params = (item.strip() for item in _split(entry, ";"))
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"the metric name {name!r} is not a token (letters, digits, - _ . and no spaces)")
        if name in metrics:
            raise ValueError(f"the metric {name!r} appears twice")
        parsed: dict[str, str] = {}
        for param in params:
            key, equals, raw = (part.strip() for part in param.partition("="))
            if not equals or not _TOKEN.fullmatch(key):
                raise ValueError(f"{name}: {param!r} is not a parameter of the form name=value")
            quoted = _QUOTED.fullmatch(raw)
            if quoted:
                raw = re.sub(r"\\(.)", r"\1", quoted.group(1))
            elif not _TOKEN.fullmatch(raw):
                raise ValueError(f"{name}: the value of {key} ({raw!r}) is neither a token nor a quoted string")
            parsed.setdefault(key.lower(), raw)  # the first occurrence counts
        metrics[name] = parsed
    return metrics


def durations(exchange: Exchange, what: str) -> dict[str, float]:
    """{"db": ms, "ext": ms, "total": ms} from the response's Server-Timing header, or CheckFailed."""
    values = exchange.response.headers.get_list("server-timing")
    if not values:
        status = exchange.response.status_code
        errors = "; every response of the three routes carries it, a 404 as much as a 200" if status != 200 else ""
        raise CheckFailed(
            f"no Server-Timing header on {what} (HTTP {status}) among the response headers the client received{errors}"
        )
    header = ", ".join(values)
    try:
        parsed = parse_server_timing(header)
    except ValueError as problem:
        raise CheckFailed(
            f"the Server-Timing header on {what} does not parse: {problem} (header: {header!r}); "
            'expected e.g. db;dur=15.00, ext;dur=280.00, total;dur=295.00 (desc="..." is optional)'
        ) from None
    required = ["db", "total"] + (["ext"] if exchange.metrics.calls else [])
    found: dict[str, float] = {"ext": 0.0}  # no partner call: ext may be left out
    for name in required:
        if name not in parsed:
            raise CheckFailed(
                f"the Server-Timing header on {what} has no {name!r} metric (header: {header!r}); "
                "expected db, ext and total"
            )
    for name in METRICS:
        if name not in parsed:
            continue
        raw = parsed[name].get("dur")
        try:
            duration = float(raw) if raw is not None else math.nan
        except ValueError:
            duration = math.nan
        if not math.isfinite(duration) or duration < 0:
            raise CheckFailed(
                f"the Server-Timing header on {what}: {name} has no usable dur= (got {raw!r}, header: {header!r}); "
                f"expected {name};dur=<milliseconds>"
            )
        found[name] = duration
    return found


def truth(metrics: RequestMetrics) -> dict[str, float]:
    """What the harness measured: DB time, external time, and the server-side time before the first body byte."""
    return {"db": metrics.db_ms, "ext": metrics.external_ms, "total": metrics.server_ms}


# Each request of SEQUENCE gets its analytics call this much slower than the base.
ANALYTICS_STEP_MS = 15.0


def latencies(g: Grading) -> tuple[float, float]:
    """(base ms per SQL statement, base ms for the analytics call) of the worlds the header is checked in.

    Not the usual 5 ms and 280 ms, and derived from the hidden seed; each
    statement then costs the base times a varying factor (``VariedLatency``),
    and each request of the sequence waits longer for analytics than the one
    before: a header with constants (or an estimate from the query count)
    cannot match, only measuring can.
    """
    return 5.0 + 0.75 * (1 + g.hidden_seed % 5), 280.0 + 10.0 * (1 + g.hidden_seed % 7)


def _charges(g: Grading) -> str:
    query_ms, analytics_ms = latencies(g)
    cheapest, dearest = (round(query_ms * f, 3) for f in (min(VARIED_FACTORS), max(VARIED_FACTORS)))
    slowest = analytics_ms + ANALYTICS_STEP_MS * (PARTNER_REQUESTS - 1)
    return (
        f"this world charges {cheapest:g} to {dearest:g} ms per statement and {analytics_ms:g} to {slowest:g} ms "
        "per analytics call, not the usual 5 and 280 ms (statements vary from one to the next, analytics calls from "
        "request to request)"
    )


@asynccontextmanager
async def serve_varied(g: Grading) -> AsyncIterator[Client]:
    """Like ``g.serve(SCALE)``, in a world with the latencies of ``latencies(g)``, varied."""
    query_ms, analytics_ms = latencies(g)

    def slower_analytics(world: World) -> None:
        world.services.analytics.slow(analytics_ms)  # answers normally, after analytics_ms

    latency = VariedLatency.rotated(query_ms, g.hidden_seed)
    async with g.serve(SCALE, PUBLIC_SEED, latency=latency, configure=slower_analytics) as client:
        yield client


async def _sequence(g: Grading) -> list[tuple[str, Exchange]]:
    async def run() -> list[tuple[str, Exchange]]:
        _, analytics_ms = latencies(g)
        exchanges = []
        async with serve_varied(g) as client:
            assert client.world is not None
            for index, path in enumerate(SEQUENCE):
                client.world.services.analytics.slow(analytics_ms + ANALYTICS_STEP_MS * index)
                exchanges.append((path, await client.get(path)))
        return exchanges

    return await g.once("sequence", run)


# --- the checks ---------------------------------------------------------------


async def header_present_and_parses(g: Grading) -> str:
    for path, exchange in await _sequence(g):
        durations(exchange, f"GET {path}")
    return (
        f"Server-Timing with db, ext and total parses on {len(SEQUENCE)} requests to the three routes, "
        f"{len(SEQUENCE) - PARTNER_REQUESTS} of them 404s"
    )


def _tolerance(g: Grading, name: str) -> float:
    return float(g.budget(f"{name}_tolerance_ms"))


def _what(name: str, ms: float) -> str:
    if name == "db":
        return f"its queries took {ms:g} ms"
    if name == "ext":
        return f"its partner calls took {ms:g} ms"
    return f"it ran {ms:g} ms on the server before its first byte went out"


def _where(g: Grading, name: str, metrics: RequestMetrics, reported: dict[str, float]) -> str:
    """What the request did for ``name``, measured: the lines its statements ran from, its partner calls."""
    charges = _charges(g)
    if name == "db":
        if not metrics.queries:
            return f"it ran no statement; {charges}"
        sites = ", ".join(dict.fromkeys(q.call_site for q in metrics.queries))
        return f"its {len(metrics.queries)} statements ran from {sites}; {charges}: time each statement"
    if name == "ext":
        if not metrics.calls:
            return f"it made no partner call; {charges}"
        return f"its partner calls ran {metrics.call_timeline()}; {charges}: time each call"
    neither = round(metrics.server_ms - metrics.db_ms - metrics.external_ms, 3)
    split = f"{metrics.db_ms:g} ms of it in the database and {metrics.external_ms:g} ms in partner calls"
    if abs(neither) > _tolerance(g, "total"):
        split += (
            f", and {neither:g} ms in neither (the app's own work: routing, rendering the page, serializing; "
            "CPU time that belongs to no metric but total)"
        )
    summed = reported["db"] + reported["ext"]
    if abs(reported["total"] - summed) <= _tolerance(g, "total"):
        return (
            f"{split}. Your total is your db + ext ({summed:g} ms): a sum leaves out whatever else the request "
            "did. Measure total as a clock reading in the middleware, from before the app runs to when the "
            "header is made"
        )
    return (
        f"{split}. Measure total as one clock reading in the middleware, from before the app runs to when the "
        "header is made, on a clock that follows the request's time (time.time() and datetime.now() read the wall "
        "clock, which the grading world does not move; kata hint 06)"
    )


def _never_saw(facts: str) -> str:
    return f"{facts}: the middleware never saw the time recorded for this request"


async def values_match_measurement(g: Grading) -> str:
    earlier = {name: 0.0 for name in METRICS}
    for path, exchange in await _sequence(g):
        what = f"GET {path}"
        reported, measured = durations(exchange, what), truth(exchange.metrics)
        for name in METRICS:
            tolerance = _tolerance(g, name)
            got, want = reported[name], measured[name]
            if abs(got - want) <= tolerance:
                continue
            facts = f"{what} reported {name};dur={got:g} but {_what(name, want)} (tolerance {tolerance:g} ms)"
            if name != "total" and earlier[name] > 0 and abs(got - (want + earlier[name])) <= tolerance:
                raise CheckFailed(
                    f"{facts}: {got:g} ms is this request plus the {earlier[name]:g} ms of the requests before "
                    "it: the numbers pile up across requests in one dict shared by every request (a default= "
                    "value or a module-level dict, made once)"
                )
            if name != "total" and got == 0:
                raise CheckFailed(_never_saw(facts))
            raise CheckFailed(f"{facts}: {_where(g, name, exchange.metrics, reported)}")
        for name in METRICS:
            earlier[name] += measured[name]
    query_ms, analytics_ms = latencies(g)
    return (
        f"db, ext and total match the harness's measurement on {len(SEQUENCE)} consecutive requests "
        f"at about {query_ms:g} ms per statement (varied) and {analytics_ms:g} ms or more per analytics call "
        f"(db/ext within {_tolerance(g, 'db'):g}/{_tolerance(g, 'ext'):g} ms, total within "
        f"{_tolerance(g, 'total'):g} ms)"
    )


async def _right_alone(g: Grading, path: str, name: str) -> bool:
    """Whether ``path`` reported the right ``name`` when it ran alone, in the sequence."""
    for sent, exchange in await _sequence(g):
        if sent == path:
            try:
                reported = durations(exchange, f"GET {path}")
            except CheckFailed:
                return False
            return abs(reported[name] - truth(exchange.metrics)[name]) <= _tolerance(g, name)
    return False


def _mixed(
    g: Grading, pair: tuple[str, str], reported: list[dict[str, float]], measured: list[dict[str, float]]
) -> None:
    """CheckFailed when the two requests' db or ext add up to what both took, but not each to its own."""
    for name in ("db", "ext"):
        tolerance = _tolerance(g, name)
        got, want = [r[name] for r in reported], [m[name] for m in measured]
        if all(abs(a - b) <= tolerance for a, b in zip(got, want, strict=True)):
            continue
        if abs(sum(got) - sum(want)) <= 2 * tolerance:
            same = pair[0] == pair[1]
            raise CheckFailed(
                f"GET {pair[0]} and GET {pair[1]}{' (the same path)' if same else ''} ran at the same time; they "
                f"reported {name};dur={got[0]:g} and {got[1]:g}, together what both took ({want[0]:g} + "
                f"{want[1]:g} ms), but not each its own (tolerance {tolerance:g} ms): their numbers mixed, through "
                "something the two requests shared that belongs to one request: the timings holder (one kept per "
                "path or per route, a module-level dict or variable, a default= value, one made at startup) or "
                "the start times of statements or calls (one slot or one stack for every request)"
                + ("; two requests to the same path at the same time are still two requests" if same else "")
            )


async def concurrent_requests_separate(g: Grading) -> str:
    async with serve_varied(g) as client:
        rounds = []
        for pair in (CONCURRENT, SAME_PATH):
            rounds.append((pair, await asyncio.gather(*(client.get(path) for path in pair))))
    for pair, exchanges in rounds:
        measured = [truth(exchange.metrics) for exchange in exchanges]
        reported = [durations(exchange, f"GET {path}") for path, exchange in zip(pair, exchanges, strict=True)]
        _mixed(g, pair, reported, measured)
        for index, (path, exchange) in enumerate(zip(pair, exchanges, strict=True)):
            other_path, other = pair[1 - index], measured[1 - index]
            own = measured[index]
            for name in METRICS:
                tolerance = _tolerance(g, name)
                got, want = reported[index][name], own[name]
                if abs(got - want) <= tolerance:
                    continue
                facts = (
                    f"GET {path} and GET {other_path} ran at the same time; GET {path} reported {name};dur={got:g} "
                    f"but {_what(name, want)}, and the other request's {name} was {other[name]:g} ms "
                    f"(tolerance {tolerance:g} ms)"
                )
                if name == "total":
                    raise CheckFailed(f"{facts}: {_where(g, name, exchange.metrics, reported[index])}")
                if got == 0:
                    raise CheckFailed(_never_saw(facts))
                if got > want or await _right_alone(g, path, name):
                    raise CheckFailed(
                        f"{facts}: the two requests shared one timings holder, so their numbers mixed (a default= "
                        "value, a module-level dict or variable, or one holder made at startup is the same object "
                        "for every request), or they shared the start times of statements or calls (one slot or "
                        "one stack for every request)"
                    )
                raise CheckFailed(f"{facts}: {_where(g, name, exchange.metrics, reported[index])}")
    summary = "; ".join(
        f"GET {path}: db {m['db']:g}, ext {m['ext']:g}, total {m['total']:g} ms"
        for pair, exchanges in rounds
        for path, m in zip(pair, (truth(exchange.metrics) for exchange in exchanges), strict=True)
    )
    return (
        f"two concurrent requests each reported their own numbers, then two to the same path at the same time "
        f"({summary})"
    )


CHECKS = [
    Check(
        "correct",
        "every route answers as the reference, 404 included, on public and hidden data",
        correct,
        guard=True,
    ),
    Check(
        "header_present_and_parses",
        "a Server-Timing header with db, ext and total on every route, in the standard syntax",
        header_present_and_parses,
    ),
    Check(
        "values_match_measurement",
        "db, ext and total equal the harness's own measurement of the request",
        values_match_measurement,
    ),
    Check(
        "concurrent_requests_separate",
        "two concurrent requests each report their own numbers",
        concurrent_requests_separate,
    ),
]
