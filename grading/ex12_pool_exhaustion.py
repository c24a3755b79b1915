"""12 pool-exhaustion: no connection held across the partner call, so 50 users get answers, fast.

What counts as a fix (the rule these checks grade; README, "What counts as a fix").

The database accepts at most ``[world] max_connections`` connections at once (8), and the load
(``[load]``: 50 users, 0.5-1.5 s of think time, the exercise's own locustfile) asks for more
requests per second than 8 connections can serve when each is held ~315 ms, across the 300 ms
analytics call. So no pool the database allows is big enough while a connection is held across
the call; only holding it for the queries alone (~15 ms) serves this load.

A correct fix MAY change, freely:
- when the request's connection goes back to the pool, as long as it is before the call: end the
  transaction once the rows are read (commit, close the session; a rollback works too if nothing
  loaded is read after it, since it expires the loaded objects), read them in a transaction block of
  their own or in a session of their own, or start the call as soon as the organization is known and
  read the counts meanwhile;
- the pool's settings, as long as the database's connection limit is never exceeded (a pool of
  at most 8, overflow included), and the queries themselves (fewer, joined), as long as every
  answer still reads the database.

A correct fix MAY NOT change:
- the answers: status and body, 404 for an unknown project, on public and hidden data
  (``correct``), and under load (``no_failures`` compares every answer with the reference);
- the work of each request: each answered request calls analytics once during that request and
  shows that answer (``every_call_made``: the partner's answers change between rounds, and two
  requests for two organizations run at once), and reads the rows then, not from a copy kept by
  the process (``fresh_data``: the grader changes the rows between two requests); under load too:
  each answer read the database, and analytics was called at least once per answer
  (``work_under_load``);
- the outcome under load: no request fails, whatever the cause (a pool timeout, a connection the
  database refused, an error answer, a wrong answer, a partial answer after catching the pool's
  error), and p95 stays within budget (``no_failures``, ``p95``): a bigger pool past the limit
  is refused, a longer pool timeout (or any queue: a semaphore, a retry) makes the p95 a queue's.

The load runs once per grading, on the virtual clock (the exercise's locustfile, never the
student's), and every number comes from the world's own record: statements, partner calls,
connections refused, each response's time from send to last byte.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from typing import Any

from sqlalchemy import text

from harness.engine.checks import (
    Check,
    CheckFailed,
    Grading,
    assert_same_response,
    compare_with_reference,
    first_difference,
)
from harness.words import count
from harness.world import loadstats
from harness.world.load import LoadRun, Sample
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.services import analytics_summary
from harness.world.world import Client, Exchange, World

SCALE = "10x8"
STATUSES = ("todo", "in_progress", "review", "done")
PATH = re.compile(r"/projects/(\d+)/overview")
MISSING_PROJECT = 999
# Projects of organizations 1, 2 and 4, and an unknown one.
PATHS = ["/projects/1/overview", "/projects/11/overview", "/projects/16/overview", "/projects/17/overview"]
# Two projects of two organizations, asked for at the same time.
TOGETHER = ("/projects/1/overview", "/projects/11/overview")
# Where the starter holds its connection, and makes the call while it does (README, "The endpoint").
STARTER_CALL_LINE = "app.py:42"


def overview(project: dict, org: dict, statuses: list[str], usage: dict) -> dict[str, Any]:
    tasks = dict.fromkeys(STATUSES, 0)
    for status in statuses:
        tasks[status] += 1
    return {
        "project": {"id": project["id"], "name": project["name"]},
        "organization": {"id": org["id"], "name": org["name"]},
        "tasks": tasks,
        "open_tasks": tasks["todo"] + tasks["in_progress"] + tasks["review"],
        "usage": usage,
    }


def reference(data: Dataset, path: str, partner_seed: int | None = None) -> tuple[int, Any]:
    """The overview of ``/projects/{id}/overview`` from the seeded rows, analytics answering from
    ``partner_seed`` (by default the data's own seed, as the world's partners do)."""
    match = PATH.fullmatch(path)
    assert match, path
    project = next((p for p in data.projects if p["id"] == int(match[1])), None)
    if project is None:
        return 404, None
    org = data.organizations[project["org_id"]]
    statuses = [t["status"] for t in data.tasks_of(project["id"])]
    seed = data.seed if partner_seed is None else partner_seed
    return 200, overview(project, org, statuses, analytics_summary(seed, org["id"]))


PROFILE_REFERENCE = reference


def _world(client: Client) -> World:
    assert client.world is not None, "exercise 12's checks reach into the world"
    return client.world


async def correct(g: Grading) -> str:
    paths = [*PATHS, f"/projects/{MISSING_PROJECT}/overview"]
    await compare_with_reference(g, SCALE, paths, reference)
    # A failing partner fails the page, as in the starter: after a healthy request (an answer the app could keep).
    async with g.serve(SCALE) as client:
        await client.get(PATHS[0])
        _world(client).services["analytics"].fail()
        failed = await client.get(PATHS[0])
    if failed.response.status_code != 500:
        raise CheckFailed(
            f"with analytics answering HTTP 500, GET {PATHS[0]} returned HTTP {failed.response.status_code}; "
            "expected HTTP 500, as the starter answers (a page without its figures is not the same page)"
        )
    return (
        f"{len(paths)} overviews (one of them a 404) equal the reference on public and hidden data; a failing "
        "partner still fails the page"
    )


def _one_call(exchange: Exchange, what: str, org_id: int) -> None:
    """The request called analytics for its organization exactly once, answered before its response."""
    metrics = exchange.metrics
    calls = [c for c in metrics.calls if c.service == "analytics"]
    url = f"/api/org/{org_id}/summary"
    if len(calls) != 1 or not calls[0].url.endswith(url):
        shown = metrics.call_timeline(outcomes=True) or "no call"
        raise CheckFailed(
            f"{what} made {count(len(calls), 'analytics call')} ({shown}), expected exactly one, to "
            f"analytics {url}: each answer shows the partner's figures as they are during that request"
        )
    if calls[0].outcome != "200":
        raise CheckFailed(
            f"{what}: its analytics call ended {calls[0].outcome} ({metrics.call_timeline(outcomes=True)}), "
            "expected its answer (200) before the response"
        )


async def every_call_made(g: Grading) -> str:
    data = dataset(SCALE, PUBLIC_SEED)
    # The partner answers differently in each round: an answer kept from an earlier request is stale.
    partner_seeds = (PUBLIC_SEED, g.hidden_seed + 1, g.hidden_seed + 2)
    sent = 0
    async with g.serve(SCALE) as client:
        world = _world(client)
        for round_, seed in enumerate(partner_seeds):
            world.services.seed = seed
            exchanges = await asyncio.gather(*(client.get(path) for path in TOGETHER))
            for path, exchange in zip(TOGETHER, exchanges, strict=True):
                sent += 1
                what = f"request {sent} to GET {path} (round {round_ + 1}, sent with another at once)"
                status, expected = reference(data, path, seed)
                org_id = expected["organization"]["id"]
                if exchange.response.status_code == 200:
                    _one_call(exchange, what, org_id)
                try:
                    assert_same_response(exchange, status, expected, what)
                except CheckFailed as wrong:
                    raise CheckFailed(
                        f"{wrong}; the analytics figures change between rounds, so one kept from an earlier "
                        "request (or taken from another request's call) is stale: expected each answer to show "
                        "the call made during that request"
                    ) from None
    return (
        f"each of {sent} requests ({len(partner_seeds)} rounds of {len(TOGETHER)} at once, 2 organizations) "
        "called analytics once and showed its answer"
    )


# The grader's own writes between two requests (its own connection, committed): the next answer shows them.
CHANGES = [
    ("UPDATE projects SET name = :name WHERE id = :id", {"name": "Renamed by the grader", "id": 1}),
    ("UPDATE organizations SET name = :name WHERE id = :id", {"name": "Grader & Sons", "id": 1}),
]


async def _change_rows(world: World, data: Dataset) -> tuple[int, Any]:
    """Rename project 1 and its organization, and move one of its tasks to another status; the new reference."""
    database = world.database
    assert database is not None
    project = dict(next(p for p in data.projects if p["id"] == 1))
    org = dict(data.organizations[project["org_id"]])
    tasks = [dict(t) for t in data.tasks_of(1)]
    moved = tasks[0]
    moved["status"] = next(s for s in STATUSES if s != moved["status"])
    async with database.sessionmaker() as session:
        for sql, params in CHANGES:
            await session.execute(text(sql), params)
        await session.execute(
            text("UPDATE tasks SET status = :status WHERE id = :id"), {"status": moved["status"], "id": moved["id"]}
        )
        await session.commit()
    project["name"], org["name"] = CHANGES[0][1]["name"], CHANGES[1][1]["name"]
    usage = analytics_summary(data.seed, org["id"])
    return 200, overview(project, org, [t["status"] for t in tasks], usage)


async def fresh_data(g: Grading) -> str:
    data = dataset(SCALE, PUBLIC_SEED)
    path = PATHS[0]
    async with g.serve(SCALE) as client:
        first = await client.get(path)
        status, expected = reference(data, path)
        assert_same_response(first, status, expected, f"GET {path}")
        status, expected = await _change_rows(_world(client), data)
        again = await client.get(path)
    what = (
        f"GET {path} after the grader renamed the project and its organization and moved one of its tasks to "
        "another status (committed)"
    )
    if not again.metrics.queries:
        raise CheckFailed(
            f"{what} issued no query (the first one issued {count(len(first.metrics.queries), 'query', 'queries')}), "
            "expected the rows read during the request: a copy kept by the process is stale after any write"
        )
    try:
        assert_same_response(again, status, expected, what)
    except CheckFailed as wrong:
        raise CheckFailed(f"{wrong}: the answer must show the rows as they are when the request runs") from None
    return (
        f"after the rows changed, the next request read them ({count(len(again.metrics.queries), 'query', 'queries')}) "
        "and showed the change"
    )


# --- under load ---------------------------------------------------------------------------------------


def _load_check(method: str, path: str, status: int, body: bytes) -> str | None:
    """What is wrong with one answer under load (public data, analytics answering from the public seed)."""
    if not PATH.fullmatch(path):
        return None
    expected_status, expected = reference(dataset(SCALE, PUBLIC_SEED), path)
    if status != expected_status:
        return f"HTTP {status}, expected {expected_status}"
    try:
        got = json.loads(body)
    except ValueError:
        return "not JSON"
    difference = first_difference(expected, got)
    return f"differs from the reference at {difference}" if difference else None


async def _load(g: Grading) -> tuple[LoadRun, int]:
    """The exercise's load against the submission (once per grading), and the analytics calls made during it."""

    async def run() -> tuple[LoadRun, int]:
        worlds: list[World] = []
        result = await g.load(check=_load_check, configure=worlds.append)
        return result, worlds[0].services["analytics"].calls

    return await g.once(("ex12", "load"), run)


def _scene(run: LoadRun) -> str:
    options = run.options
    return f"{options.users} users for {options.duration:g} modeled s ({len(run.samples)} requests)"


def _first_detail(samples: list[Sample], cause: str) -> str:
    for sample in samples:
        if sample.failure == cause and sample.detail:
            detail = re.sub(r" \(Background on this error at: [^)]*\)", "", sample.detail)
            detail = detail if len(detail) <= 200 else detail[:197] + "..."
            return f" ({detail})"
    return ""


def _why(cause: str, limit: int | None) -> str:
    if cause == "pool timeout":
        return (
            "every connection of the app's pool was in use and the request gave up waiting for one: each "
            "request holds its connection from its first query until it ends, across the 300 ms analytics "
            f"call ({STARTER_CALL_LINE} in the starter)"
        )
    if cause == "database refused a connection":
        return (
            f"the app opened more connections than the database accepts ({limit} at once, [world] "
            "max_connections): a bigger pool only moves the queue into the database"
        )
    if cause.startswith("wrong answer"):
        return "an answer differed from the reference: under load the answers stay what one request alone gets"
    if cause == "no response (client timeout)":
        return "a user waited 60 s for an answer that never came"
    return "the app answered an error"


async def no_failures(g: Grading) -> str:
    run, _ = await _load(g)
    budget = g.budget("max_failures")
    failed = [s for s in run.samples if s.failure]
    if len(failed) > budget:
        limit = g.exercise.spec.world.max_connections
        causes = loadstats.failures_by_cause(run.samples)
        listed = "; ".join(
            f"{cause} {n}{_first_detail(failed, cause)}: {_why(cause, limit)}" for cause, n in causes.items()
        )
        raise CheckFailed(
            f"{len(failed)} of {len(run.samples)} requests failed under {_scene(run)} (budget {budget}): {listed}"
        )
    total = loadstats.total(run)
    return f"0 of {total.requests} requests failed under {_scene(run)} (budget {budget}), every answer correct"


async def p95(g: Grading) -> str:
    run, _ = await _load(g)
    budget = g.budget("max_p95_ms")
    total = loadstats.total(run)
    measured = total.percentiles[0.95]
    shown = f"p50 {total.median_ms:g} ms, p95 {measured:g} ms, max {total.max_ms:g} ms"
    if measured > budget:
        alone = await g.profile()
        waited = total.median_ms - alone.total_ms
        raise CheckFailed(
            f"p95 {measured:g} ms under {_scene(run)} (budget {budget:g} ms; {shown}); one request alone takes "
            f"{alone.total_ms:g} ms (kata profile 12: {alone.call_timeline()}), so a typical request waited "
            f"{max(waited, 0):.0f} ms for something other users held: a pooled connection (pool_timeout), or a "
            "queue of the app's own; with 8 connections at most, each held across the analytics call "
            f"({STARTER_CALL_LINE} in the starter), the app serves fewer requests per second than the users send"
        )
    return f"{shown} under {_scene(run)} (budget p95 {budget:g} ms)"


async def work_under_load(g: Grading) -> str:
    run, calls = await _load(g)
    answered = [s for s in run.samples if s.failure is None and s.status == 200]
    # The page is a project, its organization and its task counts: at least two rows, read during the request.
    without = [s for s in answered if s.queries == 0 or s.rows_examined < 2]
    if without:
        raise CheckFailed(
            f"{len(without)} of {len(answered)} answers under {_scene(run)} read fewer than 2 rows (e.g. GET "
            f"{without[0].path} at {without[0].time:g} s), expected each to read the rows during its request: "
            "an answer kept by the process is stale after any write"
        )
    uncalled = [s for s in answered if s.calls < 1]
    if uncalled:
        raise CheckFailed(
            f"{len(uncalled)} of {len(answered)} answers under {_scene(run)} were sent without an analytics call of "
            f"their own (e.g. GET {uncalled[0].path} at {uncalled[0].time:g} s): each answer shows the figures of "
            "its own call"
        )
    if calls < len(answered):
        raise CheckFailed(
            f"analytics was called {calls} times under {_scene(run)}, for {len(answered)} answers (expected at "
            "least one call per answer): an answer kept from another request's call is stale"
        )
    per_answer = Counter(s.queries for s in answered)
    queries = ", ".join(
        f"{count(n, 'answer')} with {count(q, 'query', 'queries')}" for q, n in sorted(per_answer.items())
    )
    return f"under load every answer read the database ({queries or 'no answers'}); {calls} analytics calls"


CHECKS = [
    Check("correct", "overviews equal the reference (404 included) on public and hidden data", correct, guard=True),
    Check(
        "every_call_made",
        "each request calls analytics once and shows that answer (the partner's answers change)",
        every_call_made,
        guard=True,
    ),
    Check("fresh_data", "after the rows change, the next request reads and shows them", fresh_data, guard=True),
    Check(
        "work_under_load",
        "under load every answer read the database, and analytics was called once per answer",
        work_under_load,
        guard=True,
    ),
    Check("no_failures", "0 failed requests under the exercise's load (50 users), every answer correct", no_failures),
    Check("p95", "p95 under the exercise's load within budget", p95),
]
