"""TaskBoard, the week-12 project: four endpoints that work, and get slow once 50 people use them.

Run it:    kata serve 14      (then open http://127.0.0.1:8000/organizations/1/dashboard)
Load it:   kata load 14       (the scenario in locustfile.py, 50 users, 60 modeled seconds)
Measure:   kata profile 14
Grade:     kata check 14
"""

from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from harness.db import engine, get_db
from harness.models import Customer, Order, Organization, Project, Task, User

# The app's schema migrations: run at startup, safe to run again.
MIGRATIONS = [
    "CREATE INDEX IF NOT EXISTS ix_orders_status ON orders (status)",
]


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with engine().begin() as conn:
        for statement in MIGRATIONS:
            await conn.exec_driver_sql(statement)
    yield


app = FastAPI(title="TaskBoard", lifespan=lifespan)


async def fetch_json(url: str, **params: str) -> dict:
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(url, params=params)
        response.raise_for_status()
        return response.json()


@app.get("/organizations/{org_id}/dashboard")
async def get_dashboard(org_id: int, db: AsyncSession = Depends(get_db)):
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    projects = (await db.scalars(select(Project).where(Project.org_id == org_id).order_by(Project.id))).all()
    project_data = []
    for project in projects:
        tasks = (await db.scalars(select(Task).where(Task.project_id == project.id).order_by(Task.id))).all()
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
        project_data.append({"project_name": project.name, "task_count": len(tasks), "tasks": task_details})

    analytics = await fetch_json(f"https://analytics.example.com/api/org/{org_id}/summary")
    weather = await fetch_json("https://api.weather.example.com/current", city=org.city)
    return {
        "organization": org.name,
        "member_count": org.member_count,
        "projects": project_data,
        "analytics": analytics,
        "weather": weather,
    }


@app.get("/organizations/{org_id}/tasks/export")
async def export_tasks(org_id: int, db: AsyncSession = Depends(get_db)):
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    assignee = aliased(User)
    rows = await db.execute(
        select(Task, Project.name, assignee.name)
        .join(Project, Task.project_id == Project.id)
        .outerjoin(assignee, Task.assignee_id == assignee.id)
        .where(Project.org_id == org_id)
        .order_by(Task.id)
    )
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


@app.get("/organizations/{org_id}/subscription")
async def get_subscription(org_id: int, db: AsyncSession = Depends(get_db)):
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    # Billing's official SDK is synchronous: this is what it does inside.
    with httpx.Client(timeout=5.0) as billing:
        response = billing.get(f"https://billing.example.com/v1/organizations/{org_id}/subscription")
    response.raise_for_status()
    return {"organization": org.name, "subscription": response.json()}


@app.get("/customers/lookup")
async def lookup_customer(email: str, db: AsyncSession = Depends(get_db)):
    # People type their address however they like: match it case-insensitively.
    customer = await db.scalar(select(Customer).where(func.lower(Customer.email) == email.lower()))
    if customer is None:
        raise HTTPException(status_code=404, detail="Customer not found")

    orders = await db.scalars(
        select(Order)
        .where(Order.customer_id == customer.id)
        .order_by(Order.placed_on.desc(), Order.id.desc())
        .limit(10)
    )
    return {
        "customer": {"id": customer.id, "name": customer.name, "email": customer.email, "country": customer.country},
        "recent_orders": [
            {"id": o.id, "placed_on": o.placed_on.isoformat(), "status": o.status, "total_cents": o.total_cents}
            for o in orders
        ],
    }
