"""Organization overview: three partner APIs, called one after another.

Run it:    kata serve 02      (then open http://127.0.0.1:8000/organizations/1/overview)
Measure:   kata profile 02
Grade:     kata check 02
"""

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
