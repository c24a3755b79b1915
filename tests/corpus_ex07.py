"""Bad (and one good) submissions of exercise 07, as edits of the starter or the solution."""

from corpus import PURE_ASGI_IMPORTS, Case, from_the_solution_as, solution_block

_PER_REQUEST = """    stats = QueryStats()  # this request's own, never shared
    token = current_query_stats.set(stats)
    try:
        response = await call_next(request)
    finally:
        current_query_stats.reset(token)
"""

_ASGI_MIDDLEWARE = '''class QueryProfilerMiddleware:
    """The same profiler as a pure ASGI middleware: it wraps `send` to add the headers."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        stats = QueryStats()
        token = current_query_stats.set(stats)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Query-Count"] = str(stats.count)
                headers["X-Query-Time-Ms"] = f"{stats.total_ms:.2f}"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            current_query_stats.reset(token)
        if stats.count > settings.query_warning_threshold:
            sql, times = stats.most_repeated()
            await logger.awarning(
                "high_query_count", path=scope["path"], query_count=stats.count, sql=sql, times=times
            )


app.add_middleware(QueryProfilerMiddleware)


async def profile_queries(request: Request, call_next):  # the old middleware, no longer registered
'''

CASES = {
    "07_global_counter": Case(
        "07",
        "solutions",
        [
            (
                'current_query_stats: ContextVar[QueryStats | None] = ContextVar("current_query_stats", default=None)',
                "request_stats = QueryStats()  # one for the app; the middleware resets it for each request",
            ),
            ("    stats = current_query_stats.get()\n", "    stats = request_stats\n"),
            (
                _PER_REQUEST,
                "    stats = request_stats\n"
                "    stats.count, stats.total_ms = 0, 0.0  # a fresh start for this request\n"
                "    stats.shapes.clear()\n"
                "    response = await call_next(request)\n",
            ),
        ],
        {"concurrent_requests_separate"},
        "two requests served at the same time mix their counts",
        "the lecture's 'state the middleware resets': right one request at a time, wrong under concurrency",
    ),
    "07_shared_default": Case(
        "07",
        "solutions",
        [
            (
                'ContextVar("current_query_stats", default=None)',
                'ContextVar("current_query_stats", default=QueryStats())',
            ),
            (
                _PER_REQUEST,
                "    stats = current_query_stats.get()  # the default: the same object for every request\n"
                "    response = await call_next(request)\n",
            ),
        ],
        {"count_matches", "time_matches", "concurrent_requests_separate"},
        "plus the 27 of the requests before it",
        "ContextVar(default=QueryStats()): one object shared by every request, counts pile up",
    ),
    "07_warns_always": Case(
        "07",
        "solutions",
        [("    if stats.count > settings.query_warning_threshold:\n", "    if stats.count:\n")],
        {"warns_only_when_it_should"},
        "Warn only above the threshold",
        "the alarm rings on every request that touches the database",
    ),
    "07_listener_once": Case(
        "07",
        "solutions",
        [
            (
                '    event.listen(sync_engine, "after_cursor_execute", after_cursor_execute)\n',
                '    event.listen(sync_engine, "after_cursor_execute", after_cursor_execute, once=True)\n',
            )
        ],
        {"count_matches", "time_matches"},
        "but the harness counted 27 SQL statements",
        "once=True: only the first statement the app ever runs is counted",
    ),
    "07_seconds": Case(
        "07",
        "solutions",
        [('f"{stats.total_ms:.2f}"', 'f"{stats.total_ms / 1000:.4f}"')],
        {"time_matches"},
        "that is the DB time in seconds",
        "X-Query-Time-Ms in seconds",
    ),
    "07_listener_signature": Case(
        "07",
        "solutions",
        [
            (
                "def after_cursor_execute(conn, cursor, statement, parameters, context, executemany):",
                "def after_cursor_execute(conn, cursor, statement, parameters, context):",
            )
        ],
        {"correct"},
        "the app raised TypeError: after_cursor_execute() takes 5 positional arguments but 6 were given",
        "a listener with the wrong signature breaks every query: HTTP 500",
    ),
    "07_pure_asgi": Case(
        "07",
        "solutions",
        [
            ('@app.middleware("http")\nasync def profile_queries(request: Request, call_next):\n', _ASGI_MIDDLEWARE),
            (
                "from sqlalchemy import event",
                "from starlette.datastructures import MutableHeaders\nfrom sqlalchemy import event",
            ),
        ],
        set(),
        why="the same profiler as a pure ASGI middleware wrapping send: passes",
    ),
}


# The solution ships a pure ASGI middleware; the cases above were written
# against its @app.middleware("http") version (the lecture's style), so each
# case built from the solution first turns it back into that version.
DECORATOR_MIDDLEWARE = """@app.middleware("http")
async def profile_queries(request: Request, call_next):
    stats = QueryStats()  # this request's own, never shared
    token = current_query_stats.set(stats)
    try:
        response = await call_next(request)
    finally:
        current_query_stats.reset(token)

    response.headers["X-Query-Count"] = str(stats.count)
    response.headers["X-Query-Time-Ms"] = f"{stats.total_ms:.2f}"
    if stats.count > settings.query_warning_threshold:
        sql, times = stats.most_repeated()
        await logger.awarning(
            "high_query_count",
            method=request.method,
            path=request.url.path,
            query_count=stats.count,
            query_time_ms=round(stats.total_ms, 2),
            threshold=settings.query_warning_threshold,
            most_repeated_sql=sql,
            most_repeated_count=times,
        )
    return response
"""


AS_DECORATOR = [
    (
        solution_block("07", "class QueryProfilerMiddleware:", "app.add_middleware(QueryProfilerMiddleware)\n"),
        DECORATOR_MIDDLEWARE,
    ),
    (
        "from fastapi import Depends, FastAPI, HTTPException\n",
        "from fastapi import Depends, FastAPI, HTTPException, Request\n",
    ),
    *PURE_ASGI_IMPORTS,
]

CASES = from_the_solution_as(CASES, AS_DECORATOR)

CASES["07_decorator_middleware"] = Case(
    "07",
    "solutions",
    AS_DECORATOR,
    set(),
    why="the lecture's @app.middleware('http') version of the solution: passes",
)


# --- written against the shipped solution (pure ASGI) ---------------------------

_TIME_HEADER = '                headers["X-Query-Time-Ms"] = f"{stats.total_ms:.2f}"\n'
_RECORD = "        stats.record(statement, (time.perf_counter() - started) * 1000)\n"

CASES.update(
    {
        # Wrong: a time that is right only by accident.
        "07_time_from_count": Case(
            "07",
            "solutions",
            [(_TIME_HEADER, '                headers["X-Query-Time-Ms"] = f"{stats.count * 5:.2f}"  # 5 ms each\n')],
            {"time_matches"},
            "an estimate from the count. It cannot match",
            "X-Query-Time-Ms as the count x 5 ms, the latency kata profile shows: an estimate",
        ),
        "07_time_is_request_time": Case(
            "07",
            "solutions",
            [
                (
                    "        stats = QueryStats()  # this request's own, never shared\n",
                    "        stats = QueryStats()  # this request's own, never shared\n"
                    "        started = time.perf_counter()\n",
                ),
                (
                    _TIME_HEADER,
                    '                headers["X-Query-Time-Ms"] = f"{(time.perf_counter() - started) * 1000:.2f}"\n',
                ),
            ],
            {"time_matches"},
            "is the whole request's time",
            "X-Query-Time-Ms as the request's duration: the app's own work counted as query time",
        ),
        "07_time_span": Case(
            "07",
            "solutions",
            [
                (
                    _RECORD,
                    "        stats.record(statement, 0.0)\n"
                    "        stats.first = getattr(stats, 'first', started)  # the first statement's start\n"
                    "        stats.total_ms = (time.perf_counter() - stats.first) * 1000\n",
                )
            ],
            {"time_matches"},
            "is the span from the first statement's start to the last one's end",
            "X-Query-Time-Ms from the first statement's start to the last one's end, not the sum of statements",
        ),
        # Right, written otherwise: pass.
        "07_context_attribute_loop_time": Case(
            "07",
            "solutions",
            [
                ("import re\nimport time\n", "import asyncio\nimport re\n"),
                (
                    '    conn.info["query_started"] = time.perf_counter()\n',
                    "    context._query_start_time = asyncio.get_running_loop().time()  # lecture 3.1\n",
                ),
                (
                    '    started = conn.info.pop("query_started", None)\n',
                    '    started = getattr(context, "_query_start_time", None)\n',
                ),
                (_RECORD, "        stats.record(statement, (asyncio.get_running_loop().time() - started) * 1000)\n"),
            ],
            set(),
            why="the start time on the execution context (lecture 3.1) and the event loop's clock: passes",
        ),
        "07_listens_for_raw_statements": Case(
            "07",
            "solutions",
            [
                (
                    """    sync_engine = engine().sync_engine
    event.listen(sync_engine, "before_cursor_execute", before_cursor_execute)
    event.listen(sync_engine, "after_cursor_execute", after_cursor_execute)
    yield
    event.remove(sync_engine, "before_cursor_execute", before_cursor_execute)
    event.remove(sync_engine, "after_cursor_execute", after_cursor_execute)
""",
                    """    starts: list[float] = []

    @event.listens_for(engine().sync_engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        starts.append(time.perf_counter())

    @event.listens_for(engine().sync_engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        started, stats = starts.pop(), current_query_stats.get()
        if stats is not None:
            stats.count += 1
            stats.total_ms += (time.perf_counter() - started) * 1000
            stats.shapes[statement] += 1  # the raw statement: values are bound as ? already

    yield
""",
                ),
                (
                    """            logger.warning(
                "high_query_count",
                method=scope["method"],
                path=scope["path"],
                query_count=stats.count,
                query_time_ms=round(stats.total_ms, 2),
                threshold=settings.query_warning_threshold,
                most_repeated_sql=sql,
                most_repeated_count=times,
            )
""",
                    """            logger.warning(f"{stats.count} queries; most repeated ({times}x): {sql}")
""",
                ),
            ],
            set(),
            why="@event.listens_for in the lifespan, raw statements counted, the warning as one f-string: passes",
        ),
        "07_perf_counter_ns": Case(
            "07",
            "solutions",
            [("time.perf_counter()", "time.perf_counter_ns() / 1e9")],
            set(),
            why="time.perf_counter_ns() instead of time.perf_counter(): passes",
        ),
    }
)
