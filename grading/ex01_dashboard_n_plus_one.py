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

import copy
from typing import Any

from sqlalchemy import insert, update

from grading.references import dashboard_projects, organization_in
from harness.engine.checks import Check, CheckFailed, Grading, assert_same_response, compare_with_reference
from harness.models import Task, User
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
    async with g.serve(CORRECTNESS_SCALE) as client:
        assert client.world is not None and client.world.database is not None
        for path in paths:  # what a cache or a snapshot would keep
            await client.get(path)
        changed = await _change_the_data(client.world.database.engine, dataset(CORRECTNESS_SCALE, PUBLIC_SEED))
        for path in paths:
            status, body = reference(changed, path)
            assert_same_response(await client.get(path), status, body, f"GET {path} after the data changed ({CHANGES})")
        async with client.world.database.engine.begin() as conn:
            await conn.exec_driver_sql("ALTER TABLE tasks RENAME TO tasks_gone")
        exchange = await client.get("/organizations/1/dashboard")
        if exchange.response.status_code != 500:
            raise CheckFailed(
                f"GET /organizations/1/dashboard returned HTTP {exchange.response.status_code} while the tasks "
                "table could not be read, expected 500 as the starter gives: a broad try/except turns a "
                "database error into a wrong answer; let errors be errors"
            )
    return (
        f"dashboards of {len(ORG_IDS)} organizations and a 404 match the reference on public and hidden data, "
        "and again after the data changed; a database error stays a 500"
    )


CHANGES = "25 tasks added to a project, a task renamed, a member renamed"


async def _change_the_data(engine: Any, data: Dataset) -> Dataset:
    """Write ``CHANGES`` into the world's database; return the dataset as it now is."""
    changed = copy.deepcopy(data)
    org_2_project = changed.projects_of(2)[0]
    members = sorted(u["id"] for u in changed.users.values() if u.get("org_id") == 2)
    next_id = max(t["id"] for t in changed.tasks) + 1
    template = changed.tasks_of(org_2_project["id"])[0]
    added = [
        {
            **template,
            "id": next_id + i,
            "title": f"Follow-up {i + 1}",
            "status": ("todo", "doing", "done")[i % 3],
            "assignee_id": members[i % len(members)] if i % 4 else None,
        }
        for i in range(25)
    ]
    changed.tasks.extend(added)
    renamed_task = changed.tasks_of(changed.projects_of(4)[0]["id"])[0]
    renamed_task["title"] = "Renamed after the first request"
    member = next(u for u in changed.users.values() if u.get("org_id") == 1)
    member["name"] = "Renamed Member"
    async with engine.begin() as conn:
        await conn.execute(insert(Task), added)
        await conn.execute(update(Task).where(Task.id == renamed_task["id"]).values(title=renamed_task["title"]))
        await conn.execute(update(User).where(User.id == member["id"]).values(name=member["name"]))
    return changed


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
    user and filtering in Python keeps the query count constant but reads every customer's data. Rows the
    app reads outside any request (at startup, between requests) count for every request."""
    factor = g.budget("max_rows_factor")
    data = dataset(CORRECTNESS_SCALE, PUBLIC_SEED)
    read = []
    async with g.serve(CORRECTNESS_SCALE) as client:
        for org_id in ORG_IDS:
            exchange = await client.get(f"/organizations/{org_id}/dashboard")
            own = _organization_rows(data, org_id)
            metrics, background = exchange.metrics, client.background
            outside = background.rows_examined if background is not None else 0
            total = metrics.rows_examined + outside
            read.append(f"{total} for organization {org_id}")
            if total > factor * own:
                where = f"the rows came from {metrics.most_rows()}" if metrics.rows_examined else ""
                if outside:
                    where = (
                        f"{outside} of them read outside any request (at startup or between requests: "
                        f"{background.most_rows()}), which counts for every request"  # type: ignore[union-attr]
                        + (f"; in the request: {metrics.most_rows()}" if metrics.rows_examined else "")
                    )
                raise CheckFailed(
                    f"GET {metrics.path} read {total} rows from the database, but organization "
                    f"{org_id} has only {own} rows in all (its own, its projects, their tasks, its members; "
                    f"budget {factor:g}x = {factor * own:g}): filter in SQL (WHERE, IN, a join), not in Python; "
                    f"{where}"
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
