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


CASES = from_the_solution_as(
    CASES,
    [
        (
            solution_block("06", "class ServerTimingMiddleware:", "app.add_middleware(ServerTimingMiddleware)\n"),
            DECORATOR_SOLUTION,
        ),
        *PURE_ASGI_IMPORTS,
    ],
)
