"""01 dashboard-n-plus-one: constant queries, same answer, only the organization's rows read.

What a fix may change: how the rows are loaded (selectinload, joinedload,
subqueryload, explicit IN queries, a join written by hand), how many
statements that takes (a small constant), the order of the statements, the
external calls of Section B (exercise 02's subject).
What it may not change: the answer (public and hidden data, the 404); and the
work the database does for it: the rows read must stay proportional to the
organization's own data (its row, projects, tasks and members), never the whole
tables filtered in Python (``rows_read``).
"""

from __future__ import annotations

from typing import Any

from grading.references import dashboard_projects, organization_in
from harness.engine.checks import Check, CheckFailed, Grading, compare_with_reference
from harness.words import n_queries
from harness.world.measure import RequestMetrics
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
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


def _organization_rows(data: Dataset, org_id: int) -> int:
    """The rows that belong to the organization: its own, its projects, their tasks and its members."""
    projects = data.projects_of(org_id)
    tasks = sum(len(data.tasks_of(p["id"])) for p in projects)
    members = sum(1 for user in data.users.values() if user.get("org_id") == org_id)
    return 1 + len(projects) + tasks + members


async def rows_read(g: Grading) -> str:
    """Each dashboard reads at most twice the rows of its organization: loading every project, task and
    user and filtering in Python keeps the query count constant but reads every customer's data."""
    factor = g.budget("max_rows_factor")
    data = dataset(CORRECTNESS_SCALE, PUBLIC_SEED)
    read = []
    async with g.serve(CORRECTNESS_SCALE) as client:
        for org_id in ORG_IDS:
            exchange = await client.get(f"/organizations/{org_id}/dashboard")
            own = _organization_rows(data, org_id)
            metrics = exchange.metrics
            read.append(f"{metrics.rows_read} for organization {org_id}")
            if metrics.rows_read > factor * own:
                raise CheckFailed(
                    f"GET {metrics.path} read {metrics.rows_read} rows from the database, but organization "
                    f"{org_id} has only {own} rows in all (its own, its projects, their tasks, its members; "
                    f"budget {factor:g}x = {factor * own:g}): filter in SQL (WHERE, IN, a join), not in Python; "
                    f"the rows came from {metrics.most_rows()}"
                )
    return f"rows read per dashboard: {', '.join(read)} (budget {factor:g}x the organization's own rows)"


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
    Check(
        "rows_read",
        "each dashboard reads at most budget.max_rows_factor x its organization's own rows",
        rows_read,
        guard=True,
    ),
    Check("query_budget", "at most budget.max_queries queries for one dashboard", query_budget),
    Check("constant_queries", "the same number of queries at a small and a large scale", constant_queries),
    Check("db_time", "modeled DB time within budget at the largest scale", db_time),
]
