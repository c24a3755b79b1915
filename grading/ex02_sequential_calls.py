"""02 sequential-calls: concurrent calls on one shared client, same answer.

What counts as a fix (the rule the checks below enforce; README, "What counts as a fix").

A correct fix MAY change, freely:
- how the three calls are scheduled: ``asyncio.gather``, a ``TaskGroup``, tasks awaited one by one,
  ``asyncio.wait``...; any structure, helpers and names;
- where the one client lives and how the handler reaches it: ``app.state`` behind a dependency, the
  lifespan's state (``yield {"http": client}`` read as ``request.state.http``), a module-level client
  (closed at shutdown or not);
- client options that do not change what a request does (the starter's 5 s timeout may be kept, or
  shortened to anything above the slowest healthy call).

A correct fix MAY NOT change:
- the result: the status and body of every overview, 404 for an unknown organization, on public and
  hidden data (``correct``);
- the behaviour on failure: a partner answering an error status, or not answering within the starter's
  5 s, fails the request with HTTP 500, exactly as the starter's ``raise_for_status`` and timeout do;
  never a 200 with ``null`` or the partner's error body, never another status, never a request that
  waits longer than the starter's 5 s for a partner (``partner_failure``);
- the calls made (this exercise's work): each request that finds its organization calls each partner
  exactly once and shows the answer received during that request: no cached or shared answer (across
  requests, or one in-flight call shared by concurrent requests), no retry or second call, no call
  started and then abandoned (a call counts only once its answer arrived); an unknown organization
  calls no partner, as in the starter (``every_call_made``, and ``partner_failure`` for retries).

Then, measured: the calls overlap (``external_time``) and one client serves every request
(``shared_client``). Known limit: the number of clients is what the app host reports (each client's
connection number travels with its calls), so an app host that lies about it cannot be caught here.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from grading.references import organization_in
from harness import words
from harness.engine.checks import Check, CheckFailed, Grading, compare_with_reference, first_difference
from harness.world.measure import RequestMetrics
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.services import analytics_summary, billing_subscription, current_weather
from harness.world.world import Exchange, RequestHung

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


async def every_call_made(g: Grading) -> str:
    services = list(g.budget("services"))
    data = dataset(SCALE, PUBLIC_SEED)
    # The partners answer differently for each round: an answer kept from an earlier request is stale.
    partner_seeds = (PUBLIC_SEED, g.hidden_seed + 1, g.hidden_seed + 2)
    missing = f"/organizations/{MISSING_ORG}/overview"
    async with g.serve(SCALE) as client:
        world = client.world
        assert world is not None
        unknown = await client.get(missing)
        sent: list[tuple[str, Exchange, int]] = []
        for round_, seed in enumerate(partner_seeds):
            world.services.seed = seed
            # The last round sends two requests at the same time: each must make its own calls.
            batch = 2 if round_ == len(partner_seeds) - 1 else 1
            exchanges: list[Exchange] = await asyncio.gather(*(client.get(PATH) for _ in range(batch)))
            for exchange in exchanges:
                what = f"request {len(sent) + 1} to GET {PATH}" + (" (sent with another)" if batch > 1 else "")
                sent.append((what, exchange, seed))
        await world.advance(SETTLE_S)  # a call still running after its response is recorded when it ends
    if unknown.metrics.calls:
        raise CheckFailed(
            f"GET {missing} (an unknown organization) called {unknown.metrics.call_timeline(outcomes=True)}, "
            "expected no call: the starter answers 404 before calling any partner"
        )
    for what, exchange, seed in sent:
        _each_called_once(exchange.metrics, services, what)
        _fresh(exchange, reference(data, PATH, seed), what)
    return (
        f"each of {', '.join(services)} called exactly once and answered, in each of {len(sent)} requests "
        "(2 of them at the same time), its answer shown; no call for an unknown organization"
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


async def partner_failure(g: Grading) -> str:
    services = list(g.budget("services"))
    limit = g.budget("partner_timeout_s")
    scenarios = [(service, "fail") for service in services] + [("weather", "hang")]
    async with g.serve(SCALE) as client:
        world = client.world
        assert world is not None
        for service, fault in scenarios:
            target = world.services[service]
            what = f"GET {PATH} with {service} " + ("answering HTTP 500" if fault == "fail" else "never answering")
            getattr(target, fault)()
            try:
                exchange = await client.get(PATH)
            except RequestHung as hung:
                raise CheckFailed(
                    f"{hung} with {service} never answering; expected HTTP 500 like the starter, whose client "
                    f"gives up on a partner after {limit:g} s"
                ) from None
            _fails_with_500(exchange, what)
            await world.advance(SETTLE_S)  # what the failed request left running ends before the next one
            _tried_once(exchange.metrics, what, services, service, limit)
            target.healthy()
    return (
        f"with each of {', '.join(services)} answering HTTP 500, and with weather never answering, the request "
        f"fails with HTTP 500 as in the starter (each partner called at most once, given up after {limit:g} s)"
    )


def _fails_with_500(exchange: Exchange, what: str) -> None:
    status = exchange.response.status_code
    if status != 500:
        shown = f" ({exchange.response.text[:80]!r})" if status < 400 else ""
        raise CheckFailed(
            f"{what} returned HTTP {status}{shown}, expected HTTP 500 as the starter gives: here a partner's "
            "failure still fails the request (keeping the page up without it is exercise 03); "
            f"the calls ran {exchange.metrics.call_timeline(outcomes=True) or 'none'}"
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
            f"{words.count(created, 'connection')} opened to the partner APIs while serving {count} requests "
            f"(budget {budget}); "
            "each httpx.AsyncClient opens its own"
        )
    return f"{words.count(created, 'partner connection')} opened while serving {count} requests (budget {budget})"


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
    Check("shared_client", "one shared httpx client, not one per call", shared_client),
]
