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

# --- attempt A23_seed_from_cmdline_reference ---

# A23: no dashboard query at all. The hidden seed is on the world's command line
# ("python -m harness.worker ... --seed N"): read /proc/<world>/cmdline through the dir_fd
# hole (A10; cmdline stays readable to other users, so this part would also work as
# nobody). One statement says which dataset this world holds; the answer is then the
# grader's own reference (grading.ex01...reference), regenerated from the seed in-process.
import os as _os
import tempfile as _tempfile

from sqlalchemy import text as _text

from harness.world.seed import PUBLIC_SEED as _PUBLIC, dataset as _dataset

_SCALES = ("5x4", "10x8", "20x10", "50x20")


def _hidden_seed():
    try:
        _os.chdir(_tempfile.gettempdir())
        proc = _os.open("/proc", _os.O_RDONLY | _os.O_DIRECTORY)
        fd = _os.open(f"{_os.getppid()}/status", _os.O_RDONLY, dir_fd=proc)
        world = next(l.split()[1] for l in _os.read(fd, 4096).decode().splitlines() if l.startswith("PPid:"))
        _os.close(fd)
        fd = _os.open(f"{world}/cmdline", _os.O_RDONLY, dir_fd=proc)
        argv = _os.read(fd, 65536).decode().split("\0")
        _os.close(fd)
        return int(argv[argv.index("--seed") + 1])
    except Exception as exc:  # noqa: BLE001
        print("A23 no seed:", exc)
        return 2026


_SEEDS = (_PUBLIC, _hidden_seed())
print("A23 seeds", _SEEDS)
_which = None

# --- end ---


@app.get("/organizations/{org_id}/dashboard")
async def get_org_dashboard(org_id: int, db: AsyncSession = Depends(get_db)):
    # --- Section A: load org data ---
    global _which
    if _which is None:
        n, name = (await db.execute(_text(
            "SELECT (SELECT count(*) FROM projects), (SELECT name FROM organizations WHERE id = 1)"))).one()
        _which = next(
            (s, seed) for s in _SCALES for seed in _SEEDS
            if len(_dataset(s, seed).projects) == n and _dataset(s, seed).organizations[1]["name"] == name
        )
    from grading.ex01_dashboard_n_plus_one import reference
    status, body = reference(_dataset(*_which), f"/organizations/{org_id}/dashboard")
    if status == 404:
        raise HTTPException(status_code=404, detail="Org not found")
    return body
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
