"""03 graceful-degradation: concurrent calls, each with a timeout, a partial page when one fails.

What counts as a fix (the rule the checks below enforce; README, "What counts as a fix").

A correct fix MAY change, freely:
- how the calls are scheduled and collected: ``gather(..., return_exceptions=True)``, a ``TaskGroup``
  with a try/except inside each task, ``asyncio.wait`` with a deadline (the late tasks then cancelled),
  ``as_completed``, anyio, tasks awaited in turn...;
- how a call is bounded in time: the client's timeout, a per-request timeout, ``asyncio.wait_for``,
  ``asyncio.timeout``, ``anyio.fail_after``, a deadline; any bound above the slowest healthy call
  (320 ms) that keeps a degraded page within its budget;
- how a failure is caught (per call, per part, per task, an event hook) and the code's structure; the
  client's lifetime.

A correct fix MAY NOT change:
- the healthy result: with every partner healthy, the page equals the starter's (``degraded == []``),
  and an unknown organization is a 404, on public and hidden data (``correct``), each request showing its
  own answers even when requests for two organizations in different cities run at the same time (no
  module-level dict of parts that a concurrent request overwrites; ``every_call_made``);
- the behaviour on failure: a part whose call fails in this request (any HTTP error status, 4xx as well as
  5xx, or no answer in time) is ``null`` and named in ``degraded`` (sorted), whatever an earlier request
  loaded; the page is HTTP 200 with every other part intact (``one_service_fails`` with 500, 404 and 429,
  ``one_service_hangs``, ``all_services_down``, each after a first request with every partner healthy);
- the calls made: each request that finds its organization calls each partner exactly once when all are
  healthy, its answer received and shown (no cache, no answer shared between requests, none started and
  abandoned), and at most once when one fails (no retry, no second attempt after an error or a slow
  answer); an unknown organization calls no partner (``every_call_made``, and the fault checks); and no
  call of a request is still running when its page is sent: a call the page stops waiting for is ended
  (timed out or cancelled) first, never left running behind ``asyncio.shield`` or in a task nobody
  cancels (``every_call_made`` and the fault checks look right after each response);
- the time: the slowest call plus slack when healthy, a bounded page when a partner is down
  (``fast_when_healthy``, ``one_service_hangs``).

Known limit: the number of httpx clients is what the app host reports (not graded here anyway).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

from grading.references import organization_in
from harness.engine.checks import (
    Check,
    CheckFailed,
    Grading,
    assert_same_response,
    compare_with_reference,
    first_difference,
)
from harness.world.measure import ExternalCall, RequestMetrics
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.services import Service, analytics_summary, billing_subscription, current_weather
from harness.world.world import Client, Exchange, RequestHung, World

ORG_IDS = (1, 2, 3, 4)
MISSING_ORG = 999
SCALE = "10x8"
PATH = "/organizations/1/home"
# Each service and the part of the page it fills.
PARTS = {"analytics": "analytics", "weather": "weather", "billing": "subscription"}
# Modeled seconds the grader waits after a request, so that every call it started has ended.
SETTLE_S = 10.0


def reference(
    data: Dataset, path: str, down: frozenset[str] = frozenset(), partner_seed: int | None = None
) -> tuple[int, Any]:
    """The home page with the parts in ``down`` (part names) missing, the partners answering from
    ``partner_seed`` (by default the data's own seed)."""
    org_id, org = organization_in(data, path)
    if org is None:
        return 404, None
    seed = data.seed if partner_seed is None else partner_seed
    parts = {
        "analytics": analytics_summary(seed, org_id),
        "weather": current_weather(seed, org["city"]),
        "subscription": billing_subscription(seed, org_id),
    }
    return 200, {
        "organization": org["name"],
        **{name: None if name in down else part for name, part in parts.items()},
        "degraded": sorted(down),
    }


# What the profile request must answer at every scale it is measured at (``Grading.profile``).
PROFILE_REFERENCE = reference


async def correct(g: Grading) -> str:
    paths = [f"/organizations/{org_id}/home" for org_id in (*ORG_IDS, MISSING_ORG)]
    await compare_with_reference(g, SCALE, paths, reference)
    return f"home pages of {len(ORG_IDS)} organizations and a 404 match the reference on public and hidden data"


def _answered(outcome: str) -> bool:
    """The call's answer arrived (an HTTP status), rather than being cancelled or cut off."""
    return outcome.isdigit()


def _each_called_once(metrics: RequestMetrics, what: str) -> None:
    """Every partner called exactly once during the request, and its answer received."""
    made = Counter(call.service for call in metrics.calls)
    for service in PARTS:
        if made[service] != 1:
            raise CheckFailed(
                f"the {service} service was called {made[service]} times during {what}, expected exactly once "
                f"per request with every service healthy; the calls made: "
                f"{metrics.call_timeline(outcomes=True) or 'none'}"
            )
    for call in metrics.calls:
        if not _answered(call.outcome):
            raise CheckFailed(
                f"during {what} the {call.service} call ended {call.outcome} before its answer arrived "
                f"({metrics.call_timeline(outcomes=True)}), with every service healthy; a call counts only once "
                "its answer is received, expected exactly one answered call per partner per request"
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


def _other_city(data: Dataset) -> str:
    """The page of an organization in another city than PATH's (its weather differs too)."""
    _, first = organization_in(data, PATH)
    assert first is not None
    other = next(o for o in ORG_IDS if data.organizations[o]["city"] != first["city"])
    return f"/organizations/{other}/home"


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


def _none_left_running(exchange: Exchange, left: list[str], what: str) -> None:
    """No call of the request still running once its page was sent (``left``: ``_fates`` of those that were)."""
    if left:
        raise CheckFailed(
            f"{what} sent its page while its call to {', '.join(left)} was still running; a call the page stops "
            "waiting for must have ended (given up on, not abandoned) before the page goes out: one left running "
            "leaks a task and a pooled connection on every request, forever if nothing ever ends it "
            f"(the calls ran {exchange.metrics.call_timeline(outcomes=True)})"
        )


async def every_call_made(g: Grading) -> str:
    data = dataset(SCALE, PUBLIC_SEED)
    # The partners answer differently for each round: an answer kept from an earlier request is stale.
    partner_seeds = (PUBLIC_SEED, g.hidden_seed + 1, g.hidden_seed + 2)
    missing = f"/organizations/{MISSING_ORG}/home"
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
        _each_called_once(exchange.metrics, what)
        _fresh(exchange, reference(data, path, partner_seed=seed), what)
        _none_left_running(exchange, fates, what)
    return (
        f"with every service healthy, each of {', '.join(PARTS)} called exactly once and answered, in each of "
        f"{len(sent)} requests ({len(together)} of them at the same time, for 2 organizations), its answer shown; "
        "no call for an unknown organization"
    )


async def fast_when_healthy(g: Grading) -> str:
    budget = g.budget("max_healthy_external_ms")
    metrics = await g.profile()
    if metrics.external_ms > budget:
        timeline = metrics.call_timeline()
        raise CheckFailed(
            f"with every service healthy, modeled external time of GET {metrics.path} is {metrics.external_ms:g} ms "
            f"(budget {budget:g} ms, the slowest call plus slack); the calls ran {timeline}: they wait for each other"
        )
    return f"with every service healthy, modeled external time {metrics.external_ms:g} ms (budget {budget:g} ms)"


async def _home_with(g: Grading, what: str, configure: Callable[[World], None]) -> tuple[Exchange, list[str], str]:
    """GET the profile page once with every service healthy, then in the same world once ``configure``
    broke some services; the second exchange, recorded until every call it started has ended, and what
    became of the calls it left running when its page was sent (``_fates``)."""
    async with g.serve(SCALE) as client:
        world = client.world
        assert world is not None
        await client.get(PATH)  # what this first request loads is no answer for the next one
        configure(world)
        try:
            exchange, running = await _sent(client, PATH)
        except RequestHung as hung:
            budget = g.budget("max_degraded_total_ms")
            raise CheckFailed(f"{hung} with {what} (budget {budget:g} ms with a partner down)") from None
        await world.advance(SETTLE_S)
        left = _fates(exchange, running)
    return exchange, left, f"GET {PATH} with {what}"


def _expect_partial(exchange: Exchange, left: list[str], what: str, down: set[str]) -> None:
    data = dataset(SCALE, PUBLIC_SEED)
    status, body = reference(data, PATH, frozenset(down))
    try:
        assert_same_response(exchange, status, body, what)
    except CheckFailed as failed:
        calls = f"; the calls ran {exchange.metrics.call_timeline(outcomes=True)}" if exchange.metrics.calls else ""
        hint = _why_shown(exchange, reference(data, PATH)[1], down) if exchange.response.status_code == 200 else ""
        raise CheckFailed(f"{failed}; expected HTTP 200 with {_listing(down)}{hint}{calls}") from None
    _tried_once(exchange.metrics, what)
    _none_left_running(exchange, left, what)


def _why_shown(exchange: Exchange, healthy: Any, down: set[str]) -> str:
    """Why a part whose call failed was shown anyway: kept from before, or the partner's error body."""
    try:
        body = exchange.response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    shown = [part for part in sorted(down) if body.get(part) is not None]
    if not shown:
        return ""
    if all(body.get(part) == healthy[part] for part in shown):
        return " (a part whose call failed in this request is null, whatever the request before it loaded)"
    return (
        f" ({', '.join(shown)} shows the partner's error body: any HTTP error status, a 4xx such as 404 or 429 as "
        "well as a 5xx, is a failed call, as raise_for_status says)"
    )


def _tried_once(metrics: RequestMetrics, what: str) -> None:
    """No partner called twice in one request (the failing one included)."""
    made = Counter(call.service for call in metrics.calls)
    for service in PARTS:
        if made[service] > 1:
            raise CheckFailed(
                f"{what} called {service} {made[service]} times ({metrics.call_timeline(outcomes=True)}), "
                "expected at most once per request: a failed call is not tried again, and each attempt "
                "costs the page its wait"
            )


def _listing(down: set[str]) -> str:
    names = sorted(down)
    return f"{', '.join(names)} null and degraded == {names}"


def _break(service: str, fault: str, **options: int) -> Callable[[World], None]:
    def configure(world: World) -> None:
        target: Service = world.services[service]
        getattr(target, fault)(**options)

    return configure


def _fault_statuses() -> list[tuple[str, int]]:
    """(service, the error status it answers): each service with a 500, then two 4xx (errors all the same)."""
    return [(service, 500) for service in PARTS] + [("weather", 404), ("billing", 429)]


async def one_service_fails(g: Grading) -> str:
    faults = _fault_statuses()
    for service, status in faults:
        what = f"{service} answering HTTP {status}"
        exchange, running, what = await _home_with(g, what, _break(service, "fail", status=status))
        _expect_partial(exchange, running, what, {PARTS[service]})
    return (
        "with each service in turn answering HTTP 500 (and weather 404, billing 429), the page is 200 with that "
        "part null and listed in degraded, no service called twice, no call left running"
    )


async def one_service_hangs(g: Grading) -> str:
    budget = g.budget("max_degraded_total_ms")
    slowest = 0.0
    for service, part in PARTS.items():
        exchange, running, what = await _home_with(g, f"{service} hanging", _break(service, "hang"))
        _expect_partial(exchange, running, what, {part})
        total = exchange.metrics.total_ms
        if total > budget:
            raise CheckFailed(
                f"{what} took {total:g} ms of modeled time (budget {budget:g} ms); "
                f"the calls ran {exchange.metrics.call_timeline(outcomes=True)}"
            )
        slowest = max(slowest, total)
    return (
        f"with each service in turn hanging, the page is 200 with that part null and listed in degraded, "
        f"at most {slowest:g} ms (budget {budget:g} ms)"
    )


async def all_services_down(g: Grading) -> str:
    def configure(world: World) -> None:
        world.services.analytics.fail()
        world.services.weather.hang()
        world.services.billing.fail()

    what = "analytics and billing answering HTTP 500 and weather hanging"
    exchange, running, what = await _home_with(g, what, configure)
    _expect_partial(exchange, running, what, set(PARTS.values()))
    return f"with every service down, the page is 200 with {_listing(set(PARTS.values()))}, no service called twice"


CHECKS = [
    Check(
        "correct",
        "with every service healthy, the home page equals the reference, 404 included, on public and hidden data",
        correct,
        guard=True,
    ),
    Check(
        "every_call_made",
        "with every service healthy, each partner is called once per request, its answer received and shown",
        every_call_made,
        guard=True,
    ),
    Check("fast_when_healthy", "modeled external time within the slowest call plus slack", fast_when_healthy),
    Check(
        "one_service_fails",
        "a service answering an error status (500, 404, 429) nulls its part, the page stays 200",
        one_service_fails,
    ),
    Check("one_service_hangs", "a hanging service times out within budget, the page stays 200", one_service_hangs),
    Check("all_services_down", "every service down: still 200, every part null and listed", all_services_down),
]
