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
                    """    @event.listens_for(engine().sync_engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("starts", []).append(time.perf_counter())  # one stack per connection

    @event.listens_for(engine().sync_engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        started, stats = conn.info["starts"].pop(), current_query_stats.get()
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
            why="@event.listens_for in the lifespan, a start stack per connection, raw statements counted, the warning "
            "as one f-string: passes",
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


# --- round 2: the red team's wrong fixes (each the starter with a profiler in place of `app = ...`) ---
_RT_W1 = """
import asyncio
import time
from collections import Counter
from contextlib import asynccontextmanager

import structlog
from fastapi import Request
from sqlalchemy import event

from harness.db import engine

logger = structlog.get_logger()

STATS = {"count": 0, "ms": 0.0, "shapes": Counter(), "t0": 0.0}
_one_at_a_time = asyncio.Lock()


def _before(conn, cursor, statement, parameters, context, executemany):
    STATS["t0"] = time.perf_counter()


def _after(conn, cursor, statement, parameters, context, executemany):
    STATS["count"] += 1
    STATS["ms"] += (time.perf_counter() - STATS["t0"]) * 1000
    STATS["shapes"][" ".join(statement.split())] += 1


@asynccontextmanager
async def lifespan(app: FastAPI):
    se = engine().sync_engine
    event.listen(se, "before_cursor_execute", _before)
    event.listen(se, "after_cursor_execute", _after)
    yield


app = FastAPI(title="Dashboard", lifespan=lifespan)


@app.middleware("http")
async def profiler(request: Request, call_next):
    async with _one_at_a_time:  # the counter is global, so never let two requests overlap
        STATS.update(count=0, ms=0.0, shapes=Counter())
        response = await call_next(request)
        count, ms, shapes = STATS["count"], STATS["ms"], STATS["shapes"]
    response.headers["X-Query-Count"] = str(count)
    response.headers["X-Query-Time-Ms"] = f"{ms:.3f}"
    if count > settings.query_warning_threshold:
        sql, n = shapes.most_common(1)[0]
        await logger.awarning("too_many_queries", count=count, sql=sql, repeated=n)
    return response
"""

CASES["07_rt_global_lock_serialize"] = Case(
    "07",
    "exercises",
    [('app = FastAPI(title="Dashboard")\n', _RT_W1)],
    {"concurrent_requests_separate"},
    "The profiler made requests wait for each other",
    "one module counter and a lock around each request: right counts, because requests never overlap",
)

_RT_W2 = """
import time
from collections import Counter
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import field

import structlog
from fastapi import Request
from sqlalchemy import event

from harness.db import engine

logger = structlog.get_logger()

SHAPES: Counter[str] = Counter()  # "top queries" across the process


@dataclass
class QueryStats:
    count: int = 0
    total_ms: float = 0.0


current: ContextVar[QueryStats | None] = ContextVar("current", default=None)


def _before(conn, cursor, statement, parameters, context, executemany):
    conn.info["t0"] = time.perf_counter()


def _after(conn, cursor, statement, parameters, context, executemany):
    SHAPES[" ".join(statement.split())] += 1
    s = current.get()
    if s is not None:
        s.count += 1
        s.total_ms += (time.perf_counter() - conn.info.pop("t0")) * 1000


@asynccontextmanager
async def lifespan(app: FastAPI):
    se = engine().sync_engine
    event.listen(se, "before_cursor_execute", _before)
    event.listen(se, "after_cursor_execute", _after)
    yield


app = FastAPI(title="Dashboard", lifespan=lifespan)


@app.middleware("http")
async def profiler(request: Request, call_next):
    s = QueryStats()
    token = current.set(s)
    try:
        response = await call_next(request)
    finally:
        current.reset(token)
    response.headers["X-Query-Count"] = str(s.count)
    response.headers["X-Query-Time-Ms"] = f"{s.total_ms:.3f}"
    if s.count > settings.query_warning_threshold:
        sql, n = SHAPES.most_common(1)[0]
        await logger.awarning("too_many_queries", count=s.count, sql=sql, repeated=n)
    return response
"""

CASES["07_rt_global_shape_counter"] = Case(
    "07",
    "exercises",
    [('app = FastAPI(title="Dashboard")\n', _RT_W2)],
    {"warns_only_when_it_should"},
    "but it does not name how many times it ran (7)",
    "the repeated-query tally is module-level: the warning's count grows request after request",
)

_RT_W3 = """
import re
import time
from collections import Counter
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import field

import structlog
from fastapi import Request
from sqlalchemy import event

from harness.db import engine

logger = structlog.get_logger()


@dataclass
class QueryStats:
    count: int = 0
    total_ms: float = 0.0
    shapes: Counter = field(default_factory=Counter)
    _starts: list = field(default_factory=list)


query_stats: ContextVar[QueryStats | None] = ContextVar("query_stats", default=None)

_LITERALS = re.compile(r"'(?:''|[^'])*'|\\b\\d+\\b")


def sql_shape(statement: str) -> str:
    return _LITERALS.sub("?", " ".join(statement.split()))


@asynccontextmanager
async def lifespan(app: FastAPI):
    sync_engine = engine().sync_engine

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        stats = query_stats.get()
        if stats is not None:
            stats._starts.append(time.perf_counter())

    def after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        stats = query_stats.get()
        if stats is None or not stats._starts:
            return
        elapsed = time.perf_counter() - stats._starts.pop()
        stats.count += 1
        stats.total_ms += elapsed * 1000
        stats.shapes[sql_shape(statement)] += 1

    event.listen(sync_engine, "before_cursor_execute", before_cursor_execute)
    event.listen(sync_engine, "after_cursor_execute", after_cursor_execute)
    yield


app = FastAPI(title="Dashboard", lifespan=lifespan)


@app.middleware("http")
async def count_queries(request: Request, call_next):
    stats = QueryStats()
    token = query_stats.set(stats)
    response = await call_next(request)
    query_stats.reset(token)
    response.headers.update({"X-Query-Count": "%d" % stats.count, "X-Query-Time-Ms": "%.3f" % stats.total_ms})
    if stats.count > 5 * settings.query_warning_threshold:  # only the really bad ones
        shape, n = stats.shapes.most_common(1)[0]
        # the plain (sync) structlog method is also a structlog event
        logger.bind(path=request.url.path, query_count=stats.count).warning(
            f"{stats.count} queries; most repeated ({n}x): {shape}", sql=shape, repeated=n
        )
    return response
"""

CASES["07_rt_threshold_times_five"] = Case(
    "07",
    "exercises",
    [('app = FastAPI(title="Dashboard")\n', _RT_W3)],
    {"warns_only_when_it_should"},
    "which ran 11 statements (threshold 10); expected exactly one",
    "warns only above five times the threshold",
)

_RT_W4 = """
import time
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import field

import structlog
from fastapi import Request
from sqlalchemy import event

from harness.db import engine

logger = structlog.get_logger()


@dataclass
class QueryStats:
    count: int = 0
    total_ms: float = 0.0
    statements: list[str] = field(default_factory=list)


current: ContextVar[QueryStats | None] = ContextVar("current", default=None)


def _before(conn, cursor, statement, parameters, context, executemany):
    conn.info["t0"] = time.perf_counter()


def _after(conn, cursor, statement, parameters, context, executemany):
    s = current.get()
    if s is not None:
        s.count += 1
        s.total_ms += (time.perf_counter() - conn.info.pop("t0")) * 1000
        s.statements.append(" ".join(statement.split()))


@asynccontextmanager
async def lifespan(app: FastAPI):
    se = engine().sync_engine
    event.listen(se, "before_cursor_execute", _before)
    event.listen(se, "after_cursor_execute", _after)
    yield


app = FastAPI(title="Dashboard", lifespan=lifespan)


@app.middleware("http")
async def profiler(request: Request, call_next):
    s = QueryStats()
    token = current.set(s)
    try:
        response = await call_next(request)
    finally:
        current.reset(token)
    response.headers["X-Query-Count"] = str(s.count)
    response.headers["X-Query-Time-Ms"] = f"{s.total_ms:.3f}"
    if s.count > settings.query_warning_threshold:
        culprit = s.statements[-1]  # "the loop at the end is usually the N+1"
        await logger.awarning("too_many_queries", count=s.count, sql=culprit, repeated=s.statements.count(culprit))
    return response
"""

CASES["07_rt_last_statement_named"] = Case(
    "07",
    "exercises",
    [('app = FastAPI(title="Dashboard")\n', _RT_W4)],
    {"warns_only_when_it_should"},
    "it names SELECT tasks WHERE tasks.project_id = ?",
    "names the request's last statement, not its most repeated one",
)

_RT_W5 = """
import re
import time
from collections import Counter
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import field

import structlog
from fastapi import Request
from sqlalchemy import event

from harness.db import engine

logger = structlog.get_logger()


@dataclass
class QueryStats:
    count: int = 0
    total_ms: float = 0.0
    shapes: Counter = field(default_factory=Counter)
    _starts: list = field(default_factory=list)


query_stats: ContextVar[QueryStats | None] = ContextVar("query_stats", default=None)

_LAST_START = 0.0
_LITERALS = re.compile(r"'(?:''|[^'])*'|\\b\\d+\\b")


def sql_shape(statement: str) -> str:
    return _LITERALS.sub("?", " ".join(statement.split()))


@asynccontextmanager
async def lifespan(app: FastAPI):
    sync_engine = engine().sync_engine

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        global _LAST_START
        _LAST_START = time.perf_counter()

    def after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        stats = query_stats.get()
        if stats is None:
            return
        elapsed = time.perf_counter() - _LAST_START
        stats.count += 1
        stats.total_ms += elapsed * 1000
        stats.shapes[sql_shape(statement)] += 1

    event.listen(sync_engine, "before_cursor_execute", before_cursor_execute)
    event.listen(sync_engine, "after_cursor_execute", after_cursor_execute)
    yield


app = FastAPI(title="Dashboard", lifespan=lifespan)


@app.middleware("http")
async def count_queries(request: Request, call_next):
    stats = QueryStats()
    token = query_stats.set(stats)
    response = await call_next(request)
    query_stats.reset(token)
    response.headers.update({"X-Query-Count": "%d" % stats.count, "X-Query-Time-Ms": "%.3f" % stats.total_ms})
    if stats.count > settings.query_warning_threshold:
        shape, n = stats.shapes.most_common(1)[0]
        # the plain (sync) structlog method is also a structlog event
        logger.bind(path=request.url.path, query_count=stats.count).warning(
            f"{stats.count} queries; most repeated ({n}x): {shape}", sql=shape, repeated=n
        )
    return response
"""

CASES["07_rt_global_start_slot"] = Case(
    "07",
    "exercises",
    [('app = FastAPI(title="Dashboard")\n', _RT_W5)],
    {"concurrent_requests_separate"},
    "Right one request at a time, wrong while another request runs",
    "each statement's start in one module slot: overlapping requests overwrite it",
)

_RT_W8 = """
import time
from collections import Counter
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import field

import structlog
from fastapi import Request, Response

_CACHE: dict[str, tuple[bytes, str]] = {}
from sqlalchemy import event

from harness.db import engine

logger = structlog.get_logger()


@dataclass
class QueryStats:
    statements: list[tuple[str, int]] = field(default_factory=list)  # (sql, nanoseconds)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def total_ms(self) -> float:
        return sum(ns for _, ns in self.statements) / 1e6


current: ContextVar[QueryStats | None] = ContextVar("current", default=None)


def on_before(conn, cursor, statement, parameters, context, executemany):
    # keep the start on the execution context itself
    context._profiler_t0 = time.perf_counter_ns()


def on_after(conn, cursor, statement, parameters, context, executemany):
    stats = current.get()
    t0 = getattr(context, "_profiler_t0", None)
    if stats is None or t0 is None:
        return
    stats.statements.append((" ".join(statement.split()), time.perf_counter_ns() - t0))


@asynccontextmanager
async def lifespan(app: FastAPI):
    se = engine().sync_engine
    event.listen(se, "before_cursor_execute", on_before)
    event.listen(se, "after_cursor_execute", on_after)
    try:
        yield
    finally:
        event.remove(se, "before_cursor_execute", on_before)
        event.remove(se, "after_cursor_execute", on_after)


app = FastAPI(title="Dashboard", lifespan=lifespan)


@app.middleware("http")
async def query_profiler(request: Request, call_next):
    key = request.url.path
    stats = QueryStats()
    if key in _CACHE:
        body, ctype = _CACHE[key]
        response = Response(content=body, media_type=ctype)
    else:
        token = current.set(stats)
        try:
            response = await call_next(request)
        finally:
            current.reset(token)
        if response.status_code == 200:
            body = b"".join([chunk async for chunk in response.body_iterator])
            _CACHE[key] = (body, response.headers.get("content-type"))
            response = Response(content=body, status_code=200, media_type=response.headers.get("content-type"))
    response.headers["X-Query-Count"] = str(stats.count)
    response.headers["X-Query-Time-Ms"] = f"{stats.total_ms:.2f}"
    if stats.count > settings.query_warning_threshold:
        (sql, n), = Counter(s for s, _ in stats.statements).most_common(1)
        await logger.awarning("n_plus_one_suspect", method=request.method, path=request.url.path,
                              statement_count=stats.count, top_statement=sql, top_statement_runs=n)
    return response
"""

CASES["07_rt_response_cache"] = Case(
    "07",
    "exercises",
    [('app = FastAPI(title="Dashboard")\n', _RT_W8)],
    {"count_matches", "warns_only_when_it_should"},
    "when requested again, 27 the first time",
    "the middleware keeps 200 bodies per path: repeats run no SQL",
)

_RT_W9 = """
import time
from collections import Counter
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import field

import structlog
from fastapi import Request
from sqlalchemy import event

from harness.db import engine

logger = structlog.get_logger()


@dataclass
class QueryStats:
    statements: list[tuple[str, int]] = field(default_factory=list)  # (sql, nanoseconds)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def total_ms(self) -> float:
        return sum(ns for _, ns in self.statements) / 1e6


current: ContextVar[QueryStats | None] = ContextVar("current", default=None)


def on_before(conn, cursor, statement, parameters, context, executemany):
    # keep the start on the execution context itself
    context._profiler_t0 = time.perf_counter_ns()


def on_after(conn, cursor, statement, parameters, context, executemany):
    stats = current.get()
    t0 = getattr(context, "_profiler_t0", None)
    if stats is None or t0 is None:
        return
    stats.statements.append((" ".join(statement.split()), time.perf_counter_ns() - t0))


@asynccontextmanager
async def lifespan(app: FastAPI):
    se = engine().sync_engine
    event.listen(se, "before_cursor_execute", on_before)
    event.listen(se, "after_cursor_execute", on_after)
    try:
        yield
    finally:
        event.remove(se, "before_cursor_execute", on_before)
        event.remove(se, "after_cursor_execute", on_after)


app = FastAPI(title="Dashboard", lifespan=lifespan)


@app.middleware("http")
async def query_profiler(request: Request, call_next):
    stats = QueryStats()
    token = current.set(stats)
    try:
        response = await call_next(request)
    finally:
        current.reset(token)
    response.headers["X-Query-Count"] = str(stats.count)
    response.headers["X-Query-Time-Ms"] = f"{stats.total_ms:.2f}"
    if request.url.path.endswith("/dashboard") and response.status_code == 200:  # the known offender
        (sql, n), = Counter(s for s, _ in stats.statements).most_common(1)
        await logger.awarning("n_plus_one_suspect", method=request.method, path=request.url.path,
                              statement_count=stats.count, top_statement=sql, top_statement_runs=n)
    return response
"""

CASES["07_rt_warn_by_route"] = Case(
    "07",
    "exercises",
    [('app = FastAPI(title="Dashboard")\n', _RT_W9)],
    {"warns_only_when_it_should"},
    "/organizations/3/dashboard (the N+1 route, scale 10x8), which ran 2",
    "warns because the path is the N+1 route, not because of the count",
)

_RT_C6 = """
import time
from collections import Counter
from contextvars import ContextVar

import structlog
from fastapi import Request, Response
from sqlalchemy import event

from harness.db import engine

log = structlog.get_logger()
STATS: ContextVar[dict | None] = ContextVar("STATS", default=None)
_inflight: dict[int, float] = {}   # id(cursor) -> start; a cursor runs one statement at a time


def _before(conn, cursor, statement, parameters, context, executemany):
    _inflight[id(cursor)] = time.perf_counter()


def _after(conn, cursor, statement, parameters, context, executemany):
    t0 = _inflight.pop(id(cursor), None)
    s = STATS.get()
    if s is None or t0 is None:
        return
    s["durations"].append(time.perf_counter() - t0)
    s["sql"].append(" ".join(statement.split()))


app = FastAPI(title="Dashboard")


@app.on_event("startup")
async def _attach_profiler() -> None:
    sync_engine = engine().sync_engine
    if not event.contains(sync_engine, "before_cursor_execute", _before):
        event.listen(sync_engine, "before_cursor_execute", _before)
        event.listen(sync_engine, "after_cursor_execute", _after)


@app.middleware("http")
async def profile_queries(request: Request, call_next) -> Response:
    s = {"durations": [], "sql": []}
    STATS.set(s)
    response = await call_next(request)
    n = len(s["durations"])
    response.headers["x-query-count"] = str(n)
    response.headers["x-query-time-ms"] = format(sum(s["durations"]) * 1000, ".4f")
    if n > settings.query_warning_threshold:
        ((sql, reps),) = Counter(s["sql"]).most_common(1)
        await log.awarning("slow_request_queries", n=n, top_sql=sql, top_sql_count=reps,
                           route=request.scope.get("route").path if request.scope.get("route") else None)
    return response
"""

CASES["07_rt_on_event_startup_cursorkey"] = Case(
    "07",
    "exercises",
    [('app = FastAPI(title="Dashboard")\n', _RT_C6)],
    set(),
    why="listeners attached in an on_event('startup') handler, starts keyed by cursor: passes",
)

_RT_C7 = """
import time
from collections import Counter
from contextvars import ContextVar

import structlog
from fastapi import Request
from sqlalchemy import event
from sqlalchemy.engine import Engine

logger = structlog.get_logger()
_current: ContextVar["QueryStats | None"] = ContextVar("_current", default=None)


@dataclass
class QueryStats:
    count: int = 0
    total_ms: float = 0.0
    shapes: Counter | None = None


# Listening on the Engine class (not an instance) reaches every engine created
# later, including each run's engine; nothing here touches engine() at import.
@event.listens_for(Engine, "before_cursor_execute")
def _before(conn, cursor, statement, parameters, context, executemany):
    conn.info.setdefault("_qp_t0", []).append(time.perf_counter())


@event.listens_for(Engine, "after_cursor_execute")
def _after(conn, cursor, statement, parameters, context, executemany):
    t0 = conn.info["_qp_t0"].pop()
    stats = _current.get()
    if stats is not None:
        stats.count += 1
        stats.total_ms += (time.perf_counter() - t0) * 1000
        stats.shapes[" ".join(statement.split())] += 1


app = FastAPI(title="Dashboard")


@app.middleware("http")
async def profiler(request: Request, call_next):
    stats = QueryStats(shapes=Counter())
    token = _current.set(stats)
    try:
        response = await call_next(request)
    finally:
        _current.reset(token)
    response.headers["X-Query-Count"] = str(stats.count)
    response.headers["X-Query-Time-Ms"] = f"{stats.total_ms:.3f}"
    if stats.count > settings.query_warning_threshold:
        sql, n = stats.shapes.most_common(1)[0]
        await logger.awarning("too_many_queries", count=stats.count, query=sql, repeated=n)
    return response
"""

CASES["07_rt_engine_class_listener"] = Case(
    "07",
    "exercises",
    [('app = FastAPI(title="Dashboard")\n', _RT_C7)],
    set(),
    why="listeners on the Engine class rather than the app's engine: passes",
)
