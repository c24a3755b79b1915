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

# A04: the world's database is a SQLite file the host (root here) can read: the hook only
# refuses writes and foreign /proc. Run the same N+1 loop on it with the sqlite3 module:
# the world never sees a statement.
import glob as _glob
import os as _os
import sqlite3 as _sqlite3


_FP = "SELECT (SELECT count(*) FROM tasks), (SELECT group_concat(name, '|') FROM organizations), (SELECT sum(length(title)) FROM tasks)"


async def _world_db(db):
    # one statement through the world: which dataset is this? then the same dataset, read privately
    from sqlalchemy import text

    want = tuple((await db.execute(text(_FP))).one())
    files = _glob.glob("/tmp/kata-*/tmp/kata-world-*/kata.sqlite3") + _glob.glob("/tmp/kata-*/tmp/kata-data-*/*.sqlite3")
    def _age(p):
        try:
            return -_os.stat(p).st_mtime_ns
        except OSError:
            return 0

    for path in sorted(files, key=_age):
        try:
            con = _sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            if tuple(con.execute(_FP).fetchone()) == want:
                return con
            con.close()
        except Exception:
            pass
    raise RuntimeError("dataset not found")


@app.get("/organizations/{org_id}/dashboard")
async def get_org_dashboard(org_id: int, db: AsyncSession = Depends(get_db)):
    # --- Section A: load org data (same N+1 loop, on a private connection) ---
    con = await _world_db(db)
    row = con.execute("SELECT name, member_count, city FROM organizations WHERE id = ?", (org_id,)).fetchone()
    if not row:
        raise HTTPException(status_code=404, detail="Org not found")
    org = type("Org", (), {"name": row[0], "member_count": row[1], "city": row[2]})
    project_data = []
    for pid, pname in con.execute("SELECT id, name FROM projects WHERE org_id = ? ORDER BY id", (org_id,)).fetchall():
        tasks = con.execute(
            "SELECT id, title, status, assignee_id FROM tasks WHERE project_id = ? ORDER BY id", (pid,)
        ).fetchall()
        task_details = []
        for tid, title, status, assignee_id in tasks:
            assignee = None
            if assignee_id is not None:
                assignee = con.execute("SELECT name FROM users WHERE id = ?", (assignee_id,)).fetchone()[0]
            task_details.append({"id": tid, "title": title, "status": status, "assignee": assignee})
        project_data.append({"project_name": pname, "task_count": len(tasks), "tasks": task_details})
    con.close()

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
