"""TaskBoard API: the app your load test drives (you do not change it: your work is locustfile.py).

Log in with POST /auth/login, then send the token as `Authorization: Bearer <token>`.
Members: any user's e-mail (see GET /organizations/{id}/members as an admin, or use
member1@example.com ... member50@example.com) with password "testpass123".
The admin: admin@example.com with password "adminpass123".
"""

import itertools

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from harness.db import get_db
from harness.models import Organization, Project, Task, User

app = FastAPI(title="TaskBoard")

MEMBER_PASSWORD = "testpass123"
ADMIN = ("admin@example.com", "adminpass123")

_tokens: dict[str, str] = {}  # token -> role
_numbers = itertools.count(1)


class Login(BaseModel):
    email: str
    password: str


@app.get("/")
async def index() -> dict:
    return {"service": "TaskBoard", "login": "POST /auth/login"}


@app.post("/auth/login")
async def login(body: Login) -> dict:
    if (body.email, body.password) == ADMIN:
        role = "admin"
    elif body.email.endswith("@example.com") and body.password == MEMBER_PASSWORD:
        role = "member"
    else:
        raise HTTPException(401, "wrong e-mail or password")
    token = f"{role}-{next(_numbers):06d}"
    _tokens[token] = role
    return {"access_token": token, "token_type": "bearer", "role": role}


def current_role(authorization: str = Header(default="")) -> str:
    scheme, _, token = authorization.partition(" ")
    role = _tokens.get(token) if scheme.lower() == "bearer" else None
    if role is None:
        raise HTTPException(401, "log in first: send Authorization: Bearer <token>")
    return role


def admin_only(role: str = Depends(current_role)) -> str:
    if role != "admin":
        raise HTTPException(403, "admins only")
    return role


@app.get("/tasks/{task_id}")
async def task_detail(task_id: int, role: str = Depends(current_role), db: AsyncSession = Depends(get_db)) -> dict:
    task = await db.get(Task, task_id)
    if task is None:
        raise HTTPException(404, "task not found")
    return {"id": task.id, "title": task.title, "status": task.status, "project_id": task.project_id}


@app.get("/projects/{project_id}/tasks")
async def project_tasks(
    project_id: int, role: str = Depends(current_role), db: AsyncSession = Depends(get_db)
) -> list[dict]:
    tasks = (await db.execute(select(Task).where(Task.project_id == project_id).order_by(Task.id))).scalars()
    return [{"id": t.id, "title": t.title, "status": t.status} for t in tasks]


@app.get("/organizations/{org_id}/dashboard")
async def dashboard(org_id: int, role: str = Depends(admin_only), db: AsyncSession = Depends(get_db)) -> dict:
    org = await db.get(Organization, org_id)
    if org is None:
        raise HTTPException(404, "organization not found")
    counts = await db.execute(
        select(Task.status, func.count())
        .join(Project, Project.id == Task.project_id)
        .where(Project.org_id == org_id)
        .group_by(Task.status)
    )
    return {"organization": org.name, "tasks": dict(counts.all())}


@app.get("/organizations/{org_id}/members")
async def members(org_id: int, role: str = Depends(admin_only), db: AsyncSession = Depends(get_db)) -> list[dict]:
    users = (await db.execute(select(User).where(User.org_id == org_id).order_by(User.id))).scalars()
    return [{"id": u.id, "name": u.name, "email": u.email} for u in users]
