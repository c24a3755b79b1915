"""01 fixed with joinedload: one JOINed query instead of selectin batches; must pass."""

import httpx
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from harness.db import get_db
from harness.models import Organization, Project, Task

app = FastAPI(title="Dashboard")


@app.get("/organizations/{org_id}/dashboard")
async def get_org_dashboard(org_id: int, db: AsyncSession = Depends(get_db)):
    # --- Section A: load org data, eagerly ---
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    stmt = (
        select(Project)
        .where(Project.org_id == org_id)
        .order_by(Project.id)
        .options(joinedload(Project.tasks).joinedload(Task.assignee))
    )
    projects = (await db.execute(stmt)).unique().scalars().all()

    project_data = [
        {
            "project_name": project.name,
            "task_count": len(project.tasks),
            "tasks": [
                {
                    "id": task.id,
                    "title": task.title,
                    "status": task.status,
                    "assignee": task.assignee.name if task.assignee else None,
                }
                for task in project.tasks
            ],
        }
        for project in projects
    ]

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
