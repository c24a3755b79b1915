"""02 sequential-calls: concurrent calls on one shared connection pool, same answer.

What counts as a fix (the rule the checks below enforce; README, "What counts as a fix").

A correct fix MAY change, freely:
- how the three calls are scheduled: ``asyncio.gather``, a ``TaskGroup``, tasks awaited one by one,
  ``asyncio.wait``, threads with a sync client...; any structure, helpers and names;
- where the one connection pool lives and how the handler reaches it: one client on ``app.state`` behind a
  dependency, in the lifespan's state (``yield {"http": client}`` read as ``request.state.http``), a
  module-level client (closed at shutdown or not), or several client objects that all share one
  transport (the transport is the pool: what costs connections is a new pool, not a new client object);
- client options that do not change what a request does (the starter's 5 s timeout may be kept, or
  shortened to anything above the slowest healthy call);
- on a failure, whether the other calls are cancelled (``TaskGroup``) or left to end on their own
  (``gather``): either way each ends, answered or given up on within the timeout.

A correct fix MAY NOT change:
- the result: the status and body of every overview, 404 for an unknown organization, on public and
  hidden data (``correct``);
- the behaviour on failure: a partner answering any error status (5xx or 4xx), or not answering within the
  starter's 5 s, fails the request with HTTP 500, exactly as the starter's ``raise_for_status`` and timeout
  do, even right after a healthy request for the same organization: never a 200 with ``null``, the
  partner's error body or a page kept from before, never another status, never a request that waits
  longer than the starter's 5 s for a partner, never a call left running for good (``partner_failure``);
- the calls made (this exercise's work): each request that finds its organization calls each partner
  exactly once and shows the answer received during that request, before its response: no cached or
  shared answer (across requests, or one in-flight call shared by concurrent requests, or one
  module-level result overwritten by a concurrent request for another organization), no retry or second
  call, no call started and then abandoned (a call counts only once its answer arrived), no call still
  running when a healthy response is sent; an unknown organization calls no partner, as in the starter
  (``every_call_made``, and ``partner_failure`` for retries).

Then, measured: the calls overlap (``external_time``) and one connection pool serves every request
(``shared_client``). Known limit: the number of pools is what the app host reports (each transport's
connection number travels with its calls), so an app host that lies about it cannot be caught here.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from grading.references import organization_in
from harness import words
from harness.engine.checks import Check, CheckFailed, Grading, compare_with_reference, first_difference
from harness.world.measure import ExternalCall, RequestMetrics
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.services import analytics_summary, billing_subscription, current_weather
from harness.world.world import Client, Exchange, RequestHung

ORG_IDS = (1, 2, 3, 4)
MISSING_ORG = 999
SCALE = "10x8"
PATH = "/organizations/1/overview"
# Modeled seconds the grader waits after the requests, so that every call they started has ended.
SETTLE_S = 10.0


def reference(data: Dataset, path: str, partner_seed: int | None = None) -> tuple[int, Any]:
    """The overview, with the partners answering from ``partner_seed`` (by default the data's own seed)."""
    org_id, org = organization_in(data, path)
    if org is None:
        return 404, None
    seed = data.seed if partner_seed is None else partner_seed
    return 200, {
        "organization": org["name"],
        "city": org["city"],
        "analytics": analytics_summary(seed, org_id),
        "weather": current_weather(seed, org["city"]),
        "subscription": billing_subscription(seed, org_id),
    }


# What the profile request must answer at every scale it is measured at (``Grading.profile``).
PROFILE_REFERENCE = reference


async def correct(g: Grading) -> str:
    paths = [f"/organizations/{org_id}/overview" for org_id in (*ORG_IDS, MISSING_ORG)]
    await compare_with_reference(g, SCALE, paths, reference)
    return f"overviews of {len(ORG_IDS)} organizations and a 404 match the reference on public and hidden data"


def _answered(outcome: str) -> bool:
    """The call's answer arrived (an HTTP status), rather than being cancelled or cut off."""
    return outcome.isdigit()


def _each_called_once(metrics: RequestMetrics, services: list[str], what: str) -> None:
    """Every service called exactly once during the request, and its answer received."""
    made = Counter(call.service for call in metrics.calls)
    for service in services:
        if made[service] != 1:
            raise CheckFailed(
                f"the {service} service was called {made[service]} times during {what}, expected exactly once "
                f"per request; the calls made: {metrics.call_timeline(outcomes=True) or 'none'}"
            )
    for call in metrics.calls:
        if not _answered(call.outcome):
            raise CheckFailed(
                f"during {what} the {call.service} call ended {call.outcome} before its answer arrived "
                f"({metrics.call_timeline(outcomes=True)}); a call counts only once its answer is received, "
                "expected exactly one answered call per partner per request"
            )


def _other_city(data: Dataset) -> str:
    """The page of an organization in another city than PATH's (its weather differs too)."""
    _, first = organization_in(data, PATH)
    assert first is not None
    other = next(o for o in ORG_IDS if data.organizations[o]["city"] != first["city"])
    return f"/organizations/{other}/overview"


def _fates(exchange: Exchange, running: list[ExternalCall]) -> list[str]:
    """What became of the calls left running by ``exchange``'s request, read once the grader has waited."""
    fates = []
    for call in running:
        if call.outcome == "pending":
            fates.append(f"{call.service} (still running {SETTLE_S:g} s later)")
        else:
            after = round((call.end - (exchange.metrics.end or call.end)) * 1000)
            fates.append(f"{call.service} (it ended {call.outcome} {after:g} ms after the response)")
    return fates


async def _sent(client: Client, path: str) -> tuple[Exchange, list[ExternalCall]]:
    """GET ``path``; the exchange, and the calls of the request still running when its response arrived
    (the record of a call is updated in place when it ends, so this is read at once)."""
    exchange = await client.get(path)
    return exchange, [call for call in exchange.metrics.calls if call.outcome == "pending"]


def _ended_before_response(exchange: Exchange, left: list[str], what: str) -> None:
    """With every partner healthy, no call of the request outlives its response (``left``: ``_fates``)."""
    if left:
        raise CheckFailed(
            f"{what} was answered while its call to {', '.join(left)} was still running; a healthy request shows "
            "the answers of its own calls, so each call ends before the response is sent (the calls ran "
            f"{exchange.metrics.call_timeline(outcomes=True)})"
        )


async def every_call_made(g: Grading) -> str:
    services = list(g.budget("services"))
    data = dataset(SCALE, PUBLIC_SEED)
    # The partners answer differently for each round: an answer kept from an earlier request is stale.
    partner_seeds = (PUBLIC_SEED, g.hidden_seed + 1, g.hidden_seed + 2)
    missing = f"/organizations/{MISSING_ORG}/overview"
    # The last round sends three requests at the same time: two for the same organization (each makes its own
    # calls, none shared) and one for an organization in another city (no answer lands on another's page).
    together = [PATH, PATH, _other_city(data)]
    async with g.serve(SCALE) as client:
        world = client.world
        assert world is not None
        unknown = await client.get(missing)
        sent: list[tuple[str, str, Exchange, list[ExternalCall], int]] = []
        for round_, seed in enumerate(partner_seeds):
            world.services.seed = seed
            paths = together if round_ == len(partner_seeds) - 1 else [PATH]
            answers = await asyncio.gather(*(_sent(client, path) for path in paths))
            for path, (exchange, running) in zip(paths, answers, strict=True):
                what = f"request {len(sent) + 1} to GET {path}"
                if len(paths) > 1:
                    what += f" (sent with {len(paths) - 1} others at once)"
                sent.append((what, path, exchange, running, seed))
        await world.advance(SETTLE_S)  # a call still running after its response is recorded when it ends
        left = [_fates(exchange, running) for _, _, exchange, running, _ in sent]
    if unknown.metrics.calls:
        raise CheckFailed(
            f"GET {missing} (an unknown organization) called {unknown.metrics.call_timeline(outcomes=True)}, "
            "expected no call: the starter answers 404 before calling any partner"
        )
    for (what, path, exchange, _, seed), fates in zip(sent, left, strict=True):
        _each_called_once(exchange.metrics, services, what)
        _fresh(exchange, reference(data, path, seed), what)
        _ended_before_response(exchange, fates, what)
    return (
        f"each of {', '.join(services)} called exactly once and answered before the response, in each of "
        f"{len(sent)} requests ({len(together)} of them at the same time, for 2 organizations), its answer shown; "
        "no call for an unknown organization"
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
            f"{what} differs from what the partners answered during that request, at {difference}; their answers "
            "change between requests, so an answer kept from an earlier request (or another request's call) is "
            "stale: expected each request to show its own calls' answers"
        )


def _faults(services: list[str]) -> list[tuple[str, int | None]]:
    """(service, HTTP status it answers; None: it never answers), in the order they are tried."""
    # Every service answering 500, then a 4xx (as much an error status for ``raise_for_status``), then a hang.
    return [(service, 500) for service in services] + [("billing", 404), ("analytics", 429), ("weather", None)]


async def partner_failure(g: Grading) -> str:
    services = list(g.budget("services"))
    limit = g.budget("partner_timeout_s")
    faults = _faults(services)
    async with g.serve(SCALE) as client:
        world = client.world
        assert world is not None
        for service, status in faults:
            # First a request with every partner healthy: what it loads is no answer for the failed one.
            before = await client.get(PATH)
            if before.response.status_code != 200:
                raise CheckFailed(
                    f"GET {PATH} with every partner healthy returned HTTP {before.response.status_code}, "
                    f"expected 200 (the request sent before {service} was broken)"
                )
            target = world.services[service]
            if status is None:
                what = f"GET {PATH} with {service} never answering"
                target.hang()
            else:
                what = f"GET {PATH} with {service} answering HTTP {status}"
                target.fail(status=status)
            try:
                exchange = await client.get(PATH)
            except RequestHung as hung:
                raise CheckFailed(
                    f"{hung} with {service} never answering; expected HTTP 500 like the starter, whose client "
                    f"gives up on a partner after {limit:g} s"
                ) from None
            _fails_with_500(exchange, what, before)
            await world.advance(SETTLE_S)  # what the failed request left running ends before the next one
            _all_ended(exchange.metrics, what, limit)
            _tried_once(exchange.metrics, what, services, service, limit)
            target.healthy()
    others = ", ".join(f"{service} {status}" for service, status in faults if status not in (None, 500))
    return (
        f"after a healthy request, with each of {', '.join(services)} answering HTTP 500 (then {others}), and with "
        f"weather never answering, the request fails with HTTP 500 as in the starter (each partner called at most "
        f"once, given up after {limit:g} s, no call left running)"
    )


def _fails_with_500(exchange: Exchange, what: str, before: Exchange) -> None:
    status = exchange.response.status_code
    if status != 500:
        shown = f" ({exchange.response.text[:80]!r})" if status < 400 else ""
        again = ""
        if status == 200 and exchange.response.content == before.response.content:
            again = (
                " (the very page of the healthy request before it: a page kept from an earlier request is no answer)"
            )
        raise CheckFailed(
            f"{what} returned HTTP {status}{shown}{again}, expected HTTP 500 as the starter gives: here a "
            "partner's failure (any error status, 4xx as well as 5xx, or no answer) still fails the request "
            "(keeping the page up without it is exercise 03); "
            f"the calls ran {exchange.metrics.call_timeline(outcomes=True) or 'none'}"
        )


def _all_ended(metrics: RequestMetrics, what: str, limit: float) -> None:
    """Every call the request started has ended (answered, timed out or cancelled) by the settle time."""
    for call in metrics.calls:
        if call.outcome == "pending":
            raise CheckFailed(
                f"{what}: its {call.service} call was still running {SETTLE_S:g} s after the response, never "
                f"given up (the starter's client gives up after {limit:g} s); a call the request stops waiting for "
                "must still end: keep a timeout on the client, or cancel what you stop waiting for "
                f"(the calls ran {metrics.call_timeline(outcomes=True)})"
            )


def _tried_once(metrics: RequestMetrics, what: str, services: list[str], broken: str, limit: float) -> None:
    made = Counter(call.service for call in metrics.calls)
    for service in services:
        if made[service] > 1:
            raise CheckFailed(
                f"{what} called {service} {made[service]} times ({metrics.call_timeline(outcomes=True)}), "
                "expected at most once per request: a failed call is not tried again"
            )
    for call in metrics.calls:
        waited = call.end - call.start
        if call.service == broken and waited > limit + 1e-6:
            raise CheckFailed(
                f"{what} waited {waited:g} s for {broken} (budget {limit:g} s: the starter's client gives up "
                f"after {limit:g} s); the calls ran {metrics.call_timeline(outcomes=True)}"
            )


async def external_time(g: Grading) -> str:
    budget = g.budget("max_external_ms")
    metrics = await g.profile()
    if metrics.external_ms > budget:
        timeline = metrics.call_timeline()
        raise CheckFailed(
            f"modeled external time {metrics.external_ms:g} ms (budget {budget:g} ms, the slowest call plus "
            f"slack); the calls ran {timeline}: they wait for each other"
        )
    return f"modeled external time {metrics.external_ms:g} ms (budget {budget:g} ms)"


async def shared_client(g: Grading) -> str:
    budget, count = g.budget("max_clients_created"), g.budget("requests")
    created = 0
    async with g.serve(SCALE) as client:
        for _ in range(count):
            created += (await client.get(PATH)).metrics.clients_created
    if created > budget:
        raise CheckFailed(
            f"{words.count(created, 'connection pool')} opened to the partner APIs while serving {count} requests "
            f"(budget {budget}, one pool shared by every request); each httpx.AsyncClient made with its own "
            "transport opens a new pool and connects again: share one pool, with one client for the app "
            "(or clients that all use one shared transport)"
        )
    return f"{words.count(created, 'partner connection pool')} opened while serving {count} requests (budget {budget})"


CHECKS = [
    Check(
        "correct",
        "the overview equals the reference, 404 included, on public and hidden data",
        correct,
        guard=True,
    ),
    Check(
        "every_call_made",
        "each partner API is called once per request, its answer received and shown",
        every_call_made,
        guard=True,
    ),
    Check(
        "partner_failure",
        "a partner answering 500 or not answering still fails the request with HTTP 500, as in the starter",
        partner_failure,
        guard=True,
    ),
    Check("external_time", "modeled external time within the slowest call plus slack", external_time),
    Check("shared_client", "one shared connection pool for the partner calls, not one per call", shared_client),
]
