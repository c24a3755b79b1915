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

# structlog's own way to put per-request keys on every line: bound in the middleware, merged by a processor.
CONTEXTVARS_MIDDLEWARE = """@app.middleware("http")
async def time_and_log_requests(request: Request, call_next) -> Response:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(method=request.method, path=request.url.path)
    start = time.perf_counter()
    try:
        response = await call_next(request)
    except Exception:
        duration_ms = (time.perf_counter() - start) * 1000
        await logger.aexception(
            "request_failed", status=500, duration_ms=duration_ms, slow=duration_ms > settings.slow_request_ms
        )
        return PlainTextResponse(
            "Internal Server Error", status_code=500, headers={"X-Process-Time-Ms": f"{duration_ms:.2f}"}
        )
    duration_ms = (time.perf_counter() - start) * 1000
    response.headers["X-Process-Time-Ms"] = f"{duration_ms:.2f}"
    await logger.ainfo(
        "request_completed",
        status=response.status_code,
        duration_ms=duration_ms,
        slow=duration_ms > settings.slow_request_ms,
    )
    return response
"""
MERGE_CONTEXTVARS = (
    "    processors=[\n        structlog.processors.add_log_level,\n",
    "    processors=[\n        structlog.contextvars.merge_contextvars,\n        structlog.processors.add_log_level,\n",
)

# Lecture 2.3's middleware, fixed the way its README asks: try/except around call_next, status, one line,
# the threshold from settings; the 500 logged from inside the except block.
LECTURE_FIXED_MIDDLEWARE = """@app.middleware("http")
async def add_timing_middleware(request: Request, call_next) -> Response:
    start_time = time.perf_counter()
    try:
        response: Response = await call_next(request)
    except Exception:
        duration_ms = (time.perf_counter() - start_time) * 1000
        await logger.aexception(
            "request_failed",
            method=request.method,
            path=request.url.path,
            status=500,
            duration_ms=round(duration_ms, 2),
            slow=duration_ms > settings.slow_request_ms,
        )
        response = PlainTextResponse("Internal Server Error", status_code=500)
        response.headers["X-Process-Time-Ms"] = f"{duration_ms:.2f}"
        return response

    duration_ms = (time.perf_counter() - start_time) * 1000

    # Structured log: every field is searchable/filterable
    await logger.ainfo(
        "request_completed",
        method=request.method,
        path=request.url.path,
        status=response.status_code,
        duration_ms=round(duration_ms, 2),
        # Tag slow requests so they're easy to find
        slow=duration_ms > settings.slow_request_ms,
    )

    response.headers["X-Process-Time-Ms"] = f"{duration_ms:.2f}"
    return response
"""

# A BaseHTTPMiddleware subclass: what @app.middleware("http") makes, written out.
BASE_HTTP_MIDDLEWARE = """class TimingMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next) -> Response:
        start = time.perf_counter()
        failed: Exception | None = None
        try:
            response = await call_next(request)
        except Exception as exc:
            response = PlainTextResponse("Internal Server Error", status_code=500)
            failed = exc
        duration_ms = (time.perf_counter() - start) * 1000
        response.headers["X-Process-Time-Ms"] = str(round(duration_ms, 3))
        fields = {
            "method": request.method,
            "path": request.url.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "slow": duration_ms > settings.slow_request_ms,
        }
        if failed is None:
            logger.info("request_completed", **fields)
        else:
            logger.error("request_failed", exc_info=failed, **fields)
        return response


app.add_middleware(TimingMiddleware)
"""

# The start time in module state: right for one request at a time, someone else's when requests overlap.
GLOBAL_START = [
    ("settings = Settings()\n", "settings = Settings()\n_start = 0.0  # when the current request started\n"),
    (
        "    start = time.perf_counter()\n",
        "    global _start\n    _start = time.perf_counter()\n",
    ),
    (
        "    duration_ms = (time.perf_counter() - start) * 1000\n",
        "    duration_ms = (time.perf_counter() - _start) * 1000\n",
    ),
]

STRUCTLOG_CONFIG = solution_block("05", "structlog.configure(", "\n)\n")

# structlog over the stdlib's logging, rendered by structlog's console renderer (red team c_contextvar_start).
STDLIB_CONSOLE_CONFIG = """import contextvars
import logging

logging.basicConfig(format="%(message)s", stream=sys.stdout, level=logging.INFO)
structlog.configure(
    processors=[
        structlog.stdlib.filter_by_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.processors.format_exc_info,
        structlog.dev.ConsoleRenderer(colors=False),
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)
"""

CONTEXTVAR_START_MIDDLEWARE = """_request_start: contextvars.ContextVar[float] = contextvars.ContextVar("request_start")


def _elapsed_ms() -> float:
    return (time.perf_counter() - _request_start.get()) * 1000


async def _measure(request: Request, call_next):
    token = _request_start.set(time.perf_counter())
    try:
        try:
            response = await call_next(request)
        except Exception as exc:
            ms = _elapsed_ms()
            logger.error(
                "request_crashed",
                method=request.method,
                path=request.url.path,
                status=500,
                duration_ms=round(ms, 3),
                slow=ms > settings.slow_request_ms,
                exc_info=exc,
            )
            return Response(
                content="Internal Server Error",
                status_code=500,
                media_type="text/plain",
                headers={"X-Process-Time-Ms": f"{ms:.3f}"},
            )
        ms = _elapsed_ms()
        response.headers["X-Process-Time-Ms"] = f"{ms:.3f}"
        logger.info(
            "request_done",
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            duration_ms=round(ms, 3),
            slow=ms > settings.slow_request_ms,
        )
        return response
    finally:
        _request_start.reset(token)


app.middleware("http")(_measure)
"""

# A plain ASGI function as middleware (red team c_asgi_body_end): timings kept in the request's scope,
# the log's duration taken once the body has gone out.
ASGI_FUNCTION_MIDDLEWARE = """def _timing_middleware(inner):
    async def asgi(scope, receive, send):
        if scope["type"] != "http":
            return await inner(scope, receive, send)
        scope.setdefault("state", {})
        state = scope["state"]
        state["t_start"] = time.monotonic_ns()
        state["status"] = None
        state["done_ms"] = None

        def now_ms() -> float:
            return (time.monotonic_ns() - state["t_start"]) / 1e6

        async def wrapped_send(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                MutableHeaders(scope=message).append("X-Process-Time-Ms", f"{now_ms():.2f}")
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                state["done_ms"] = now_ms()

        try:
            await inner(scope, receive, wrapped_send)
        except Exception as exc:
            if state["status"] is not None:
                raise
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, wrapped_send)
            ms = state["done_ms"]
            await logger.aerror(
                "request", method=scope["method"], path=scope["path"], status=500,
                duration_ms=ms, slow=ms > settings.slow_request_ms, exc_info=exc,
            )
            return
        ms = state["done_ms"] if state["done_ms"] is not None else now_ms()
        await logger.ainfo(
            "request", method=scope["method"], path=scope["path"], status=state["status"],
            duration_ms=ms, slow=ms > settings.slow_request_ms,
        )

    return asgi


app.add_middleware(_timing_middleware)
"""

# structlog handing its events to the stdlib's logging, which renders them (ProcessorFormatter).
PROCESSOR_FORMATTER_CONFIG = """import logging

_handler = logging.StreamHandler(sys.stderr)
_handler.setFormatter(
    structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
)
logging.getLogger("orgs").addHandler(_handler)
logging.getLogger("orgs").setLevel(logging.INFO)
structlog.configure(
    processors=[
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=lambda *args: logging.getLogger("orgs"),
    wrapper_class=structlog.stdlib.BoundLogger,
)
"""

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
        "only the performance counter that lecture 2.2 times with reads that clock. The wall clock (time.time()",
        "time.time() instead of perf_counter: not the modeled clock",
    ),
    "05_process_time": Case(
        "05",
        "solutions",
        [("time.perf_counter()", "time.process_time()")],
        {"header_matches_measurement", "one_log_line_per_request", "slow_flagged"},
        "the CPU clock (time.process_time()) move with the real time the grader spent",
        "time.process_time(): the CPU time the process spent, not the time the request took",
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
    # Correct fixes the rule lets a student choose freely: every one passes everything.
    "05_contextvars_bound": Case(
        "05",
        "solutions",
        [(SOLUTION_MIDDLEWARE, CONTEXTVARS_MIDDLEWARE), MERGE_CONTEXTVARS],
        set(),
        why="method and path bound with bind_contextvars and merged by merge_contextvars, the 500 logged with "
        "aexception, duration_ms unrounded: passes",
    ),
    "05_perf_counter_ns": Case(
        "05",
        "solutions",
        [
            ("    start = time.perf_counter()\n", "    start = time.perf_counter_ns()\n"),
            (
                "    duration_ms = (time.perf_counter() - start) * 1000\n",
                "    duration_ms = (time.perf_counter_ns() - start) / 1_000_000\n",
            ),
        ],
        set(),
        why="timed with perf_counter_ns (integer nanoseconds): passes",
    ),
    "05_monotonic": Case(
        "05",
        "solutions",
        [("time.perf_counter()", "time.monotonic()")],
        set(),
        why="timed with time.monotonic(): also a clock for durations, and it reads the modeled clock: passes",
    ),
    "05_lecture_fixed": Case(
        "05",
        "solutions",
        [(SOLUTION_MIDDLEWARE, LECTURE_FIXED_MIDDLEWARE)],
        set(),
        why="lecture 2.3's @app.middleware with try/except around call_next, status, one line: passes",
    ),
    "05_base_http_middleware": Case(
        "05",
        "solutions",
        [
            (SOLUTION_MIDDLEWARE, BASE_HTTP_MIDDLEWARE),
            ("import structlog\n", "import structlog\nfrom starlette.middleware.base import BaseHTTPMiddleware\n"),
        ],
        set(),
        why="a BaseHTTPMiddleware subclass with dispatch(), synchronous logging, another number format: passes",
    ),
    "05_until_body_sent": Case(
        "05",
        "solutions",
        [
            (
                SOLUTION_MIDDLEWARE,
                PURE_ASGI_MIDDLEWARE.replace(
                    "        fields = {\n",
                    "        sent['duration_ms'] = (time.perf_counter() - start) * 1000  # the body has gone out\n"
                    "        fields = {\n",
                ),
            ),
            ("import structlog\n", "import structlog\nfrom starlette.datastructures import MutableHeaders\n"),
        ],
        set(),
        why="the log's duration taken once the body has gone out (the header's when it started): passes",
    ),
    "05_request_state": Case(
        "05",
        "solutions",
        [
            ("    start = time.perf_counter()\n", "    request.state.start = time.perf_counter()\n"),
            (
                "    duration_ms = (time.perf_counter() - start) * 1000\n",
                "    duration_ms = (time.perf_counter() - request.state.start) * 1000\n",
            ),
        ],
        set(),
        why="the start time on request.state, which is the request's own: passes",
    ),
    "05_default_structlog": Case(
        "05",
        "solutions",
        [
            (
                solution_block("05", "structlog.configure(", "\n)\n"),
                "# structlog's default configuration: a console renderer on stdout.\n",
            )
        ],
        set(),
        why="no structlog.configure: the default processors and console renderer: passes",
    ),
    # Wrong fixes: each fails the check that names what it broke.
    "05_global_start": Case(
        "05",
        "solutions",
        GLOBAL_START,
        {"overlapping_requests"},
        "timed alone, each request was right, so these requests share one value",
        "the start time in a module-level variable: the overview reports the time since the last request started",
    ),
    "05_app_state_start": Case(
        "05",
        "solutions",
        [
            ("    start = time.perf_counter()\n", "    request.app.state.start = time.perf_counter()\n"),
            (
                "    duration_ms = (time.perf_counter() - start) * 1000\n",
                "    duration_ms = (time.perf_counter() - request.app.state.start) * 1000\n",
            ),
        ],
        {"overlapping_requests"},
        "X-Process-Time-Ms: 105.00 on GET /organizations/1/overview (HTTP 200), but the grader measured 605 ms",
        "the start time on app.state: one object for every request",
    ),
    "05_shared_default_context": Case(
        "05",
        "solutions",
        [
            (
                "settings = Settings()\n",
                "settings = Settings()\n"
                "from contextvars import ContextVar\n\n"
                '_timing: ContextVar[dict] = ContextVar("timing", default={})\n',
            ),
            ("    start = time.perf_counter()\n", '    _timing.get()["start"] = time.perf_counter()\n'),
            (
                "    duration_ms = (time.perf_counter() - start) * 1000\n",
                '    duration_ms = (time.perf_counter() - _timing.get()["start"]) * 1000\n',
            ),
        ],
        {"overlapping_requests"},
        "it was sent at 0 ms while others ran (GET /organizations/2 at 100 ms",
        "a ContextVar whose default dict is one object: every request writes its start into the same dict",
    ),
    "05_start_by_path": Case(
        "05",
        "solutions",
        [
            ("settings = Settings()\n", "settings = Settings()\n_started: dict[str, float] = {}  # path -> start\n"),
            ("    start = time.perf_counter()\n", "    _started[request.url.path] = time.perf_counter()\n"),
            (
                "    duration_ms = (time.perf_counter() - start) * 1000\n",
                "    duration_ms = (time.perf_counter() - _started[request.url.path]) * 1000\n",
            ),
        ],
        {"overlapping_requests"},
        "X-Process-Time-Ms: 205.00 on GET /organizations/1/overview (HTTP 200), but the grader measured 605 ms",
        "start times in a module-level dict keyed by path: two requests for the same path share one entry",
    ),
    "05_global_bound_logger": Case(
        "05",
        "solutions",
        [
            ("logger = structlog.get_logger()\n", "logger = structlog.get_logger()\nrequest_logger = logger\n"),
            (
                "    start = time.perf_counter()\n",
                "    global request_logger\n"
                "    request_logger = logger.bind(method=request.method, path=request.url.path)\n"
                "    start = time.perf_counter()\n",
            ),
            (
                """    fields = {
        "method": request.method,
        "path": request.url.path,
        "status\"""",
                """    fields = {
        "status\"""",
            ),
            ("await logger.ainfo(", "await request_logger.ainfo("),
            ("await logger.aerror(", "await request_logger.aerror("),
        ],
        {"overlapping_requests"},
        "has path='/organizations/4', expected '/organizations/1/overview'",
        "a logger bound to the request, kept in a module variable: the next request rebinds it",
    ),
    "05_no_line_for_failures": Case(
        "05",
        "solutions",
        [
            (
                'await logger.aerror("request_failed", exc_info=failed, **fields)',
                "pass  # the 500 already says what happened",
            )
        ],
        {"one_log_line_per_request", "slow_flagged"},
        "no log line for GET /organizations/1/invoice (HTTP 500) (expected exactly one per request)",
        "the 500 gets its header but no log line: one line per request, whatever its outcome",
    ),
    "05_error_text_only": Case(
        "05",
        "solutions",
        [("exc_info=failed", "exception=str(failed)")],
        {"one_log_line_per_request"},
        "but not the exception the endpoint raised (a RuntimeError, with its type and traceback)",
        "the exception's message logged as text: no type, no traceback",
    ),
    "05_exc_info_true_after_except": Case(
        "05",
        "solutions",
        [("exc_info=failed", "exc_info=True")],
        {"one_log_line_per_request"},
        "does not carry the exception",
        "exc_info=True after the except block: no exception is being handled any more, so nothing is attached",
    ),
    "05_log_in_seconds": Case(
        "05",
        "solutions",
        [('"duration_ms": round(duration_ms, 2)', '"duration_ms": round(duration_ms / 1000, 4)')],
        {"one_log_line_per_request", "slow_flagged"},
        "that is the time in seconds; duration_ms is in milliseconds",
        "the header in milliseconds, the log line's duration_ms in seconds",
    ),
    "05_failure_kept_in_module_state": Case(
        "05",
        "solutions",
        [
            (
                "settings = Settings()\n",
                "settings = Settings()\n_failed: Exception | None = None  # the exception of the failed request\n",
            ),
            ("    failed: Exception | None = None\n", "    global _failed\n"),
            ("        failed = exc\n", "        _failed = exc\n"),
            ("    if failed is None:\n", "    if _failed is None:\n"),
            ("exc_info=failed", "exc_info=_failed"),
        ],
        {"overlapping_requests"},
        "but that request raised nothing (expected only on the 500's line): it belongs to another request",
        "the exception kept in a module variable and never cleared: every later line reports the invoice's failure",
    ),
    "05_retries_a_failure": Case(
        "05",
        "solutions",
        [
            (
                "        response = await call_next(request)\n    except Exception as exc:\n",
                "        try:\n"
                "            response = await call_next(request)\n"
                "        except Exception:  # try once more before giving up\n"
                "            response = await call_next(request)\n"
                "    except Exception as exc:\n",
            )
        ],
        {"correct"},
        "ran 2 SQL statements and called billing, billing; expected what the starter does, 1 SQL statement and "
        "called billing",
        "a failed request retried in the middleware: the endpoint's work done twice",
    ),
    # Round 2 (red team): wrong fixes that passed, and correct fixes that differ most from the ones above.
    "05_exc_info_true_console": Case(
        "05",
        "solutions",
        [
            (STRUCTLOG_CONFIG, "# structlog's default configuration: a console renderer.\n"),
            ("exc_info=failed", "exc_info=True"),
        ],
        {"one_log_line_per_request"},
        "asks for the exception being handled (True), but the line it was written as has no traceback",
        "exc_info=True after the except block, with the console renderer: the key stays on the event, but the "
        "rendered line has no traceback",
    ),
    "05_error_type_and_text": Case(
        "05",
        "solutions",
        [("exc_info=failed", 'exception=f"{type(failed).__name__}: {failed}"')],
        {"one_log_line_per_request"},
        "the error's text alone does not say where it came from",
        "the exception's type and message as the exception key: it looks like format_exc_info's, with no traceback",
    ),
    "05_exc_info_no_traceback": Case(
        "05",
        "solutions",
        [("exc_info=failed", "exc_info=(type(failed), failed, None)")],
        {"one_log_line_per_request"},
        "the error's text alone does not say where it came from",
        "exc_info as a (type, value, None) tuple: format_exc_info writes the type and message, no traceback",
    ),
    "05_exc_info_no_traceback_console": Case(
        "05",
        "solutions",
        [
            (STRUCTLOG_CONFIG, "# structlog's default configuration: a console renderer.\n"),
            ("exc_info=failed", "exc_info=(type(failed), failed, None)"),
        ],
        {"one_log_line_per_request"},
        "names the RuntimeError",
        "exc_info as a (type, value, None) tuple with the console renderer: the rendered line has no traceback",
    ),
    "05_durations_from_a_table": Case(
        "05",
        "solutions",
        [
            (
                "settings = Settings()\n",
                "settings = Settings()\n"
                "# What each route costs, from `kata profile 05`: a table instead of a clock.\n"
                '_COST_MS = {"overview": 605.0, "invoice": 195.0}\n',
            ),
            (
                "    duration_ms = (time.perf_counter() - start) * 1000\n",
                '    last = request.url.path.rsplit("/", 1)[-1]\n'
                "    duration_ms = 5.0 if response.status_code == 404 and last.isdigit() else _COST_MS.get(\n"
                '        last, 5.0 if request.url.path.startswith("/organizations/") else 0.0\n'
                "    )\n",
            ),
        ],
        {"header_matches_measurement", "one_log_line_per_request", "slow_flagged"},
        "it is what the same request said at the usual latencies, where it took 195 ms",
        "the header and duration_ms from a table of each route's modeled time, no clock: right at the usual "
        "latencies only",
    ),
    "05_slow_by_path": Case(
        "05",
        "solutions",
        [
            (
                '"slow": duration_ms > settings.slow_request_ms',
                '"slow": request.url.path.endswith("/overview") and response.status_code == 200',
            )
        ],
        {"slow_flagged"},
        "the flag follows the path, not the time this request took",
        "slow decided by the route (the overview is the slow page), not by the duration",
    ),
    "05_response_kept_per_url": Case(
        "05",
        "solutions",
        [
            (
                "settings = Settings()\n",
                "settings = Settings()\n_answers: dict[str, tuple[bytes, str]] = {}  # URL -> 200 body\n",
            ),
            (
                "    try:\n        response = await call_next(request)\n",
                "    try:\n"
                "        if str(request.url) in _answers:\n"
                "            body, media_type = _answers[str(request.url)]\n"
                "            response = Response(body, media_type=media_type)\n"
                "        else:\n"
                "            response = await call_next(request)\n"
                "            if response.status_code == 200:\n"
                '                body = b"".join([chunk async for chunk in response.body_iterator])\n'
                '                media_type = response.headers.get("content-type", "application/json")\n'
                "                _answers[str(request.url)] = (body, media_type)\n"
                "                response = Response(body, media_type=media_type)\n",
            ),
        ],
        {"correct"},
        "a request asked for a second time does its work again",
        "the middleware keeps each URL's 200 body and answers repeats from it: no queries, no partner calls, "
        "stale once the data changes",
    ),
    "05_exception_handler_reraises": Case(
        "05",
        "solutions",
        [
            NO_TRY,
            (
                '@app.get("/organizations/{org_id}")\n',
                "@app.exception_handler(Exception)\n"
                "async def internal_error(request: Request, exc: Exception) -> Response:\n"
                "    duration_ms = (time.perf_counter() - request.state.start) * 1000\n"
                "    fields = {\n"
                '        "method": request.method,\n'
                '        "path": request.url.path,\n'
                '        "status": 500,\n'
                '        "duration_ms": round(duration_ms, 2),\n'
                '        "slow": duration_ms > settings.slow_request_ms,\n'
                "    }\n"
                '    await logger.aerror("request_failed", exc_info=exc, **fields)\n'
                "    return PlainTextResponse(\n"
                '        "Internal Server Error",\n'
                "        status_code=500,\n"
                '        headers={"X-Process-Time-Ms": f"{duration_ms:.2f}"},\n'
                "    )\n\n\n"
                '@app.get("/organizations/{org_id}")\n',
            ),
            ("    start = time.perf_counter()\n", "    start = request.state.start = time.perf_counter()\n"),
        ],
        {"one_log_line_per_request"},
        "went on out of the app to the server",
        "an exception handler that logs the 500 and sets its header: Starlette still re-raises the exception to "
        "the server, which logs its traceback a second time",
    ),
    "05_stdlib_console_contextvar": Case(
        "05",
        "solutions",
        [
            (STRUCTLOG_CONFIG, STDLIB_CONSOLE_CONFIG),
            ("logger = structlog.get_logger()\n", 'logger = structlog.stdlib.get_logger("orgs.requests")\n'),
            (SOLUTION_MIDDLEWARE, CONTEXTVAR_START_MIDDLEWARE),
        ],
        set(),
        why="red team c_contextvar_start: structlog over the stdlib's logging with a console renderer, the start "
        "in a ContextVar set per request, an early return for the 500: passes",
    ),
    "05_asgi_function_until_body_end": Case(
        "05",
        "solutions",
        [
            (STRUCTLOG_CONFIG, "# structlog's default configuration: a console renderer.\n"),
            (SOLUTION_MIDDLEWARE, ASGI_FUNCTION_MIDDLEWARE),
            ("import structlog\n", "import structlog\nfrom starlette.datastructures import MutableHeaders\n"),
        ],
        set(),
        why="red team c_asgi_body_end: a plain ASGI function as middleware, monotonic_ns, timings in scope['state'], "
        "the log's duration once the body has gone out, the console renderer's traceback: passes",
    ),
    "05_processor_formatter": Case(
        "05",
        "solutions",
        [(STRUCTLOG_CONFIG, PROCESSOR_FORMATTER_CONFIG)],
        set(),
        why="structlog handing its events to the stdlib's logging (ProcessorFormatter): the grader sees the event "
        "before the stdlib writes it: passes",
    ),
    "05_dict_tracebacks": Case(
        "05",
        "solutions",
        [("structlog.processors.format_exc_info,", "structlog.processors.dict_tracebacks,")],
        set(),
        why="structured tracebacks (dict_tracebacks): the exception as a list of frames, no traceback text: passes",
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
