"""Organization home page, fixed: three calls at once, each allowed to fail alone.

Every call has a timeout (0.5 s, on the shared client), the three run
concurrently with ``asyncio.gather(..., return_exceptions=True)``, and a part
that failed or timed out becomes ``null`` and is listed in ``degraded``. The
page still answers 200 with whatever did load.
"""

import asyncio
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from harness.db import get_db
from harness.models import Organization

# Healthy calls take 190-320 ms; a partner slower than this is treated as down.
PARTNER_TIMEOUT = httpx.Timeout(0.5)


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(timeout=PARTNER_TIMEOUT) as client:
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

    names = ("analytics", "weather", "subscription")
    results = await asyncio.gather(
        fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),
        fetch_json(http, "https://api.weather.example.com/current", city=org.city),
        fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription"),
        return_exceptions=True,  # a failed call comes back as its exception, the others still count
    )

    parts: dict[str, dict | None] = {}
    for name, result in zip(names, results, strict=True):
        if isinstance(result, httpx.HTTPError):  # an error status, a timeout, a refused connection
            parts[name] = None
        elif isinstance(result, BaseException):
            raise result  # a bug in our own code is not a partner outage: let it surface
        else:
            parts[name] = result

    return {
        "organization": org.name,
        **parts,
        "degraded": sorted(name for name, part in parts.items() if part is None),
    }
