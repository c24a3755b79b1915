"""04 compressing even for clients that did not accept gzip: must fail."""

from fastapi import Depends, FastAPI, HTTPException
from fastapi.middleware.gzip import GZipMiddleware
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from harness.db import get_db
from harness.models import Organization, Project, Task, User

app = FastAPI(title="Task export")


class AlwaysGzip:
    """Compresses whatever the client said it accepts."""

    def __init__(self, app):
        self.app = GZipMiddleware(app, minimum_size=500)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]
            scope = {**scope, "headers": [*headers, (b"accept-encoding", b"gzip")]}
        await self.app(scope, receive, send)


app.add_middleware(AlwaysGzip)


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
            "description": task.description,
        }
        for task, project_name, assignee_name in rows
    ]
