"""11 event-loop-blocking: a blocking partner call must not hold the event loop that serves everyone.

What counts as a fix (the rule these checks grade; README, "What counts as a fix"):

- May change: where the blocking call runs and with what: a ``def`` endpoint (FastAPI runs it in its
  thread pool), ``run_in_threadpool`` / ``anyio.to_thread.run_sync`` / ``asyncio.to_thread`` /
  ``loop.run_in_executor`` with a pool big enough for the load, or the SDK rewritten on
  ``httpx.AsyncClient`` (one client per call, per request or for the app, with the starter's 5 s timeout
  or any other above the call's 190 ms); a shared synchronous client used from several threads, as long
  as every answer is right; the structure, helpers and names.
- May not change: every response (status and body) of both endpoints, 404s included, on public and
  hidden data, and the billing panel's HTTP 500 when the billing API answers an error or does not
  answer within the starter's 5 s (``correct``); the call itself: each billing panel that finds its
  organization calls the billing API exactly once, during the request, and shows that call's answer,
  received before the response; never an answer kept from an earlier request or shared with a
  concurrent one, a call moved to a background task or a fire-and-forget task, a call dropped, cut
  short or started before the organization is known (``every_call_made``: rounds with the billing
  API's answers changed between them, requests sent together, and every billing panel of the load run,
  whose answers are judged as they arrive).

Then, measured under the exercise's load (its locustfile, ``[load]``: 50 users, 3 project pages to 1
billing panel, on the virtual clock): the one-query project page keeps its p95 within budget with no
failure (``fast_p95``: nothing holds the loop it runs on), and the billing panel keeps its own
(``billing_p95``: the billing calls of concurrent users overlap instead of running one at a time). A
failing p95 check adds what a probe saw: a project page sent during a billing call, or two billing
panels sent together.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

from harness.engine.checks import Check, CheckFailed, Grading, compare_with_reference, first_difference
from harness.world.load import LoadRun, Sample
from harness.world.loadstats import EntryStats, entries, failures_by_cause
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.services import billing_subscription
from harness.world.world import Client, Exchange, RequestHung

SCALE = "10x8"
ORG_IDS = (1, 2, 3, 4)
MISSING = 999
PROJECT_PATHS = ["/projects/1", "/projects/12", "/projects/17", f"/projects/{MISSING}"]
BILLING_PATH = "/organizations/1/billing"
FAST = ("GET", "/projects/{id}")
BILLING = ("GET", "/organizations/{id}/billing")
# Modeled seconds the grader waits after a request, so that whatever it left running has ended.
SETTLE_S = 10.0
# When the probe sends a project page, in modeled seconds after a billing panel.
PROBE_AFTER_S = 0.05


def billing_path(org_id: int) -> str:
    return f"/organizations/{org_id}/billing"


def reference(data: Dataset, path: str, partner_seed: int | None = None) -> tuple[int, Any]:
    """What the starter answers: a project (1 query), or an organization's billing panel (the billing API's
    answer, with the partner answering from ``partner_seed``, by default the data's own seed)."""
    parts = path.strip("/").split("/")
    if parts[0] == "projects":
        project = next((p for p in data.projects if p["id"] == int(parts[1])), None)
        if project is None:
            return 404, None
        return 200, {"id": project["id"], "name": project["name"], "org_id": project["org_id"]}
    org_id = int(parts[1])
    org = data.organizations.get(org_id)
    if org is None:
        return 404, None
    seed = data.seed if partner_seed is None else partner_seed
    return 200, {"organization": org["name"], "subscription": billing_subscription(seed, org_id)}


# What the profile request must answer at every scale it is measured at (``Grading.profile``).
PROFILE_REFERENCE = reference


@functools.cache
def _public_data() -> Dataset:
    return dataset(SCALE, PUBLIC_SEED)


def answer_under_load(method: str, path: str, status: int, body: bytes) -> str | None:
    """Each response of the load run, judged as it arrives (the run's data: public seed, scale 10x8)."""
    expected_status, expected = reference(_public_data(), path)
    if status != expected_status:
        return f"HTTP {status} for {path}, expected {expected_status}"
    if expected is None:
        return None
    try:
        difference = first_difference(expected, json.loads(body))
    except ValueError:
        return f"{path} answered no JSON"
    return f"{path} differs at {difference}" if difference else None


async def _load(g: Grading) -> LoadRun:
    """The exercise's load run (memoized: every check reads the same run)."""
    return await g.load(check=answer_under_load)


def _entry(run: LoadRun, key: tuple[str, str]) -> EntryStats:
    for entry in entries(run):
        if (entry.method, entry.name) == key:
            return entry
    raise CheckFailed(f"the load run sent no {key[0]} {key[1]} (the exercise's locustfile should)")


def _samples(run: LoadRun, key: tuple[str, str]) -> list[Sample]:
    return [s for s in run.samples if (s.method, s.name) == key]


def _run_line(run: LoadRun) -> str:
    options = run.options
    return f"{options.users} users over {options.duration:g} modeled s"


def _stats(entry: EntryStats) -> str:
    return f"p50 {entry.percentiles[0.5]:.0f} ms, max {entry.max_ms:.0f} ms, {entry.requests} requests"


def _failures(samples: list[Sample]) -> str:
    causes = list(failures_by_cause(samples).items())
    shown = ", ".join(f"{n} x {cause if len(cause) <= 120 else cause[:117] + '...'}" for cause, n in causes[:2])
    return shown + (f" and {len(causes) - 2} other causes" if len(causes) > 2 else "")


# --- correct ------------------------------------------------------------------------------------


async def correct(g: Grading) -> str:
    paths = PROJECT_PATHS + [billing_path(org_id) for org_id in (*ORG_IDS, MISSING)]
    await compare_with_reference(g, SCALE, paths, reference)
    limit = g.budget("partner_timeout_s")
    async with g.serve(SCALE) as client:
        world = client.world
        assert world is not None
        billing = world.services["billing"]
        await client.get(BILLING_PATH)  # a healthy panel first: an answer the app could keep and serve again
        for fault in ("error", "hang"):
            what = f"GET {BILLING_PATH} with the billing API " + (
                "answering HTTP 500" if fault == "error" else "never answering"
            )
            if fault == "error":
                billing.fail(status=500)
            else:
                billing.hang()
            try:
                exchange = await client.get(BILLING_PATH)
            except RequestHung as hung:
                raise CheckFailed(
                    f"{hung}: {what}; expected HTTP 500 like the starter, whose client gives up after {limit:g} s"
                ) from None
            billing.healthy()
            status = exchange.response.status_code
            if status != 500:
                raise CheckFailed(
                    f"{what} returned HTTP {status}, expected HTTP 500 as the starter gives (its "
                    "raise_for_status and its 5 s timeout): keep the billing API's failures failures"
                )
            waited = max((c.end - c.start for c in exchange.metrics.calls), default=0.0)
            if waited > limit + 1e-6:
                raise CheckFailed(
                    f"{what} waited {waited:g} s for the billing API (budget {limit:g} s, the starter's timeout)"
                )
            await world.advance(SETTLE_S)
    return (
        f"{len(PROJECT_PATHS)} project pages and {len(ORG_IDS) + 1} billing panels (404s included) match the "
        "reference on public and hidden data; a billing API error or silence is still an HTTP 500"
    )


# --- every_call_made ------------------------------------------------------------------------------


def _answered(outcome: str) -> bool:
    return outcome.isdigit()


def _own_call(exchange: Exchange, what: str) -> None:
    """The request waited for a billing call of its own: one is on its record, answered.

    (A call made in a thread the request's context did not reach, ``loop.run_in_executor``, is on the record
    of every request open meanwhile: the exact count is taken per round, from the billing API's own.)"""
    metrics = exchange.metrics
    timeline = metrics.call_timeline(outcomes=True) or "none"
    billing = [call for call in metrics.calls if call.service == "billing"]
    if not billing:
        raise CheckFailed(
            f"{what} made 0 billing calls during the request (calls: {timeline}), expected exactly one: each "
            "billing panel calls the billing API itself and shows that answer (no answer kept from an earlier request, "
            "none shared with another panel)"
        )
    if not any(_answered(call.outcome) for call in billing):
        raise CheckFailed(
            f"{what} was answered while its billing call was {billing[0].outcome} ({timeline}); the panel shows "
            "the answer of its own call, so the call ends before the response (not in a task the response does not "
            "wait for)"
        )


def _calls_per_round(made: int, paths: list[str], when: str) -> None:
    if made != len(paths):
        sent = f"{len(paths)} billing panels sent together" if len(paths) > 1 else f"GET {paths[0]}"
        raise CheckFailed(
            f"{sent} made {made} calls to the billing API {when}, expected exactly {len(paths)}: one per panel, "
            "during its request (no call shared by panels, none repeated, none left for after the response)"
        )


def _fresh(exchange: Exchange, expected: tuple[int, Any], what: str) -> None:
    status, body = expected
    if exchange.response.status_code != status:
        raise CheckFailed(f"{what} returned HTTP {exchange.response.status_code}, expected {status}")
    try:
        difference = first_difference(body, exchange.response.json())
    except ValueError:
        difference = "the body: not JSON"
    if difference:
        raise CheckFailed(
            f"{what} differs from what the billing API answered during that request, at {difference}; its answers "
            "change between requests, so an answer kept from an earlier request (or another request's call) is "
            "stale: expected each panel to show its own call's answer"
        )


async def _rounds(g: Grading) -> int:
    data = dataset(SCALE, PUBLIC_SEED)
    partner_seeds = (PUBLIC_SEED, g.hidden_seed + 1, g.hidden_seed + 2)
    together = [BILLING_PATH, BILLING_PATH, billing_path(2)]
    async with g.serve(SCALE) as client:
        world = client.world
        assert world is not None
        billing = world.services["billing"]
        missing = f"/organizations/{MISSING}/billing"
        unknown = await client.get(missing)
        if unknown.metrics.calls:
            raise CheckFailed(
                f"GET {missing} (an unknown organization) called {unknown.metrics.call_timeline(outcomes=True)}, "
                "expected no call: the starter answers 404 before calling the billing API"
            )
        sent = 0
        for round_, seed in enumerate(partner_seeds):
            world.services.seed = seed
            paths = together if round_ == len(partner_seeds) - 1 else [BILLING_PATH]
            before = billing.calls
            exchanges = await asyncio.gather(*(client.get(path) for path in paths))
            answered = billing.calls - before
            for path, exchange in zip(paths, exchanges, strict=True):
                sent += 1
                what = f"billing panel {sent} (GET {path}"
                what += f", sent with {len(paths) - 1} others at once)" if len(paths) > 1 else ")"
                _own_call(exchange, what)
                _fresh(exchange, reference(data, path, seed), what)
            _calls_per_round(answered, paths, "before their responses")
            await world.advance(SETTLE_S)  # a call left for after the response is made by now
            _calls_per_round(billing.calls - before, paths, f"within {SETTLE_S:g} s")
    return sent


def _calls_under_load(run: LoadRun, call_ms: float) -> None:
    panels = _samples(run, BILLING)
    wrong = [s for s in run.samples if s.failure and s.failure.startswith("wrong answer")]
    if wrong:
        first = wrong[0]
        why = (first.failure or "").removeprefix("wrong answer: ")
        raise CheckFailed(
            f"under load ({_run_line(run)}), {len(wrong)} of {len(run.samples)} responses were wrong, e.g. "
            f"{first.method} {first.path} at {first.time:.2f} s: {why}; "
            "concurrent requests must not see each other's answers (keep each request's answer in that request)"
        )
    short = [s for s in panels if s.status == 200 and s.external_ms < call_ms - 1e-6]
    if short:
        first = short[0]
        raise CheckFailed(
            f"under load ({_run_line(run)}), {len(short)} of {len(panels)} billing panels were answered having "
            f"waited less than one billing call ({call_ms:g} ms) for the billing API, e.g. GET {first.path} at "
            f"{first.time:.2f} s: {first.external_ms:g} ms in a partner call; every panel waits for its own "
            "call's answer: no answer kept from another request, no call left to run after the response"
        )


async def every_call_made(g: Grading) -> str:
    sent = await _rounds(g)
    run = await _load(g)
    _calls_under_load(run, g.budget("billing_call_ms"))
    panels = len(_samples(run, BILLING))
    return (
        f"the billing API called once per panel and its answer shown, in {sent} panels (3 of them sent together, "
        f"the API's answers changed between rounds) and in all {panels} panels of the load run; no call for an "
        "unknown organization"
    )


# --- the probes (what a failing p95 check adds) --------------------------------------------------


async def _after(client: Client, delay: float, path: str) -> Exchange:
    await asyncio.sleep(delay)
    return await client.get(path)


async def _project_during_billing(g: Grading) -> str:
    """A project page sent while a billing panel's call runs: does it wait for the call?"""

    async def probe() -> tuple[float, float, float]:
        async with g.serve(SCALE) as client:
            alone = await client.get("/projects/1")
            _, during = await asyncio.gather(client.get(BILLING_PATH), _after(client, PROBE_AFTER_S, "/projects/1"))
        return alone.metrics.total_ms, during.metrics.total_ms, during.metrics.db_ms

    alone_ms, during_ms, db_ms = await g.once("probe:during", probe)
    if during_ms <= 2 * alone_ms + 10:
        return ""
    return (
        f" A probe: GET /projects/1 alone takes {alone_ms:.0f} ms; sent {PROBE_AFTER_S * 1000:g} ms into GET "
        f"{BILLING_PATH} it took {during_ms:.0f} ms ({db_ms:.0f} ms of it in its query): it waited for the billing "
        "call to end. The call holds the event loop."
    )


async def _two_panels_together(g: Grading) -> str:
    """Two billing panels sent at once: do their calls overlap?"""

    async def probe() -> tuple[list[float], list[tuple[float, float]]]:
        async with g.serve(SCALE) as client:
            both = await asyncio.gather(client.get(BILLING_PATH), client.get(billing_path(2)))
        totals = [e.metrics.total_ms for e in both]
        start = min(e.metrics.start for e in both)
        calls = [(c.start - start, c.end - start) for e in both for c in e.metrics.calls if c.service == "billing"]
        return totals, calls

    totals, calls = await g.once("probe:together", probe)
    if len(calls) != 2 or max(c[0] for c in calls) < min(c[1] for c in calls):
        return ""
    ran = " and ".join(f"{a * 1000:.0f}-{b * 1000:.0f} ms" for a, b in sorted(calls))
    return (
        f" A probe: two billing panels sent at the same moment took {totals[0]:.0f} and {totals[1]:.0f} ms; their "
        f"billing calls ran {ran}, one after the other, never together."
    )


BLOCKING_ADVICE = (
    " An `async def` endpoint runs on the event loop, and a blocking call in it (a synchronous HTTP client, "
    "requests, time.sleep) holds the loop until it returns: every request of every endpoint waits meanwhile. "
    "Look at what the billing panel calls, and how (`kata hint 11`)."
)


# --- fast_p95 -------------------------------------------------------------------------------------


async def fast_p95(g: Grading) -> str:
    budget = g.budget("max_fast_p95_ms")
    run = await _load(g)
    fast = _entry(run, FAST)
    p95 = fast.percentiles[0.95]
    samples = _samples(run, FAST)
    if fast.failures:
        raise CheckFailed(
            f"under load ({_run_line(run)}), {fast.failures} of {fast.requests} GET /projects/{{id}} failed "
            f"({_failures(samples)}), expected none"
        )
    if p95 > budget:
        own = max(s.db_ms + s.transfer_ms for s in samples)
        waiting = sum(s.waiting_ms for s in samples) / len(samples)
        raise CheckFailed(
            f"under load ({_run_line(run)}, 3 project pages to 1 billing panel), GET /projects/{{id}} had p95 "
            f"{p95:.0f} ms (budget {budget:g} ms; {_stats(fast)}). Its own work is one query: {own:.0f} ms at most; "
            f"on average it spent {waiting:.0f} ms in no query, no call and no transfer, waiting for the app to "
            f"run it.{await _project_during_billing(g)}{BLOCKING_ADVICE}"
        )
    return (
        f"under load ({_run_line(run)}), GET /projects/{{id}} p95 {p95:.0f} ms (budget {budget:g} ms; {_stats(fast)})"
    )


# --- billing_p95 ----------------------------------------------------------------------------------


async def billing_p95(g: Grading) -> str:
    budget = g.budget("max_billing_p95_ms")
    run = await _load(g)
    panel = _entry(run, BILLING)
    p95 = panel.percentiles[0.95]
    samples = _samples(run, BILLING)
    if panel.failures:
        raise CheckFailed(
            f"under load ({_run_line(run)}), {panel.failures} of {panel.requests} GET /organizations/{{id}}/billing "
            f"failed ({_failures(samples)}), expected none"
        )
    if p95 > budget:
        call_ms = g.budget("billing_call_ms")
        raise CheckFailed(
            f"under load ({_run_line(run)}), GET /organizations/{{id}}/billing had p95 {p95:.0f} ms (budget "
            f"{budget:g} ms: its billing call, {call_ms:g} ms, its query and slack; {_stats(panel)}); the whole "
            f"run completed {len(run.samples)} requests.{await _two_panels_together(g)} Calls that cannot overlap "
            f"serve at most {1000 / call_ms:.1f} panels a second, and the users ask for more: each panel waits "
            "for the ones before it. Something makes the calls take turns: a blocking call on the event loop, a "
            "single worker thread, or a lock around the client."
        )
    return (
        f"under load ({_run_line(run)}), GET /organizations/{{id}}/billing p95 {p95:.0f} ms (budget {budget:g} ms; "
        f"{_stats(panel)}); {len(run.samples)} requests in all"
    )


CHECKS = [
    Check(
        "correct",
        "both endpoints answer as the starter does (404s, and a 500 when billing fails), on public and hidden data",
        correct,
        guard=True,
    ),
    Check(
        "every_call_made",
        "each billing panel calls the billing API once and shows that answer, also under load",
        every_call_made,
        guard=True,
    ),
    Check("fast_p95", "under load, the one-query project page keeps its p95 within budget", fast_p95),
    Check("billing_p95", "under load, the billing panel's calls overlap: its p95 within budget", billing_p95),
]
