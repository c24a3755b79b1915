"""02 whose lifespan startup raises KeyError: must fail with the reason, not crash."""

import asyncio
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from harness.db import get_db
from harness.models import Organization


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings = {}
    async with httpx.AsyncClient(timeout=settings["PARTNER_TIMEOUT"]) as client:
        app.state.http = client
        yield


app = FastAPI(title="Overview", lifespan=lifespan)


def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http


async def fetch_json(client: httpx.AsyncClient, url: str, **params: str) -> dict:
    response = await client.get(url, params=params)
    response.raise_for_status()
    return response.json()


@app.get("/organizations/{org_id}/overview")
async def get_org_overview(
    org_id: int,
    db: AsyncSession = Depends(get_db),
    http: httpx.AsyncClient = Depends(get_http),
):
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    analytics, weather, subscription = await asyncio.gather(
        fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),
        fetch_json(http, "https://api.weather.example.com/current", city=org.city),
        fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription"),
    )

    return {
        "organization": org.name,
        "city": org.city,
        "analytics": analytics,
        "weather": weather,
        "subscription": subscription,
    }
