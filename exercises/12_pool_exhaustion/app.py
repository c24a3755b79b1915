"""Project overview: the project's task counts and its organization's usage figures.

Run it:    kata serve 12      (then open http://127.0.0.1:8000/projects/1/overview)
Measure:   kata profile 12, then kata load 12 (50 users)
Grade:     kata check 12
"""

import httpx
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from harness.db import configure_pool, get_db
from harness.models import Organization, Project, Task

# As production configures it: 5 connections, none beyond, and a request waits at most 1 s for one.
configure_pool(pool_size=5, max_overflow=0, pool_timeout=1.0)

app = FastAPI(title="Project overview")

STATUSES = ("todo", "in_progress", "review", "done")


async def fetch_usage(org_id: int) -> dict:
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(f"https://analytics.example.com/api/org/{org_id}/summary")
        response.raise_for_status()
        return response.json()


@app.get("/projects/{project_id}/overview")
async def get_project_overview(project_id: int, db: AsyncSession = Depends(get_db)):
    project = await db.get(Project, project_id)
    if not project:
        raise HTTPException(status_code=404, detail="Project not found")
    org = await db.get(Organization, project.org_id)
    counted = await db.execute(
        select(Task.status, func.count(Task.id)).where(Task.project_id == project.id).group_by(Task.status)
    )
    tasks = dict.fromkeys(STATUSES, 0) | dict(counted.all())

    usage = await fetch_usage(org.id)

    return {
        "project": {"id": project.id, "name": project.name},
        "organization": {"id": org.id, "name": org.name},
        "tasks": tasks,
        "open_tasks": tasks["todo"] + tasks["in_progress"] + tasks["review"],
        "usage": usage,
    }
