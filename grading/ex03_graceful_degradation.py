"""03 graceful-degradation: concurrent calls, each with a timeout, a partial page when one fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grading.references import organization_in
from harness.engine.checks import Check, CheckFailed, Grading, assert_same_response, compare_with_reference
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.services import Service, analytics_summary, billing_subscription, current_weather
from harness.world.world import RequestHung, World

ORG_IDS = (1, 2, 3, 4)
MISSING_ORG = 999
SCALE = "10x8"
PATH = "/organizations/1/home"
# Each service and the part of the page it fills.
PARTS = {"analytics": "analytics", "weather": "weather", "billing": "subscription"}


def reference(data: Dataset, path: str, down: frozenset[str] = frozenset()) -> tuple[int, Any]:
    """The home page with the parts in ``down`` (part names) missing."""
    org_id, org = organization_in(data, path)
    if org is None:
        return 404, None
    parts = {
        "analytics": analytics_summary(data.seed, org_id),
        "weather": current_weather(data.seed, org["city"]),
        "subscription": billing_subscription(data.seed, org_id),
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


async def _home_with(g: Grading, what: str, configure: Callable[[World], None]) -> tuple[Any, str]:
    """GET the profile page in a world where ``configure`` broke some services."""
    async with g.serve(SCALE, configure=configure) as client:
        try:
            exchange = await client.get(PATH)
        except RequestHung as hung:
            budget = g.budget("max_degraded_total_ms")
            raise CheckFailed(f"{hung} with {what} (budget {budget:g} ms with a partner down)") from None
    return exchange, f"GET {PATH} with {what}"


def _expect_partial(exchange: Any, what: str, down: set[str]) -> None:
    status, body = reference(dataset(SCALE, PUBLIC_SEED), PATH, frozenset(down))
    try:
        assert_same_response(exchange, status, body, what)
    except CheckFailed as failed:
        calls = f"; the calls ran {exchange.metrics.call_timeline(outcomes=True)}" if exchange.metrics.calls else ""
        raise CheckFailed(f"{failed}; expected HTTP 200 with {_listing(down)}{calls}") from None


def _listing(down: set[str]) -> str:
    names = sorted(down)
    return f"{', '.join(names)} null and degraded == {names}"


def _break(service: str, fault: str) -> Callable[[World], None]:
    def configure(world: World) -> None:
        target: Service = world.services[service]
        getattr(target, fault)()

    return configure


async def one_service_fails(g: Grading) -> str:
    for service, part in PARTS.items():
        exchange, what = await _home_with(g, f"{service} answering HTTP 500", _break(service, "fail"))
        _expect_partial(exchange, what, {part})
    return "with each service in turn answering HTTP 500, the page is 200 with that part null and listed in degraded"


async def one_service_hangs(g: Grading) -> str:
    budget = g.budget("max_degraded_total_ms")
    slowest = 0.0
    for service, part in PARTS.items():
        exchange, what = await _home_with(g, f"{service} hanging", _break(service, "hang"))
        _expect_partial(exchange, what, {part})
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
    exchange, what = await _home_with(g, what, configure)
    _expect_partial(exchange, what, set(PARTS.values()))
    return f"with every service down, the page is 200 with {_listing(set(PARTS.values()))}"


CHECKS = [
    Check(
        "correct",
        "with every service healthy, the home page equals the reference, 404 included, on public and hidden data",
        correct,
        guard=True,
    ),
    Check("fast_when_healthy", "modeled external time within the slowest call plus slack", fast_when_healthy),
    Check("one_service_fails", "a service answering 500 nulls its part, the page stays 200", one_service_fails),
    Check("one_service_hangs", "a hanging service times out within budget, the page stays 200", one_service_hangs),
    Check("all_services_down", "every service down: still 200, every part null and listed", all_services_down),
]
