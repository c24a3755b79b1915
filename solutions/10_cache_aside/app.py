"""Organization statistics, fixed: cache-aside in Redis, with a TTL and invalidation on write.

A read looks in Redis first (``org:{id}:stats``) and computes the statistics
only on a miss, storing them as JSON for ``STATS_TTL_SECONDS``. Every write
that changes an organization's figures deletes that organization's key after
its commit, so the next read recomputes: never stale, and the TTL bounds the
damage of a write that bypasses this app.
"""

import json
from datetime import date
from typing import Literal

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from harness.cache import get_cache
from harness.db import get_db
from harness.models import Organization, Project, Task, User

app = FastAPI(title="Organization statistics")

STATUSES = ("todo", "in_progress", "review", "done")
Status = Literal["todo", "in_progress", "review", "done"]
# The reporting date: a task due before it that is not done is overdue.
AS_OF = date(2026, 10, 15)
# A write through this API invalidates at once; the TTL only bounds writes made elsewhere.
STATS_TTL_SECONDS = 60


def stats_key(org_id: int) -> str:
    return f"org:{org_id}:stats"


async def forget_stats(cache: Redis, org_id: int) -> None:
    """Call after the commit: a read between the delete and the commit would cache the old figures again."""
    await cache.delete(stats_key(org_id))


class NewTask(BaseModel):
    title: str
    due_date: date
    status: Status = "todo"
    assignee_id: int | None = None
    description: str = ""


class TaskChange(BaseModel):
    status: Status | None = None
    assignee_id: int | None = None  # null unassigns the task


def task_out(task: Task) -> dict:
    return {
        "id": task.id,
        "project_id": task.project_id,
        "title": task.title,
        "status": task.status,
        "assignee_id": task.assignee_id,
        "due_date": task.due_date.isoformat(),
    }


async def ensure_member(db: AsyncSession, user_id: int, org_id: int) -> None:
    user = await db.get(User, user_id)
    if not user or user.org_id != org_id:
        raise HTTPException(status_code=422, detail="The assignee is not a member of this organization")


async def compute_stats(db: AsyncSession, org: Organization) -> dict:
    """Counts over every task of the organization: one query per figure."""
    org_tasks = select(func.count(Task.id)).join(Project).where(Project.org_id == org.id)

    projects = await db.scalar(select(func.count(Project.id)).where(Project.org_id == org.id))
    by_status = {}
    for status in STATUSES:
        by_status[status] = await db.scalar(org_tasks.where(Task.status == status))
    unassigned = await db.scalar(org_tasks.where(Task.assignee_id.is_(None)))
    overdue = await db.scalar(org_tasks.where(Task.due_date < AS_OF, Task.status != "done"))

    open_tasks = func.count(Task.id)
    busiest = await db.execute(
        select(User.name, open_tasks)
        .join(Task, Task.assignee_id == User.id)
        .join(Project, Task.project_id == Project.id)
        .where(Project.org_id == org.id, Task.status != "done")
        .group_by(User.id, User.name)
        .order_by(open_tasks.desc(), User.id)
        .limit(3)
    )

    return {
        "organization": org.name,
        "projects": projects,
        "tasks": sum(by_status.values()),
        "by_status": by_status,
        "unassigned": unassigned,
        "overdue": overdue,
        "busiest": [{"name": name, "open_tasks": count} for name, count in busiest],
    }


@app.get("/organizations/{org_id}/stats")
async def get_org_stats(org_id: int, db: AsyncSession = Depends(get_db), cache: Redis = Depends(get_cache)):
    key = stats_key(org_id)
    cached = await cache.get(key)
    if cached is not None:
        return json.loads(cached)
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")
    stats = await compute_stats(db, org)
    await cache.set(key, json.dumps(stats), ex=STATS_TTL_SECONDS)
    return stats


@app.post("/organizations/{org_id}/projects/{project_id}/tasks", status_code=201)
async def create_task(
    org_id: int,
    project_id: int,
    new: NewTask,
    db: AsyncSession = Depends(get_db),
    cache: Redis = Depends(get_cache),
):
    project = await db.get(Project, project_id)
    if not project or project.org_id != org_id:
        raise HTTPException(status_code=404, detail="Project not found")
    if new.assignee_id is not None:
        await ensure_member(db, new.assignee_id, org_id)
    task = Task(project_id=project.id, **new.model_dump())
    db.add(task)
    await db.commit()
    await forget_stats(cache, org_id)
    return task_out(task)


@app.patch("/tasks/{task_id}")
async def update_task(
    task_id: int, change: TaskChange, db: AsyncSession = Depends(get_db), cache: Redis = Depends(get_cache)
):
    task = await db.get(Task, task_id)
    if not task:
        raise HTTPException(status_code=404, detail="Task not found")
    project = await db.get(Project, task.project_id)
    if change.status is not None:
        task.status = change.status
    if "assignee_id" in change.model_fields_set:
        if change.assignee_id is not None:
            await ensure_member(db, change.assignee_id, project.org_id)
        task.assignee_id = change.assignee_id
    await db.commit()
    await forget_stats(cache, project.org_id)  # the task's organization, not in this path
    return task_out(task)
