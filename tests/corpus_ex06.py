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
                    """    started: list[float] = []

    @event.listens_for(engine().sync_engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        started.append(time.perf_counter())

    @event.listens_for(engine().sync_engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        add_time("db", started.pop())

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
