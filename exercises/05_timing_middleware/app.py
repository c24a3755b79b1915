"""Organizations API: "something is slow, and sometimes it breaks. Where?"

Run it:    kata serve 05      (then open http://127.0.0.1:8000/organizations/1/overview)
Measure:   kata profile 05
Grade:     kata check 05
"""

from dataclasses import dataclass

import httpx
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from harness.db import get_db
from harness.models import Organization


@dataclass(frozen=True)
class Settings:
    # Requests slower than this count as slow (see the README's task).
    slow_request_ms: float = 500.0


settings = Settings()

# Per-seat monthly prices, and tax rates per city from finance (not deployed yet).
SEAT_PRICE_EUR = {"free": 0.0, "team": 8.0, "business": 15.0, "enterprise": 30.0}
TAX_RATES: dict[str, float] = {}

app = FastAPI(title="Organizations API")


@app.get("/organizations/{org_id}")
async def get_organization(org_id: int, db: AsyncSession = Depends(get_db)):
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")
    return {"id": org.id, "name": org.name, "city": org.city, "member_count": org.member_count}


@app.get("/organizations/{org_id}/overview")
async def get_org_overview(org_id: int, db: AsyncSession = Depends(get_db)):
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    async with httpx.AsyncClient(timeout=5.0) as client:
        analytics = await client.get(f"https://analytics.example.com/api/org/{org_id}/summary")
        weather = await client.get("https://api.weather.example.com/current", params={"city": org.city})

    return {
        "organization": org.name,
        "analytics": analytics.json(),
        "weather": weather.json(),
    }


def tax_rate(city: str) -> float:
    if city not in TAX_RATES:
        raise RuntimeError(f"no tax rate configured for {city}")
    return TAX_RATES[city]


@app.get("/organizations/{org_id}/invoice")
async def get_invoice_preview(org_id: int, db: AsyncSession = Depends(get_db)):
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(f"https://billing.example.com/v1/organizations/{org_id}/subscription")
    subscription = response.json()

    net = subscription["seats"] * SEAT_PRICE_EUR[subscription["plan"]]
    return {
        "organization": org.name,
        "plan": subscription["plan"],
        "seats": subscription["seats"],
        "net_eur": net,
        "total_eur": round(net * (1 + tax_rate(org.city)), 2),
    }
