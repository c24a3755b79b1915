"""Organization home page: three partner APIs, and any one of them can take it down.

Run it:    kata serve 03      (then open http://127.0.0.1:8000/organizations/1/home)
Measure:   kata profile 03
Grade:     kata check 03
"""

from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from harness.db import get_db
from harness.models import Organization


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(timeout=None) as client:
        app.state.http = client
        yield


app = FastAPI(title="Home", lifespan=lifespan)


def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http


async def fetch_json(client: httpx.AsyncClient, url: str, **params: str) -> dict:
    response = await client.get(url, params=params)
    response.raise_for_status()
    return response.json()


@app.get("/organizations/{org_id}/home")
async def get_org_home(
    org_id: int,
    db: AsyncSession = Depends(get_db),
    http: httpx.AsyncClient = Depends(get_http),
):
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    analytics = await fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary")
    weather = await fetch_json(http, "https://api.weather.example.com/current", city=org.city)
    subscription = await fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription")

    return {
        "organization": org.name,
        "analytics": analytics,
        "weather": weather,
        "subscription": subscription,
        "degraded": [],  # the parts that could not be loaded, by name
    }
