"""Organization dashboard, twice, with a per-request query profiler.

Cursor listeners on the engine count and time every SQL statement into the
current request's ``QueryStats``. A middleware creates a fresh ``QueryStats``
for each request and makes it current through a ContextVar, then reports it:
``X-Query-Count`` and ``X-Query-Time-Ms`` on every response, and one warning
log line, naming the most repeated query, when a request runs too many.
"""

import re
import time
from collections import Counter
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import structlog
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.clock import block
from harness.db import engine, get_db
from harness.models import Organization, Project, Task, User

logger = structlog.get_logger()


@dataclass(frozen=True)
class Settings:
    # More queries than this in one request is worth a warning in the logs.
    query_warning_threshold: int = 10


settings = Settings()


# --- the query profiler -------------------------------------------------------

_LITERAL = re.compile(r"'(?:[^']|'')*'|(?<![\w.])-?\d+(?:\.\d+)?\b")
_IN_LIST = re.compile(r"\bIN \(\?(?:, \?)*\)", re.IGNORECASE)


def normalise(statement: str) -> str:
    """The query's shape: one line, values as ?, IN-lists of any length alike."""
    shape = _LITERAL.sub("?", " ".join(statement.split()))
    return _IN_LIST.sub("IN (...)", shape)


@dataclass
class QueryStats:
    """The queries of ONE request."""

    count: int = 0
    total_ms: float = 0.0
    shapes: Counter[str] = field(default_factory=Counter)

    def record(self, statement: str, duration_ms: float) -> None:
        self.count += 1
        self.total_ms += duration_ms
        self.shapes[normalise(statement)] += 1

    def most_repeated(self) -> tuple[str, int]:
        return self.shapes.most_common(1)[0]


# No shared default: the middleware sets a fresh QueryStats for every request.
current_query_stats: ContextVar[QueryStats | None] = ContextVar("current_query_stats", default=None)


def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
    conn.info["query_started"] = time.perf_counter()


def after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
    started = conn.info.pop("query_started", None)
    stats = current_query_stats.get()
    if stats is not None and started is not None:
        stats.record(statement, (time.perf_counter() - started) * 1000)


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Cursor events live on the sync engine under the async one. Attach them at
    # startup: the engine exists only once the app runs.
    sync_engine = engine().sync_engine
    event.listen(sync_engine, "before_cursor_execute", before_cursor_execute)
    event.listen(sync_engine, "after_cursor_execute", after_cursor_execute)
    yield
    event.remove(sync_engine, "before_cursor_execute", before_cursor_execute)
    event.remove(sync_engine, "after_cursor_execute", after_cursor_execute)


app = FastAPI(title="Dashboard", lifespan=lifespan)


class QueryProfilerMiddleware:
    """Gives each request its own QueryStats, reports them in headers, warns over the threshold.

    A pure ASGI middleware: the headers go into ``http.response.start`` (the
    last moment headers can change). Unlike ``@app.middleware("http")`` it
    starts no extra task per request; with synchronous logging the
    observability stack of 05-07 costs under 10 % CPU on a one-query request
    (benchmarks/middleware_overhead.py).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        stats = QueryStats()  # this request's own, never shared
        token = current_query_stats.set(stats)

        async def send_with_stats(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Query-Count"] = str(stats.count)
                headers["X-Query-Time-Ms"] = f"{stats.total_ms:.2f}"
            await send(message)

        try:
            await self.app(scope, receive, send_with_stats)
        finally:
            current_query_stats.reset(token)
        if stats.count > settings.query_warning_threshold:
            sql, times = stats.most_repeated()
            logger.warning(
                "high_query_count",
                method=scope["method"],
                path=scope["path"],
                query_count=stats.count,
                query_time_ms=round(stats.total_ms, 2),
                threshold=settings.query_warning_threshold,
                most_repeated_sql=sql,
                most_repeated_count=times,
            )


app.add_middleware(QueryProfilerMiddleware)


# --- the endpoints (unchanged) ------------------------------------------------


def task_row(task: Task, assignee: User | None) -> dict:
    return {
        "id": task.id,
        "title": task.title,
        "status": task.status,
        "assignee": assignee.name if assignee else None,
    }


# Turning ORM objects into JSON-ready rows is the app's own work: CPU time, not
# database time. The grader's virtual clock charges CPU time only where the
# code says so: block() holds the event loop for that long, as real work would.
SECONDS_PER_TASK = 0.0001


def project_row(project: Project, tasks: list[dict]) -> dict:
    block(SECONDS_PER_TASK * len(tasks))
    return {"project_name": project.name, "task_count": len(tasks), "tasks": tasks}


@app.get("/organizations/{org_id}/dashboard")
async def get_org_dashboard(org_id: int, db: AsyncSession = Depends(get_db)):
    """The version that shipped first: one query per project, one per task."""
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    result = await db.execute(select(Project).where(Project.org_id == org_id).order_by(Project.id))
    project_data = []
    for project in result.scalars().all():
        tasks_stmt = select(Task).where(Task.project_id == project.id).order_by(Task.id)
        tasks = (await db.execute(tasks_stmt)).scalars().all()
        task_details = []
        for task in tasks:
            assignee = None
            if task.assignee_id is not None:
                assignee = await db.scalar(select(User).where(User.id == task.assignee_id))
            task_details.append(task_row(task, assignee))
        project_data.append(project_row(project, task_details))

    return {"organization": org.name, "member_count": org.member_count, "projects": project_data}


@app.get("/organizations/{org_id}/dashboard/fast")
async def get_org_dashboard_fast(org_id: int, db: AsyncSession = Depends(get_db)):
    """The fixed twin: eager loading, the same number of queries at any size."""
    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    stmt = (
        select(Project)
        .where(Project.org_id == org_id)
        .order_by(Project.id)
        .options(selectinload(Project.tasks).selectinload(Task.assignee))
    )
    projects = (await db.execute(stmt)).scalars().all()
    project_data = [
        project_row(project, [task_row(task, task.assignee) for task in project.tasks]) for project in projects
    ]

    return {"organization": org.name, "member_count": org.member_count, "projects": project_data}
