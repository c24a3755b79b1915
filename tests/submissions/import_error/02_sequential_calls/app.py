"""02 importing a module that does not exist: must fail clearly."""

import fast_httpx_turbo  # noqa: F401
import httpx
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from harness.db import get_db
from harness.models import Organization

app = FastAPI(title="Overview")


async def fetch_json(url: str, **params: str) -> dict:
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(url, params=params)
        response.raise_for_status()
        return response.json()


@app.get("/organizations/{org_id}/overview")
async def get_org_overview(org_id: int, db: AsyncSession = Depends(get_db)):
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    analytics = await fetch_json(f"https://analytics.example.com/api/org/{org_id}/summary")
    weather = await fetch_json("https://api.weather.example.com/current", city=org.city)
    subscription = await fetch_json(f"https://billing.example.com/v1/organizations/{org_id}/subscription")

    return {
        "organization": org.name,
        "city": org.city,
        "analytics": analytics,
        "weather": weather,
        "subscription": subscription,
    }
