"""An app for the load runner's tests: one endpoint per way requests queue under load.

Run in an app host (``world.serve_hosted``), as grading runs apps.
"""

import httpx
from fastapi import Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from harness import clock
from harness.db import configure_pool, get_db
from harness.models import Organization, Task

configure_pool(pool_size=2, max_overflow=0, pool_timeout=0.5)
app = FastAPI()


@app.get("/fast")
async def fast(db: AsyncSession = Depends(get_db)):
    org = await db.get(Organization, 1)
    return {"name": org.name}


@app.get("/tasks/{task_id}")
async def task(task_id: int, db: AsyncSession = Depends(get_db)):
    found = await db.get(Task, task_id)
    return {"id": found.id} if found else {"id": None}


@app.get("/blocking")
async def blocking():
    clock.block(0.2)  # CPU-bound work in an async endpoint: the whole loop waits
    return {"ok": True}


@app.get("/holds-connection")
async def holds_connection(db: AsyncSession = Depends(get_db)):
    await db.execute(select(Organization.id))  # the session now holds a connection...
    async with httpx.AsyncClient() as client:  # ...across a 190 ms partner call
        response = await client.get("https://billing.example.com/v1/organizations/1/subscription")
    return {"plan": response.json().get("plan")}


@app.get("/billing")
async def billing():
    async with httpx.AsyncClient() as client:
        response = await client.get("https://billing.example.com/v1/organizations/1/subscription")
    return {"status": response.status_code}
