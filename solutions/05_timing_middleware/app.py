"""Organizations API, observable: every request is timed and logged once.

A middleware times each request with ``time.perf_counter()``, puts the result
in an ``X-Process-Time-Ms`` header and writes one structured (JSON) log line:
method, path, status, duration_ms and a ``slow`` flag. An exception raised by
an endpoint comes out of ``call_next``: the middleware catches it, logs it
with its traceback and returns the 500 itself, so that response is timed and
logged like any other. The endpoints are unchanged.
"""

import sys
import time
from dataclasses import dataclass

import httpx
import structlog
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
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

# One JSON object per line, on stderr.
structlog.configure(
    processors=[
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(),
    ],
    logger_factory=structlog.PrintLoggerFactory(sys.stderr),
)
logger = structlog.get_logger()


app = FastAPI(title="Organizations API")


@app.middleware("http")
async def time_and_log_requests(request: Request, call_next) -> Response:
    start = time.perf_counter()
    failed: Exception | None = None
    try:
        response = await call_next(request)
    except Exception as exc:
        # The endpoint raised: it comes out of call_next, and nothing after it
        # would run. Answer the 500 here, so it is timed and logged too.
        response = PlainTextResponse("Internal Server Error", status_code=500)
        failed = exc
    duration_ms = (time.perf_counter() - start) * 1000

    response.headers["X-Process-Time-Ms"] = f"{duration_ms:.2f}"
    fields = {
        "method": request.method,
        "path": request.url.path,
        "status": response.status_code,
        "duration_ms": round(duration_ms, 2),
        "slow": duration_ms > settings.slow_request_ms,
    }
    if failed is None:
        await logger.ainfo("request_completed", **fields)
    else:
        await logger.aerror("request_failed", exc_info=failed, **fields)
    return response


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
