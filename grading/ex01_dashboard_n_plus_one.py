"""01 dashboard-n-plus-one: constant queries, same answer."""

from __future__ import annotations

from typing import Any

from grading.references import dashboard_projects, organization_in
from harness.engine.checks import Check, CheckFailed, Grading, compare_with_reference
from harness.words import n_queries
from harness.world.measure import RequestMetrics
from harness.world.seed import Dataset
from harness.world.services import analytics_summary, current_weather

ORG_IDS = (1, 2, 3, 4)
MISSING_ORG = 999
CORRECTNESS_SCALE = "10x8"


def reference(data: Dataset, path: str) -> tuple[int, Any]:
    """The dashboard as the pristine starter returns it, computed from the rows."""
    org_id, org = organization_in(data, path)
    if org is None:
        return 404, None
    projects = dashboard_projects(data, org_id)
    return 200, {
        "organization": org["name"],
        "member_count": org["member_count"],
        "projects": projects,
        "analytics": analytics_summary(data.seed, org_id),
        "weather": current_weather(data.seed, org["city"]),
    }


# What the profile request must answer at every scale it is measured at (``Grading.profile``).
PROFILE_REFERENCE = reference


async def correct(g: Grading) -> str:
    paths = [f"/organizations/{org_id}/dashboard" for org_id in (*ORG_IDS, MISSING_ORG)]
    await compare_with_reference(g, CORRECTNESS_SCALE, paths, reference)
    return f"dashboards of {len(ORG_IDS)} organizations and a 404 match the reference on public and hidden data"


def _repeated(metrics: RequestMetrics) -> str:
    groups = metrics.repeated()
    if not groups:
        return ""
    top = groups[0]
    return f"; repeated {top['count']}x: {top['sql']} from {top['call_site']}"


async def query_budget(g: Grading) -> str:
    budget = g.budget("max_queries")
    metrics = await g.profile()
    if len(metrics.queries) > budget:
        raise CheckFailed(f"{n_queries(len(metrics.queries))} (budget {budget}){_repeated(metrics)}")
    return f"{n_queries(len(metrics.queries))} (budget {budget})"


async def constant_queries(g: Grading) -> str:
    small, large = g.budget("constant_scales")
    counts = {scale: len((await g.profile(scale)).queries) for scale in (small, large)}
    if counts[small] != counts[large]:
        metrics = await g.profile(large)
        raise CheckFailed(
            f"{n_queries(counts[small])} at {small} but {counts[large]} at {large}: "
            f"the count grows with the data{_repeated(metrics)}"
        )
    return f"{n_queries(counts[small])} at both {small} and {large}"


async def db_time(g: Grading) -> str:
    scale, budget = g.budget("db_scale"), g.budget("max_db_ms")
    metrics = await g.profile(scale)
    if metrics.db_ms > budget:
        raise CheckFailed(
            f"modeled DB time {metrics.db_ms:g} ms at {scale} (budget {budget:g} ms): "
            f"{n_queries(len(metrics.queries))} x {metrics.db_ms / max(1, len(metrics.queries)):g} ms"
            f"{_repeated(metrics)}"
        )
    return f"modeled DB time {metrics.db_ms:g} ms at {scale} (budget {budget:g} ms)"


CHECKS = [
    Check(
        "correct",
        "the dashboard equals the reference, 404 included, on public and hidden data",
        correct,
        guard=True,
    ),
    Check("query_budget", "at most budget.max_queries queries for one dashboard", query_budget),
    Check("constant_queries", "the same number of queries at a small and a large scale", constant_queries),
    Check("db_time", "modeled DB time within budget at the largest scale", db_time),
]
