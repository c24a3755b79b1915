"""Organization dashboard, after the N+1 fix (exercise 01), with its old version kept for comparison.

This app is given: do not change it. Your work is test_dashboard_budget.py,
the tests that keep the N+1 from coming back.

    GET /organizations/{org_id}/dashboard          the fixed version: 4 queries at any scale
    GET /organizations/{org_id}/dashboard/legacy   the old N+1 version: 2 + P + P x T queries
"""

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from harness.db import get_db
from harness.models import Organization, Project, Task, User

app = FastAPI(title="Dashboard")


async def load_projects(db: AsyncSession, org_id: int) -> list[dict]:
    """Projects with their tasks and assignees: one query per level."""
    stmt = (
        select(Project)
        .where(Project.org_id == org_id)
        .order_by(Project.id)
        .options(selectinload(Project.tasks).selectinload(Task.assignee))
    )
    projects = (await db.execute(stmt)).scalars().all()
    return [
        {
            "project_name": project.name,
            "tasks": [
                {"id": task.id, "title": task.title, "assignee": task.assignee.name if task.assignee else None}
                for task in project.tasks
            ],
        }
        for project in projects
    ]


async def load_projects_legacy(db: AsyncSession, org_id: int) -> list[dict]:
    """The same data, one query per project and one per task (the N+1)."""
    projects = (await db.execute(select(Project).where(Project.org_id == org_id).order_by(Project.id))).scalars()
    result = []
    for project in projects.all():
        tasks = (await db.execute(select(Task).where(Task.project_id == project.id).order_by(Task.id))).scalars()
        task_list = []
        for task in tasks.all():
            assignee = None
            if task.assignee_id is not None:
                assignee = await db.scalar(select(User).where(User.id == task.assignee_id))
            task_list.append({"id": task.id, "title": task.title, "assignee": assignee.name if assignee else None})
        result.append({"project_name": project.name, "tasks": task_list})
    return result


async def get_org(db: AsyncSession, org_id: int) -> Organization:
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")
    return org


@app.get("/organizations/{org_id}/dashboard")
async def get_org_dashboard(org_id: int, db: AsyncSession = Depends(get_db)):
    org = await get_org(db, org_id)
    return {"organization": org.name, "projects": await load_projects(db, org_id)}


@app.get("/organizations/{org_id}/dashboard/legacy")
async def get_org_dashboard_legacy(org_id: int, db: AsyncSession = Depends(get_db)):
    org = await get_org(db, org_id)
    return {"organization": org.name, "projects": await load_projects_legacy(db, org_id)}
