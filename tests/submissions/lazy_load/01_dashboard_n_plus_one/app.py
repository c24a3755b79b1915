"""01 that forgets to load the assignees: an implicit lazy load in async code must fail clearly."""

import asyncio
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from harness.db import get_db
from harness.models import Organization, Project


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(timeout=5.0) as client:
        app.state.http = client
        yield


app = FastAPI(title="Dashboard", lifespan=lifespan)


def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http


@app.get("/organizations/{org_id}/dashboard")
async def get_org_dashboard(
    org_id: int,
    db: AsyncSession = Depends(get_db),
    http: httpx.AsyncClient = Depends(get_http),
):
    # --- Section A: load org data, eagerly ---
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    stmt = (
        select(Project)
        .where(Project.org_id == org_id)
        .order_by(Project.id)
        .options(selectinload(Project.tasks))
    )
    projects = (await db.execute(stmt)).scalars().all()

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

    # --- Section B: external enrichment, concurrently ---
    analytics_resp, weather_resp = await asyncio.gather(
        http.get(f"https://analytics.example.com/api/org/{org_id}/summary"),
        http.get("https://api.weather.example.com/current", params={"city": org.city}),
    )

    # --- Section C: build the response ---
    return {
        "organization": org.name,
        "member_count": org.member_count,
        "projects": project_data,
        "analytics": analytics_resp.json(),
        "weather": weather_resp.json(),
    }
