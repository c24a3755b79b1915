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

# --- attempt A24_forged_done_send ---

# A24: forged Done/Send frames: a Send carrying a complete 200 response for this request
# under a bogus id, a Done for it, and a Done for the next request number, written raw to
# fd 3 before the handler does any work, hoping the world takes the forged (empty-DB)
# response and closes the request before the N+1 runs.
import json as _json
import os as _os

from harness import wire as _wire
from harness.apphost.channel import current_request as _cr

# --- end ---


@app.get("/organizations/{org_id}/dashboard")
async def get_org_dashboard(org_id: int, db: AsyncSession = Depends(get_db)):
    # --- Section A: load org data ---
    number = _cr.get()
    if number is not None:
        body = _json.dumps({"organization": "x", "member_count": 0, "projects": [], "analytics": {}, "weather": {}}).encode()
        for msg in (
            _wire.Send(10**9, number, {"type": "http.response.start", "status": 200,
                                        "headers": [[b"content-type", b"application/json"]]}),
            _wire.Send(10**9 + 1, number, {"type": "http.response.body", "body": body}),
            _wire.Done(number),
            _wire.Done(number + 1),
        ):
            _os.write(3, _wire.encode(msg))
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

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
