"""Submissions of exercise 05 (timing middleware), as edits of its starter and solution."""

from corpus import PURE_ASGI_IMPORTS, Case, from_the_solution_as, solution_block

# The solution's middleware, whole (a case that swaps in another middleware replaces it).
SOLUTION_MIDDLEWARE = """@app.middleware("http")
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
"""

# Lecture 2.3's middleware, as printed: no try/except around call_next, the
# status logged as status_code, a second line (slow_request) above 1000 ms.
LECTURE_2_3_MIDDLEWARE = """@app.middleware("http")
async def add_timing_middleware(request: Request, call_next) -> Response:
    start_time = time.perf_counter()

    response: Response = await call_next(request)

    duration_ms = (time.perf_counter() - start_time) * 1000

    # Structured log: every field is searchable/filterable
    await logger.ainfo(
        "request_completed",
        method=request.method,
        path=request.url.path,
        status_code=response.status_code,
        duration_ms=round(duration_ms, 2),
        # Tag slow requests so they're easy to find
        slow=duration_ms > 500,
    )

    # Warn on truly slow requests
    if duration_ms > 1000:
        await logger.awarn(
            "slow_request",
            method=request.method,
            path=request.url.path,
            duration_ms=round(duration_ms, 2),
        )

    response.headers["X-Process-Time-Ms"] = f"{duration_ms:.2f}"
    return response
"""

# A pure ASGI middleware: the header goes in at http.response.start, and an
# exception that reaches it before the response started becomes the 500 here.
PURE_ASGI_MIDDLEWARE = """class TimingMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        sent = {"status": 500, "duration_ms": None}

        async def send_timed(message):
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
                sent["duration_ms"] = (time.perf_counter() - start) * 1000
                MutableHeaders(scope=message)["X-Process-Time-Ms"] = f"{sent['duration_ms']:.2f}"
            await send(message)

        failed = None
        try:
            await self.app(scope, receive, send_timed)
        except Exception as exc:
            if sent["duration_ms"] is not None:
                raise
            failed = exc
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send_timed)
        fields = {
            "method": scope["method"],
            "path": scope["path"],
            "status": sent["status"],
            "duration_ms": round(sent["duration_ms"], 2),
            "slow": sent["duration_ms"] > settings.slow_request_ms,
        }
        if failed is None:
            await logger.ainfo("request_completed", **fields)
        else:
            await logger.aerror("request_failed", exc_info=failed, **fields)


app.add_middleware(TimingMiddleware)
"""

# The try/except replaced by an exception handler for Exception. Starlette
# runs that handler in ServerErrorMiddleware, outside every user middleware.
NO_TRY = (
    """    failed: Exception | None = None
    try:
        response = await call_next(request)
    except Exception as exc:
        # The endpoint raised: it comes out of call_next, and nothing after it
        # would run. Answer the 500 here, so it is timed and logged too.
        response = PlainTextResponse("Internal Server Error", status_code=500)
        failed = exc
""",
    "    failed = None\n    response = await call_next(request)\n",
)

CASES = {
    "05_lecture_middleware": Case(
        "05",
        "solutions",
        [(SOLUTION_MIDDLEWARE, LECTURE_2_3_MIDDLEWARE)],
        {"header_on_every_response", "one_log_line_per_request", "slow_flagged"},
        "comes out of `await call_next(request)`, so the code after it never runs",
        "lecture 2.3's middleware: the endpoint's exception skips the header and the log line",
    ),
    "05_logs_twice": Case(
        "05",
        "solutions",
        [
            (
                "    start = time.perf_counter()\n",
                "    start = time.perf_counter()\n"
                '    await logger.ainfo("request_started", method=request.method, path=request.url.path)\n',
            )
        ],
        {"one_log_line_per_request"},
        "2 log lines for GET /organizations/1 (HTTP 200) ('request_started', 'request_completed')",
        "a line when the request starts and another when it ends",
    ),
    "05_slow_in_seconds": Case(
        "05",
        "solutions",
        [
            (
                '"slow": duration_ms > settings.slow_request_ms',
                '"slow": time.perf_counter() - start > settings.slow_request_ms',
            )
        ],
        {"slow_flagged"},
        "but its log line says slow=False",
        "seconds compared with a threshold in milliseconds: nothing is ever slow",
    ),
    "05_header_in_seconds": Case(
        "05",
        "solutions",
        [('f"{duration_ms:.2f}"', 'f"{duration_ms / 1000:.4f}"')],
        {"header_matches_measurement"},
        "that is the time in seconds; the header is in milliseconds",
        "X-Process-Time-Ms in seconds",
    ),
    "05_wall_clock": Case(
        "05",
        "solutions",
        [("time.perf_counter()", "time.time()")],
        {"header_matches_measurement", "one_log_line_per_request", "slow_flagged"},
        "but the grader measured 605 ms from the request reaching the app to its response going out",
        "time.time() instead of perf_counter: not the modeled clock",
    ),
    "05_traceback_lost": Case(
        "05",
        "solutions",
        [
            (
                'await logger.aerror("request_failed", exc_info=failed, **fields)',
                'await logger.aerror("request_failed", **fields)',
            )
        ],
        {"one_log_line_per_request"},
        "does not carry the exception",
        "the 500 is caught and logged, but its traceback is dropped",
    ),
    "05_rebuilt_response": Case(
        "05",
        "solutions",
        [
            (
                "    duration_ms = (time.perf_counter() - start) * 1000\n",
                "    if failed is None:  # read the body to log its size, then send it again\n"
                '        body = b"".join([chunk async for chunk in response.body_iterator])\n'
                "        response = Response(body, headers=dict(response.headers))\n"
                "    duration_ms = (time.perf_counter() - start) * 1000\n",
            )
        ],
        {"correct"},
        "returned HTTP 200, expected 404",
        "the response rebuilt without its status code: every 404 becomes a 200",
    ),
    "05_sync_logging": Case(
        "05",
        "solutions",
        [("await logger.ainfo(", "logger.info("), ("await logger.aerror(", "logger.error(")],
        set(),
        why="structlog's synchronous methods instead of ainfo/aerror: passes",
    ),
    "05_exception_handler": Case(
        "05",
        "solutions",
        [
            NO_TRY,
            (
                '@app.get("/organizations/{org_id}")\n',
                "@app.exception_handler(Exception)\n"
                "async def internal_error(request: Request, exc: Exception) -> Response:\n"
                '    return PlainTextResponse("Internal Server Error", status_code=500)\n\n\n'
                '@app.get("/organizations/{org_id}")\n',
            ),
        ],
        {"header_on_every_response", "one_log_line_per_request", "slow_flagged"},
        "comes out of `await call_next(request)`",
        "an exception handler instead of try/except: it runs outside the middleware, which still sees the exception",
    ),
    "05_pure_asgi": Case(
        "05",
        "solutions",
        [
            (SOLUTION_MIDDLEWARE, PURE_ASGI_MIDDLEWARE),
            ("import structlog\n", "import structlog\nfrom starlette.datastructures import MutableHeaders\n"),
        ],
        set(),
        why="a pure ASGI middleware instead of @app.middleware: passes",
    ),
}


# The solution ships a pure ASGI middleware; the cases above were written
# against its @app.middleware("http") version (the lecture's style).
CASES = from_the_solution_as(
    CASES,
    [
        (
            solution_block("05", "class TimingMiddleware:", "app.add_middleware(TimingMiddleware)\n"),
            SOLUTION_MIDDLEWARE,
        ),
        (
            "from fastapi import Depends, FastAPI, HTTPException\n",
            "from fastapi import Depends, FastAPI, HTTPException, Request, Response\n",
        ),
        *PURE_ASGI_IMPORTS,
    ],
)
