"""Project pages and a billing panel: the billing vendor's SDK is synchronous.

Run it:    kata serve 11      (then open http://127.0.0.1:8000/projects/1)
Measure:   kata profile 11, then kata load 11 (50 users)
Grade:     kata check 11
"""

import httpx
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

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
    subscription = get_subscription(org.id)
    return {"organization": org.name, "subscription": subscription}
