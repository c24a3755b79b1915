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

# --- attempt A20_ctypes_dotted_name ---

# A20: ctypes. `import ctypes` is refused (_ctypes); load the _ctypes extension under a
# dotted name with _imp.create_dynamic (the hook checks only the first component), put it
# in sys.modules, import the pure-Python ctypes package on top, then try to call libc's
# prctl/ptrace and to read memory without a foreign-function call.
import _imp
import importlib.machinery as _machinery
import os as _os
import sys as _sys

_log = []


def _try(what, fn):
    try:
        _log.append(f"{what}: OK {fn()!r}"[:120])
    except BaseException as exc:  # noqa: BLE001
        _log.append(f"{what}: {type(exc).__name__} {exc}"[:160])


def _load():
    import glob
    path = glob.glob(_os.path.join(_sys.base_prefix, "lib", "python3.*", "lib-dynload", "_ctypes.*.so"))[0]
    mod = _imp.create_dynamic(_machinery.ModuleSpec("kata_not_it._ctypes", None, origin=path))
    _imp.exec_dynamic(mod)
    _sys.modules["_ctypes"] = mod
    import ctypes
    return ctypes


_try("load _ctypes", _load)
if "ctypes" in _sys.modules:
    import ctypes as _ct
    _try("CDLL(None)", lambda: _ct.CDLL(None))
    _try("pythonapi", lambda: _ct.pythonapi.Py_GetVersion)
    _try("c_char.from_address", lambda: _ct.c_char.from_address(id(b"x")).value)
    _try("string_at", lambda: _ct.string_at(id(b"abc"), 8))
    _try("memmove", lambda: _ct.memmove(_ct.create_string_buffer(4), b"abcd", 4))
print("A20", " | ".join(_log))

# --- end ---


@app.get("/organizations/{org_id}/dashboard")
async def get_org_dashboard(org_id: int, db: AsyncSession = Depends(get_db)):
    # --- Section A: load org data ---
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
