"""Organization pages, fixed: every response says where its time went.

A ``Server-Timing`` header (``db;dur=…, ext;dur=…, total;dur=…``, in ms) is
added by a pure ASGI middleware. The middleware creates a fresh ``timings`` dict for
each request and puts it in a ContextVar; SQLAlchemy cursor events add each
statement's time to it, httpx event hooks on the shared client add each
partner call's time. The handlers themselves are unchanged.
"""

import time
from contextlib import asynccontextmanager
from contextvars import ContextVar
from html import escape

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.clock import block
from harness.db import engine, get_db
from harness.models import Organization, Project, Task

# No default: a default dict would be ONE dict shared by every request.
request_timings: ContextVar[dict[str, float]] = ContextVar("request_timings")


def add_time(metric: str, started: float) -> None:
    """Add the milliseconds since ``started`` to this request's ``metric``."""
    timings = request_timings.get(None)
    if timings is not None:  # None outside a request, e.g. at startup
        timings[metric] += (time.perf_counter() - started) * 1000


def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
    conn.info["query_started"] = time.perf_counter()


def after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
    add_time("db", conn.info.pop("query_started"))


async def before_call(request: httpx.Request) -> None:
    request.extensions["call_started"] = time.perf_counter()


async def after_call(response: httpx.Response) -> None:
    add_time("ext", response.request.extensions["call_started"])


@asynccontextmanager
async def lifespan(app: FastAPI):
    sync_engine = engine().sync_engine  # the engine exists once the app starts
    event.listen(sync_engine, "before_cursor_execute", before_cursor_execute)
    event.listen(sync_engine, "after_cursor_execute", after_cursor_execute)
    hooks = {"request": [before_call], "response": [after_call]}
    try:
        async with httpx.AsyncClient(timeout=5.0, event_hooks=hooks) as client:
            app.state.http = client
            yield
    finally:
        event.remove(sync_engine, "before_cursor_execute", before_cursor_execute)
        event.remove(sync_engine, "after_cursor_execute", after_cursor_execute)


class ServerTimingMiddleware:
    """Pure ASGI: adds Server-Timing to the response's first message.

    It creates this request's ``timings`` holder; the handler runs in a copy of
    this context, so a ContextVar.set() made there would not be seen here, but
    changes to this dict are. Headers go out with ``http.response.start``, so
    that is where the header is added (any later is too late). Unlike
    ``@app.middleware("http")`` it starts no extra task per request, which the
    overhead benchmark (benchmarks/middleware_overhead.py) shows.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timings = {"db": 0.0, "ext": 0.0}
        token = request_timings.set(timings)
        started = time.perf_counter()

        async def send_with_timing(message: Message) -> None:
            if message["type"] == "http.response.start":
                total = (time.perf_counter() - started) * 1000
                MutableHeaders(scope=message).append(
                    "Server-Timing",
                    f'db;dur={timings["db"]:.2f};desc="Database", '
                    f'ext;dur={timings["ext"]:.2f};desc="Partner APIs", '
                    f'total;dur={total:.2f};desc="Total"',
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_timing)
        finally:
            request_timings.reset(token)


app = FastAPI(title="Organizations", lifespan=lifespan)
app.add_middleware(ServerTimingMiddleware)


def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http


async def load_org(db: AsyncSession, org_id: int) -> Organization:
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")
    return org


async def build_summary(db: AsyncSession, http: httpx.AsyncClient, org_id: int) -> dict:
    org = await load_org(db, org_id)
    projects = await db.execute(
        select(Project.name, func.count(Task.id))
        .outerjoin(Task, Task.project_id == Project.id)
        .where(Project.org_id == org_id)
        .group_by(Project.id)
        .order_by(Project.id)
    )
    statuses = await db.execute(
        select(Task.status, func.count(Task.id))
        .join(Project, Task.project_id == Project.id)
        .where(Project.org_id == org_id)
        .group_by(Task.status)
        .order_by(Task.status)
    )
    analytics = await http.get(f"https://analytics.example.com/api/org/{org_id}/summary")
    analytics.raise_for_status()
    return {
        "organization": org.name,
        "city": org.city,
        "projects": [{"name": name, "task_count": count} for name, count in projects],
        "tasks_by_status": dict(statuses.all()),
        "analytics": analytics.json(),
    }


@app.get("/organizations/{org_id}")
async def get_org(org_id: int, db: AsyncSession = Depends(get_db)):
    org = await load_org(db, org_id)
    project_count = await db.scalar(select(func.count(Project.id)).where(Project.org_id == org_id))
    return {
        "id": org.id,
        "name": org.name,
        "city": org.city,
        "member_count": org.member_count,
        "project_count": project_count,
    }


@app.get("/organizations/{org_id}/summary")
async def get_org_summary(
    org_id: int,
    db: AsyncSession = Depends(get_db),
    http: httpx.AsyncClient = Depends(get_http),
):
    return await build_summary(db, http, org_id)


# A debug page: after loading, it shows the Server-Timing metrics the browser
# received for it (DevTools -> Network -> Timing shows the same ones).
REPORT_SCRIPT = """
<script>
  window.addEventListener("load", () => {
    const [navigation] = performance.getEntriesByType("navigation");
    const metrics = (navigation ? navigation.serverTiming : []).map(
      ({ name, duration, description }) => ({ name, duration, description })
    );
    document.getElementById("server-timing").textContent = JSON.stringify(metrics, null, 2);
  });
</script>
"""


# Rendering is the app's own work: CPU time, neither database nor partner API.
# The grader's virtual clock charges CPU time only where the code says so:
# block() holds the event loop for that long, as real rendering would.
RENDER_PAGE_SECONDS = 0.003
RENDER_ROW_SECONDS = 0.0005


def render_rows(projects: list[dict]) -> str:
    block(RENDER_PAGE_SECONDS + RENDER_ROW_SECONDS * len(projects))
    return "".join(f"<tr><td>{escape(p['name'])}</td><td>{p['task_count']}</td></tr>" for p in projects)


@app.get("/organizations/{org_id}/report.html", response_class=HTMLResponse)
async def get_org_report(
    org_id: int,
    db: AsyncSession = Depends(get_db),
    http: httpx.AsyncClient = Depends(get_http),
):
    summary = await build_summary(db, http, org_id)
    rows = render_rows(summary["projects"])
    analytics = summary["analytics"]
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{escape(summary["organization"])}: report</title></head>
<body>
  <h1>{escape(summary["organization"])}</h1>
  <p>{escape(summary["city"])} &middot; {analytics["active_users_7d"]} active users this week</p>
  <table>
    <tr><th>Project</th><th>Tasks</th></tr>
    {rows}
  </table>
  <h2>Server-Timing</h2>
  <pre id="server-timing">(loading)</pre>
  {REPORT_SCRIPT}
</body>
</html>
"""
