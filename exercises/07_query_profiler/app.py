"""Organization dashboard, twice: the old N+1 version and its fixed twin.

Both return the same JSON. Nobody can tell from the outside how many queries
either one runs: that is what this exercise is about.

Run it:    kata serve 07      (then curl -i http://127.0.0.1:8000/organizations/1/dashboard)
Measure:   kata profile 07
Grade:     kata check 07
"""

from dataclasses import dataclass

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from harness.clock import block
from harness.db import get_db
from harness.models import Organization, Project, Task, User


@dataclass(frozen=True)
class Settings:
    # More queries than this in one request is worth a warning in the logs.
    query_warning_threshold: int = 10


settings = Settings()

app = FastAPI(title="Dashboard")


def task_row(task: Task, assignee: User | None) -> dict:
    return {
        "id": task.id,
        "title": task.title,
        "status": task.status,
        "assignee": assignee.name if assignee else None,
    }


# Turning ORM objects into JSON-ready rows is the app's own work: CPU time, not
# database time. The grader's virtual clock charges CPU time only where the
# code says so: block() holds the event loop for that long, as real work would.
SECONDS_PER_TASK = 0.0001


def project_row(project: Project, tasks: list[dict]) -> dict:
    block(SECONDS_PER_TASK * len(tasks))
    return {"project_name": project.name, "task_count": len(tasks), "tasks": tasks}


@app.get("/organizations/{org_id}/dashboard")
async def get_org_dashboard(org_id: int, db: AsyncSession = Depends(get_db)):
    """The version that shipped first: one query per project, one per task."""
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    result = await db.execute(select(Project).where(Project.org_id == org_id).order_by(Project.id))
    project_data = []
    for project in result.scalars().all():
        tasks_stmt = select(Task).where(Task.project_id == project.id).order_by(Task.id)
        tasks = (await db.execute(tasks_stmt)).scalars().all()
        task_details = []
        for task in tasks:
            assignee = None
            if task.assignee_id is not None:
                assignee = await db.scalar(select(User).where(User.id == task.assignee_id))
            task_details.append(task_row(task, assignee))
        project_data.append(project_row(project, task_details))

    return {"organization": org.name, "member_count": org.member_count, "projects": project_data}


@app.get("/organizations/{org_id}/dashboard/fast")
async def get_org_dashboard_fast(org_id: int, db: AsyncSession = Depends(get_db)):
    """The fixed twin: eager loading, the same number of queries at any size."""
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    stmt = (
        select(Project)
        .where(Project.org_id == org_id)
        .order_by(Project.id)
        .options(selectinload(Project.tasks).selectinload(Task.assignee))
    )
    projects = (await db.execute(stmt)).scalars().all()
    project_data = [
        project_row(project, [task_row(task, task.assignee) for task in project.tasks]) for project in projects
    ]

    return {"organization": org.name, "member_count": org.member_count, "projects": project_data}
