"""Project pages and a billing panel, fixed: the synchronous SDK call runs in a worker thread.

The billing vendor's SDK blocks (a synchronous ``httpx.Client``). Called from an
``async def`` endpoint it held the event loop for the whole call (190 ms), and
every other request, the one-query project page too, waited behind it. Handed
to the thread pool with ``run_in_threadpool``, the call waits in its own thread
while the loop serves everyone else. The SDK and the response are unchanged.
"""

import httpx
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from harness.db import get_db
from harness.models import Organization, Project

app = FastAPI(title="Projects and billing")


# --- billing_sdk: the vendor's Python SDK (v1), pasted in as it ships --------------------------
BILLING_API = "https://billing.example.com/v1"


def get_subscription(org_id: int) -> dict:
    """The organization's subscription, from the billing vendor (about 190 ms)."""
    with httpx.Client(base_url=BILLING_API, timeout=5.0) as client:
        response = client.get(f"/organizations/{org_id}/subscription")
        response.raise_for_status()
        return response.json()


# --- the API ------------------------------------------------------------------------------------


async def get_organization(org_id: int, db: AsyncSession = Depends(get_db)) -> Organization:
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")
    return org


@app.get("/projects/{project_id}")
async def get_project(project_id: int, db: AsyncSession = Depends(get_db)):
    project = await db.get(Project, project_id)
    if not project:
        raise HTTPException(status_code=404, detail="Project not found")
    return {"id": project.id, "name": project.name, "org_id": project.org_id}


@app.get("/organizations/{org_id}/billing")
async def get_billing(org: Organization = Depends(get_organization)):
    # A blocking call: in a worker thread it holds that thread only, never the event loop.
    subscription = await run_in_threadpool(get_subscription, org.id)
    return {"organization": org.name, "subscription": subscription}
