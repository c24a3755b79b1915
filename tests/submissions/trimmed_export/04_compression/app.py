"""04 made smaller by dropping the description field: must fail correct."""

from fastapi import Depends, FastAPI, HTTPException
from fastapi.middleware.gzip import GZipMiddleware
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from harness.db import get_db
from harness.models import Organization, Project, Task, User

app = FastAPI(title="Task export")
app.add_middleware(GZipMiddleware, minimum_size=500)


@app.get("/organizations/{org_id}")
async def get_organization(org_id: int, db: AsyncSession = Depends(get_db)):
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")
    return {"id": org.id, "name": org.name, "city": org.city, "member_count": org.member_count}


@app.get("/organizations/{org_id}/tasks/export")
async def export_tasks(org_id: int, db: AsyncSession = Depends(get_db)):
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    assignee = aliased(User)
    stmt = (
        select(Task, Project.name, assignee.name)
        .join(Project, Task.project_id == Project.id)
        .outerjoin(assignee, Task.assignee_id == assignee.id)
        .where(Project.org_id == org_id)
        .order_by(Task.id)
    )
    rows = (await db.execute(stmt)).all()
    return [
        {
            "id": task.id,
            "project": project_name,
            "title": task.title,
            "status": task.status,
            "assignee": assignee_name,
            "due_date": task.due_date.isoformat(),
        }
        for task, project_name, assignee_name in rows
    ]
