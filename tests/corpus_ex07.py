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


CASES = from_the_solution_as(
    CASES,
    [
        (
            solution_block("07", "class QueryProfilerMiddleware:", "app.add_middleware(QueryProfilerMiddleware)\n"),
            DECORATOR_MIDDLEWARE,
        ),
        (
            "from fastapi import Depends, FastAPI, HTTPException\n",
            "from fastapi import Depends, FastAPI, HTTPException, Request\n",
        ),
        *PURE_ASGI_IMPORTS,
    ],
)
