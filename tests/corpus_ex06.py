"""Bad (and one good) submissions of exercise 06, written as edits of its starter or solution."""

from corpus import PURE_ASGI_IMPORTS, Case, from_the_solution_as, solution_block

_FRESH_HOLDER = '    timings = {"db": 0.0, "ext": 0.0}\n    request_timings.set(timings)\n'

# The lecture's `ContextVar(..., default={})`, read with .get() instead of set per request.
_DEFAULT_DICT = [
    (
        'request_timings: ContextVar[dict[str, float]] = ContextVar("request_timings")',
        'request_timings: ContextVar[dict[str, float]] = ContextVar("request_timings", default={})',
    ),
    ("    timings = request_timings.get(None)\n", "    timings = request_timings.get()\n"),
    (
        "        timings[metric] += (time.perf_counter() - started) * 1000",
        "        timings[metric] = timings.get(metric, 0.0) + (time.perf_counter() - started) * 1000",
    ),
]

_MIDDLEWARE = """@app.middleware("http")
async def server_timing(request: Request, call_next):
    # The middleware creates the holder and keeps a reference to it: the
    # handler runs in a copy of this context, so a ContextVar.set() made there
    # would not be seen here, but changes to this dict are.
    timings = {"db": 0.0, "ext": 0.0}
    request_timings.set(timings)
    started = time.perf_counter()
    response = await call_next(request)
    total = (time.perf_counter() - started) * 1000
    # call_next returned before the response was sent: headers can still change.
    response.headers["Server-Timing"] = (
        f'db;dur={timings["db"]:.2f};desc="Database", '
        f'ext;dur={timings["ext"]:.2f};desc="Partner APIs", '
        f'total;dur={total:.2f};desc="Total"'
    )
    return response
"""


def _asgi_middleware(message_type: str, add_header: str) -> str:
    """The solution's middleware as a pure ASGI class that adds the header to ``message_type``."""
    return f'''class ServerTimingMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timings = {{"db": 0.0, "ext": 0.0}}
        request_timings.set(timings)
        started = time.perf_counter()

        async def send_with_timing(message):
            if message["type"] == "{message_type}":
                total = (time.perf_counter() - started) * 1000
                value = f'db;dur={{timings["db"]:.2f}}, ext;dur={{timings["ext"]:.2f}}, total;dur={{total:.2f}}'
                {add_header}
            await send(message)

        await self.app(scope, receive, send_with_timing)


app.add_middleware(ServerTimingMiddleware)
'''


CASES = {
    "06_shared_default_dict": Case(
        "06",
        "solutions",
        [
            *_DEFAULT_DICT,
            (_FRESH_HOLDER, "    timings = request_timings.get()  # the default dict\n"),
            ('{timings["db"]:.2f}', '{timings.get("db", 0.0):.2f}'),
            ('{timings["ext"]:.2f}', '{timings.get("ext", 0.0):.2f}'),
        ],
        {"values_match_measurement", "concurrent_requests_separate"},
        "pile up across requests in one dict shared by every request",
        "ContextVar(default={}) never set per request: every request adds to the same dict",
    ),
    "06_shared_default_dict_reset": Case(
        "06",
        "solutions",
        [
            *_DEFAULT_DICT,
            (
                _FRESH_HOLDER,
                "    timings = request_timings.get()  # the default dict\n    timings.update(db=0.0, ext=0.0)\n",
            ),
        ],
        {"concurrent_requests_separate"},
        "the two requests shared one timings holder, so their numbers mixed",
        "the shared default dict 'reset' per request: right one at a time, mixed under concurrency",
    ),
    "06_set_in_handler": Case(
        "06",
        "solutions",
        [
            (
                _FRESH_HOLDER + "    started = time.perf_counter()\n    response = await call_next(request)\n",
                "    started = time.perf_counter()\n    response = await call_next(request)\n"
                '    timings = request_timings.get({"db": 0.0, "ext": 0.0})  # set by the handler\n',
            ),
            (
                "    org = await load_org(db, org_id)\n    project_count",
                '    request_timings.set({"db": 0.0, "ext": 0.0})\n'
                "    org = await load_org(db, org_id)\n    project_count",
            ),
            (
                "    return await build_summary(db, http, org_id)\n",
                '    request_timings.set({"db": 0.0, "ext": 0.0})\n    return await build_summary(db, http, org_id)\n',
            ),
            (
                "    summary = await build_summary(db, http, org_id)\n",
                '    request_timings.set({"db": 0.0, "ext": 0.0})\n'
                "    summary = await build_summary(db, http, org_id)\n",
            ),
        ],
        {"values_match_measurement", "concurrent_requests_separate"},
        "the middleware never saw the time recorded for this request",
        "the handler sets the ContextVar; the middleware reads it after call_next and sees nothing",
    ),
    "06_header_at_body": Case(
        "06",
        "solutions",
        [
            (
                _MIDDLEWARE,
                _asgi_middleware(
                    "http.response.body",
                    'message.setdefault("headers", []).append((b"server-timing", value.encode()))  # too late',
                ),
            )
        ],
        {"header_present_and_parses", "values_match_measurement", "concurrent_requests_separate"},
        "no Server-Timing header on GET /organizations/1 (HTTP 200) among the response headers",
        "pure ASGI middleware adding the header with the body, after the headers went out",
    ),
    "06_pure_asgi_at_start": Case(
        "06",
        "solutions",
        [
            (
                _MIDDLEWARE,
                _asgi_middleware(
                    "http.response.start",
                    'message["headers"] = [*message.get("headers", []), (b"server-timing", value.encode())]',
                ),
            )
        ],
        set(),
        why="pure ASGI middleware adding the header to http.response.start: passes",
    ),
    "06_estimated_header": Case(
        "06",
        "solutions",
        [
            (
                """    response.headers["Server-Timing"] = (
        f'db;dur={timings["db"]:.2f};desc="Database", '
        f'ext;dur={timings["ext"]:.2f};desc="Partner APIs", '
        f'total;dur={total:.2f};desc="Total"'
    )
""",
                """    # 5 ms per statement, 280 ms for analytics: the numbers from kata profile
    db, ext = (15, 280) if request.url.path.endswith(("/summary", "/report.html")) else (10, 0)
    response.headers["Server-Timing"] = f"db;dur={db}, ext;dur={ext}, total;dur={db + ext}"
""",
            )
        ],
        {"values_match_measurement", "concurrent_requests_separate"},
        "per analytics call, not the usual 5 and 280 ms",
        "durations written down from `kata profile` instead of measured",
    ),
    "06_headers_replaced": Case(
        "06",
        "solutions",
        [
            (
                _MIDDLEWARE,
                _asgi_middleware(
                    "http.response.start",
                    'message["headers"] = [(b"server-timing", value.encode())]  # drops Content-Type',
                ),
            )
        ],
        {"correct"},
        "is no longer an HTML page (Content-Type: none)",
        "the ASGI middleware replaces the response headers instead of adding one",
    ),
}


# The solution ships a pure ASGI middleware; the cases above were written
# against the @app.middleware("http") version (the lecture's style), so each
# case built from the solution first turns it back into that version.
DECORATOR_SOLUTION = """app = FastAPI(title="Organizations", lifespan=lifespan)


@app.middleware("http")
async def server_timing(request: Request, call_next):
    # The middleware creates the holder and keeps a reference to it: the
    # handler runs in a copy of this context, so a ContextVar.set() made there
    # would not be seen here, but changes to this dict are.
    timings = {"db": 0.0, "ext": 0.0}
    request_timings.set(timings)
    started = time.perf_counter()
    response = await call_next(request)
    total = (time.perf_counter() - started) * 1000
    # call_next returned before the response was sent: headers can still change.
    response.headers["Server-Timing"] = (
        f'db;dur={timings["db"]:.2f};desc="Database", '
        f'ext;dur={timings["ext"]:.2f};desc="Partner APIs", '
        f'total;dur={total:.2f};desc="Total"'
    )
    return response
"""


AS_DECORATOR = [
    (
        solution_block("06", "class ServerTimingMiddleware:", "app.add_middleware(ServerTimingMiddleware)\n"),
        DECORATOR_SOLUTION,
    ),
    *PURE_ASGI_IMPORTS,
]

CASES = from_the_solution_as(CASES, AS_DECORATOR)

CASES["06_decorator_middleware"] = Case(
    "06",
    "solutions",
    AS_DECORATOR,
    set(),
    why="the lecture's @app.middleware('http') version of the solution: passes",
)


# --- written against the shipped solution (pure ASGI) ---------------------------

_TOTAL = "                    f'total;dur={total:.2f};desc=\"Total\"',"
_AFTER_CURSOR = """def after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
    add_time("db", conn.info.pop("query_started"))
"""
_AFTER_CALL = """async def after_call(response: httpx.Response) -> None:
    add_time("ext", response.request.extensions["call_started"])
"""

CASES.update(
    {
        # Wrong: numbers that are right only by accident.
        "06_total_is_sum": Case(
            "06",
            "solutions",
            [(_TOTAL, '                    f\'total;dur={timings["db"] + timings["ext"]:.2f};desc="Total"\',')],
            {"values_match_measurement"},
            "Your total is your db + ext",
            "total written as db + ext: misses the app's own work (rendering the report page)",
        ),
        "06_db_from_count": Case(
            "06",
            "solutions",
            [
                (
                    _AFTER_CURSOR,
                    """def after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
    conn.info.pop("query_started")
    timings = request_timings.get(None)
    if timings is not None:
        timings["db"] += 6.5  # the per-statement latency the README gives for the check world
""",
                )
            ],
            {"values_match_measurement", "concurrent_requests_separate"},
            "statements vary from one to the next",
            "db as statements counted x the check world's latency: an estimate, not a measurement",
        ),
        "06_ext_constant": Case(
            "06",
            "solutions",
            [
                (
                    _AFTER_CALL,
                    """async def after_call(response: httpx.Response) -> None:
    request_timings.get()["ext"] += 320.0  # what one analytics call costs in the check world
""",
                )
            ],
            {"values_match_measurement"},
            "reported ext;dur=320 but its partner calls took",
            "ext as a constant per partner call: hard-coded, not measured",
        ),
        "06_wall_clock_total": Case(
            "06",
            "solutions",
            [
                ("        started = time.perf_counter()\n", "        started = time.time()  # the wall clock\n"),
                (
                    "                total = (time.perf_counter() - started) * 1000\n",
                    "                total = (time.time() - started) * 1000\n",
                ),
            ],
            {"values_match_measurement", "concurrent_requests_separate"},
            "time.time() and datetime.now() read the wall clock",
            "total timed with time.time(): the wall clock, which the modeled time of the request does not move",
        ),
        # Right, written otherwise: pass.
        "06_loop_time_dataclass_holder": Case(
            "06",
            "solutions",
            [
                ("import time\n", "import asyncio\nfrom dataclasses import dataclass\n"),
                ("time.perf_counter()", "asyncio.get_running_loop().time()"),
                (
                    'request_timings: ContextVar[dict[str, float]] = ContextVar("request_timings")',
                    "@dataclass\nclass Timings:\n    db: float = 0.0\n    ext: float = 0.0\n\n\n"
                    'request_timings: ContextVar[Timings] = ContextVar("request_timings")',
                ),
                (
                    "        timings[metric] += (asyncio.get_running_loop().time() - started) * 1000",
                    "        elapsed = (asyncio.get_running_loop().time() - started) * 1000\n"
                    "        setattr(timings, metric, getattr(timings, metric) + elapsed)",
                ),
                ('        timings = {"db": 0.0, "ext": 0.0}\n', "        timings = Timings()\n"),
                ('timings["db"]', "timings.db"),
                ('timings["ext"]', "timings.ext"),
            ],
            set(),
            why="a dataclass holder and the event loop's clock instead of a dict and time.perf_counter(): passes",
        ),
        "06_wrapper_and_listens_for": Case(
            "06",
            "solutions",
            [
                (
                    """    sync_engine = engine().sync_engine  # the engine exists once the app starts
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
""",
                    """    started: dict[int, float] = {}  # by statement: concurrent requests overlap

    @event.listens_for(engine().sync_engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        started[id(context)] = time.perf_counter()

    @event.listens_for(engine().sync_engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        add_time("db", started.pop(id(context)))

    async with httpx.AsyncClient(timeout=5.0) as client:
        app.state.http = client
        yield


async def timed_get(http: httpx.AsyncClient, url: str) -> httpx.Response:
    started = time.perf_counter()
    try:
        return await http.get(url)
    finally:
        add_time("ext", started)
""",
                ),
                (
                    '    analytics = await http.get(f"https://analytics.example.com/api/org/{org_id}/summary")',
                    '    analytics = await timed_get(http, f"https://analytics.example.com/api/org/{org_id}/summary")',
                ),
            ],
            set(),
            why="@event.listens_for in the lifespan and a timed wrapper around the partner call: passes",
        ),
        "06_one_header_per_metric": Case(
            "06",
            "solutions",
            [
                (
                    """                MutableHeaders(scope=message).append(
                    "Server-Timing",
                    f'db;dur={timings["db"]:.2f};desc="Database", '
                    f'ext;dur={timings["ext"]:.2f};desc="Partner APIs", '
                    f'total;dur={total:.2f};desc="Total"',
                )
""",
                    """                headers = MutableHeaders(scope=message)
                own = total - timings["db"] - timings["ext"]
                headers.append("Server-Timing", f"total;dur={total:.3f}, app;dur={own:.3f};desc=App")
                headers.append("Server-Timing", f"ext;dur={timings['ext']:.3f}")
                headers.append("Server-Timing", f"db;dur={timings['db']:.3f}")
""",
                )
            ],
            set(),
            why="one Server-Timing header line per metric, another order, an extra app metric, no desc: passes",
        ),
    }
)


# --- round 2: the red team's wrong fixes, and two of its right ones -------------

_PARTNER_CALL = """    analytics = await http.get(f"https://analytics.example.com/api/org/{org_id}/summary")
    analytics.raise_for_status()
"""
_HOLDER_LINE = 'request_timings: ContextVar[dict[str, float]] = ContextVar("request_timings")\n'
_ASGI_HOLDER = '        timings = {"db": 0.0, "ext": 0.0}\n        token = request_timings.set(timings)\n'
_SUMMARY_RESULT = """    return {
        "organization": org.name,
        "city": org.city,
        "projects": [{"name": name, "task_count": count} for name, count in projects],
        "tasks_by_status": dict(statuses.all()),
        "analytics": analytics.json(),
    }
"""
_GET_ORG_BODY = """    org = await load_org(db, org_id)
    project_count = await db.scalar(select(func.count(Project.id)).where(Project.org_id == org_id))
    return {
        "id": org.id,
        "name": org.name,
        "city": org.city,
        "member_count": org.member_count,
        "project_count": project_count,
    }
"""
_STARTER_LIFESPAN = """@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(timeout=5.0) as client:
        app.state.http = client
        yield


app = FastAPI(title="Organizations", lifespan=lifespan)


def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http
"""

CASES.update(
    {
        "06_holder_by_path": Case(
            "06",
            "solutions",
            [
                (
                    _HOLDER_LINE,
                    _HOLDER_LINE + "BY_PATH: dict[str, dict[str, float]] = {}  # this path's numbers\n"
                    'current_path: ContextVar[str] = ContextVar("current_path")\n',
                ),
                ("    timings = request_timings.get(None)\n", '    timings = BY_PATH.get(current_path.get(""))\n'),
                (
                    _ASGI_HOLDER,
                    '        BY_PATH[scope["path"]] = timings = {"db": 0.0, "ext": 0.0}\n'
                    '        current_path.set(scope["path"])\n'
                    "        token = request_timings.set(timings)\n",
                ),
            ],
            {"concurrent_requests_separate"},
            "two requests to the same path at the same time are still two requests",
            "the numbers kept in a module dict keyed by the request's path: two requests to one path share them",
        ),
        "06_header_only_on_200": Case(
            "06",
            "solutions",
            [
                (
                    '            if message["type"] == "http.response.start":\n',
                    '            if message["type"] == "http.response.start" and message["status"] == 200:\n',
                )
            ],
            {"header_present_and_parses", "values_match_measurement"},
            "a 404 as much as a 200",
            "Server-Timing only on successful responses: the 404s of the routes carry none",
        ),
        "06_cache_analytics": Case(
            "06",
            "solutions",
            [
                (_HOLDER_LINE, _HOLDER_LINE + "ANALYTICS: dict[int, dict] = {}  # the partner's answers, kept\n"),
                (
                    _PARTNER_CALL,
                    "    if org_id not in ANALYTICS:\n"
                    + "".join("    " + line + "\n" for line in _PARTNER_CALL.splitlines())
                    + "        ANALYTICS[org_id] = analytics.json()\n",
                ),
                ('        "analytics": analytics.json(),\n', '        "analytics": ANALYTICS[org_id],\n'),
            ],
            {"correct"},
            "0 analytics calls during the request",
            "the partner's answer cached per organization: a hit makes no call and reports ext 0, truthfully but stale",
        ),
        "06_precompute_at_startup": Case(
            "06",
            "solutions",
            [
                (_HOLDER_LINE, _HOLDER_LINE + "ROWS: dict[int, dict] = {}  # every organization's rows, loaded once\n"),
                ("from harness.db import engine, get_db\n", "from harness.db import active, engine, get_db\n"),
                (
                    '    hooks = {"request": [before_call], "response": [after_call]}\n',
                    "    async with active().sessionmaker() as db:\n"
                    "        for org in (await db.execute(select(Organization))).scalars().all():\n"
                    "            ROWS[org.id] = await load_rows(db, org.id)\n"
                    '    hooks = {"request": [before_call], "response": [after_call]}\n',
                ),
                (
                    "async def build_summary(db: AsyncSession, http: httpx.AsyncClient, org_id: int) -> dict:\n"
                    "    org = await load_org(db, org_id)\n",
                    "async def load_rows(db: AsyncSession, org_id: int) -> dict:\n"
                    "    org = await load_org(db, org_id)\n",
                ),
                (
                    _PARTNER_CALL + _SUMMARY_RESULT,
                    """    rows = [{"name": name, "task_count": count} for name, count in projects]
    return {
        "id": org.id,
        "name": org.name,
        "city": org.city,
        "member_count": org.member_count,
        "project_count": len(rows),
        "projects": rows,
        "tasks_by_status": dict(statuses.all()),
    }


async def build_summary(db: AsyncSession, http: httpx.AsyncClient, org_id: int) -> dict:
    rows = ROWS.get(org_id)
    if rows is None:
        raise HTTPException(status_code=404, detail="Org not found")
"""
                    + _PARTNER_CALL
                    + """    return {
        "organization": rows["name"],
        "city": rows["city"],
        "projects": rows["projects"],
        "tasks_by_status": rows["tasks_by_status"],
        "analytics": analytics.json(),
    }
""",
                ),
                (
                    _GET_ORG_BODY,
                    """    rows = ROWS.get(org_id)
    if rows is None:
        raise HTTPException(status_code=404, detail="Org not found")
    return {key: rows[key] for key in ("id", "name", "city", "member_count", "project_count")}
""",
                ),
            ],
            {"correct"},
            "ran 0 SQL statements and 0 analytics calls during the request",
            "every organization's rows loaded once at startup; requests only call the partner: stale, and db 0",
        ),
        "06_swallow_partner_error": Case(
            "06",
            "solutions",
            [
                (
                    _PARTNER_CALL,
                    """    try:
        analytics = await http.get(f"https://analytics.example.com/api/org/{org_id}/summary")
        analytics.raise_for_status()
        analytics_data = analytics.json()
    except (httpx.HTTPError, ValueError):
        analytics_data = {"active_users_7d": 0}  # keep the page up
""",
                ),
                ('        "analytics": analytics.json(),\n', '        "analytics": analytics_data,\n'),
            ],
            {"correct"},
            "answering HTTP 500 returned HTTP 200",
            "a partner failure turned into a 200 with made-up analytics: a change of behaviour (that is exercise 03)",
        ),
        "06_swallow_partner_timeout": Case(
            "06",
            "solutions",
            [
                (
                    _PARTNER_CALL,
                    """    try:
        analytics = await http.get(f"https://analytics.example.com/api/org/{org_id}/summary")
        analytics.raise_for_status()
        analytics_data = analytics.json()
    except httpx.TimeoutException:
        analytics_data = {"active_users_7d": 0}  # a slow partner should not cost the page
""",
                ),
                ('        "analytics": analytics.json(),\n', '        "analytics": analytics_data,\n'),
            ],
            {"correct"},
            "never answering returned HTTP 200",
            "only a partner that never answers is swallowed: still a change of behaviour",
        ),
        # Right, written otherwise (from the starter): pass.
        "06_transport_loop_clock_basehttp": Case(
            "06",
            "exercises",
            [
                (
                    "from contextlib import asynccontextmanager\nfrom html import escape\n",
                    "from contextlib import asynccontextmanager\nfrom contextvars import ContextVar\n"
                    "from html import escape\nfrom types import SimpleNamespace\n",
                ),
                (
                    "from sqlalchemy import func, select\n",
                    "from sqlalchemy import event, func, select\n",
                ),
                (
                    "from sqlalchemy.ext.asyncio import AsyncSession\n",
                    "from sqlalchemy.ext.asyncio import AsyncSession\n"
                    "from starlette.middleware.base import BaseHTTPMiddleware\n",
                ),
                (
                    "from harness.clock import block\nfrom harness.db import get_db\n",
                    "from harness.clock import block, now\nfrom harness.db import engine, get_db\n",
                ),
                (
                    _STARTER_LIFESPAN,
                    '''_timings: ContextVar[SimpleNamespace | None] = ContextVar("_timings", default=None)


class TimingTransport(httpx.AsyncBaseTransport):
    """Times every partner call at the transport, in seconds on the loop's clock."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = now()
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            timings = _timings.get()
            if timings is not None:
                timings.ext += now() - started

    async def aclose(self) -> None:
        await self.inner.aclose()


def on_before(conn, cursor, statement, parameters, context, executemany):
    conn.info["started"] = now()


def on_after(conn, cursor, statement, parameters, context, executemany):
    timings = _timings.get()
    if timings is not None:
        timings.db += now() - conn.info.pop("started")


@asynccontextmanager
async def lifespan(app: FastAPI):
    sync = engine().sync_engine
    event.listen(sync, "before_cursor_execute", on_before)
    event.listen(sync, "after_cursor_execute", on_after)
    try:
        transport = TimingTransport(httpx.AsyncHTTPTransport())
        async with httpx.AsyncClient(timeout=5.0, transport=transport) as client:
            app.state.http = client
            yield
    finally:
        event.remove(sync, "before_cursor_execute", on_before)
        event.remove(sync, "after_cursor_execute", on_after)


class ServerTiming(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        timings = SimpleNamespace(db=0.0, ext=0.0)
        _timings.set(timings)
        started = now()
        response = await call_next(request)
        total = now() - started
        response.headers.append("Server-Timing", f'db;dur={timings.db * 1e3:.2f};desc="Database"')
        response.headers.append("Server-Timing", f'ext;dur={timings.ext * 1e3:.2f};desc="Partner APIs"')
        response.headers.append("Server-Timing", f"total;dur={total * 1e3:.2f}")
        return response


app = FastAPI(title="Organizations", lifespan=lifespan)
app.add_middleware(ServerTiming)


def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http
''',
                ),
            ],
            set(),
            why="a BaseHTTPMiddleware subclass, harness.clock.now(), a timing httpx transport, a namespace holder, "
            "one header line per metric, seconds converted: passes",
        ),
        "06_dependency_wrapper_dispatch": Case(
            "06",
            "exercises",
            [
                (
                    "from contextlib import asynccontextmanager\n",
                    "import time\nfrom contextlib import asynccontextmanager\nfrom contextvars import ContextVar\n",
                ),
                ("from sqlalchemy import func, select\n", "from sqlalchemy import event, func, select\n"),
                (
                    "from sqlalchemy.ext.asyncio import AsyncSession\n",
                    "from sqlalchemy.ext.asyncio import AsyncSession\nfrom starlette.middleware import Middleware\n"
                    "from starlette.middleware.base import BaseHTTPMiddleware\n",
                ),
                ("from harness.db import get_db\n", "from harness.db import engine, get_db\n"),
                (
                    _STARTER_LIFESPAN,
                    '''DB, EXT = 0, 1
_holder: ContextVar[list[float]] = ContextVar("_holder")


class TimedPartner:
    """This request's view of the shared client: the same calls, each one timed into ext."""

    def __init__(self, client: httpx.AsyncClient, holder: list[float] | None):
        self._client = client
        self._holder = holder

    async def get(self, url, **kwargs) -> httpx.Response:
        started = time.perf_counter()
        try:
            return await self._client.get(url, **kwargs)
        finally:
            if self._holder is not None:
                self._holder[EXT] += time.perf_counter() - started


@asynccontextmanager
async def lifespan(app: FastAPI):
    target = engine().sync_engine
    starts: dict[int, float] = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        starts[id(context)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        began = starts.pop(id(context), None)
        holder = _holder.get(None)
        if began is not None and holder is not None:
            holder[DB] += time.perf_counter() - began

    event.listen(target, "before_cursor_execute", before)
    event.listen(target, "after_cursor_execute", after)
    client = httpx.AsyncClient(timeout=5.0)
    app.state.http = client
    try:
        yield
    finally:
        await client.aclose()


async def server_timing(request: Request, call_next):
    holder = [0.0, 0.0]
    _holder.set(holder)
    began = time.perf_counter()
    response = await call_next(request)
    total_ms = (time.perf_counter() - began) * 1000
    response.headers["server-timing"] = ", ".join(
        [
            f"total;dur={total_ms:.3f}",
            f"db;dur={holder[DB] * 1000:.3f}",
            f"ext;dur={holder[EXT] * 1000:.3f}",
            f'app;dur={max(total_ms - (holder[DB] + holder[EXT]) * 1000, 0):.3f};desc="App code"',
        ]
    )
    return response


app = FastAPI(
    title="Organizations",
    lifespan=lifespan,
    middleware=[Middleware(BaseHTTPMiddleware, dispatch=server_timing)],
)


def get_http(request: Request) -> TimedPartner:
    return TimedPartner(request.app.state.http, _holder.get(None))
''',
                ),
                (
                    "async def build_summary(db: AsyncSession, http: httpx.AsyncClient, org_id: int) -> dict:",
                    "async def build_summary(db: AsyncSession, http: TimedPartner, org_id: int) -> dict:",
                ),
            ],
            set(),
            why="a dispatch function in FastAPI(middleware=...), a list holder, the partner timed by a per-request "
            "view of the shared client handed out by the dependency, statement starts kept by cursor context: passes",
        ),
    }
)
