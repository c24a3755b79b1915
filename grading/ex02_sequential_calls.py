"""02 sequential-calls: concurrent calls on one shared client, same answer."""

from __future__ import annotations

from collections import Counter
from typing import Any

from grading.references import organization_in
from harness import words
from harness.engine.checks import Check, CheckFailed, Grading, compare_with_reference
from harness.world.seed import Dataset
from harness.world.services import analytics_summary, billing_subscription, current_weather

ORG_IDS = (1, 2, 3, 4)
MISSING_ORG = 999
SCALE = "10x8"


def reference(data: Dataset, path: str) -> tuple[int, Any]:
    org_id, org = organization_in(data, path)
    if org is None:
        return 404, None
    return 200, {
        "organization": org["name"],
        "city": org["city"],
        "analytics": analytics_summary(data.seed, org_id),
        "weather": current_weather(data.seed, org["city"]),
        "subscription": billing_subscription(data.seed, org_id),
    }


# What the profile request must answer at every scale it is measured at (``Grading.profile``).
PROFILE_REFERENCE = reference


async def correct(g: Grading) -> str:
    paths = [f"/organizations/{org_id}/overview" for org_id in (*ORG_IDS, MISSING_ORG)]
    await compare_with_reference(g, SCALE, paths, reference)
    return f"overviews of {len(ORG_IDS)} organizations and a 404 match the reference on public and hidden data"


async def every_call_made(g: Grading) -> str:
    metrics = await g.profile()
    made = Counter(call.service for call in metrics.calls)
    for service in g.budget("services"):
        if made[service] != 1:
            raise CheckFailed(
                f"the {service} service was called {made[service]} times per request, expected exactly once; "
                f"the calls made: {metrics.call_timeline() or 'none'}"
            )
    return "each of " + ", ".join(g.budget("services")) + " called exactly once"


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
            created += (await client.get("/organizations/1/overview")).metrics.clients_created
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
    Check("every_call_made", "each partner API is still called once per request", every_call_made, guard=True),
    Check("external_time", "modeled external time within the slowest call plus slack", external_time),
    Check("shared_client", "one shared httpx client, not one per call", shared_client),
]
