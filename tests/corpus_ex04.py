"""Submissions of exercise 04 (compression), as edits of its starter and solution.

Correct fixes written differently (each must pass everything) and fast-but-wrong ones
(each must fail the check named, with its teaching message). The older 04 cases live
in tests/corpus.py.
"""

from corpus import Case

IMPORT = "from fastapi.middleware.gzip import GZipMiddleware\n"
MIDDLEWARE = "app.add_middleware(GZipMiddleware, minimum_size=500)\n"
FASTAPI_IMPORT = "from fastapi import Depends, FastAPI, HTTPException\n"
EXPORT_SIGNATURE = "async def export_tasks(org_id: int, db: AsyncSession = Depends(get_db)):\n"
EXPORT_RETURN = """    rows = (await db.execute(stmt)).all()
    return [
        {
            "id": task.id,
            "project": project_name,
            "title": task.title,
            "status": task.status,
            "assignee": assignee_name,
            "due_date": task.due_date.isoformat(),
            "description": task.description,
        }
        for task, project_name, assignee_name in rows
    ]
"""
EXPORT_ROWS = EXPORT_RETURN.replace("    return [\n", "    tasks = [\n", 1)


def http_middleware(condition: str, fix_headers: str) -> str:
    """An @app.middleware("http") gzip, as a student writes it: compress when ``condition`` holds."""
    return f"""@app.middleware("http")
async def gzip_responses(request: Request, call_next):
    response = await call_next(request)
    accept = request.headers.get("accept-encoding", "")
    if not ({condition}):
        return response
    body = b"".join([chunk async for chunk in response.body_iterator])
    headers = dict(response.headers)
    if len(body) < 500:
        return Response(body, status_code=response.status_code, headers=headers)
{fix_headers}    headers["content-encoding"] = "gzip"
    headers["vary"] = "Accept-Encoding"
    return Response(gzip.compress(body), status_code=response.status_code, headers=headers)
"""


def with_http_middleware(condition: str = '"gzip" in accept', fix_headers: str = "") -> list[tuple[str, str]]:
    return [
        (IMPORT, "import gzip\n\n"),
        (FASTAPI_IMPORT, "from fastapi import Depends, FastAPI, HTTPException, Request, Response\n"),
        (MIDDLEWARE, "\n\n" + http_middleware(condition, fix_headers)),
    ]


DROP_LENGTH = '    headers.pop("content-length", None)\n'

# A pure ASGI middleware written by hand: parses Accept-Encoding with its q-values (so it honours
# gzip;q=0), buffers the body, compresses at level 6 from 1,000 bytes, and sets every header itself.
PURE_ASGI = """def accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        return q > 0
    return False


class GzipJSON:
    def __init__(self, app, minimum_size: int = 1000, level: int = 6):
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = b""
        for name, value in scope["headers"]:
            if name.lower() == b"accept-encoding":
                accept = value
        if not accepts_gzip(accept.decode("latin-1")):
            await self.app(scope, receive, send)
            return
        start = {}
        chunks = []

        async def buffered(message):
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            if len(body) >= self.minimum_size:
                body = gzip.compress(body, compresslevel=self.level)
                headers += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)


app.add_middleware(GzipJSON)
"""

# The export's route compresses its own body; the summary route is left as it was.
PER_ROUTE_RETURN = """    body = json.dumps(tasks, ensure_ascii=False, separators=(",", ":")).encode()
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        return Response(
            gzip.compress(body, compresslevel=5),
            media_type="application/json",
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return Response(body, media_type="application/json")
"""

# The same, streamed: compressed chunk by chunk, sent without a Content-Length.
STREAMING_RETURN = """    body = json.dumps(tasks, ensure_ascii=False, separators=(",", ":")).encode()
    if "gzip" not in request.headers.get("accept-encoding", ""):
        return Response(body, media_type="application/json")

    async def gzipped():
        packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        for i in range(0, len(body), 16384):
            yield packer.compress(body[i : i + 16384])
        yield packer.flush()

    return StreamingResponse(
        gzipped(), media_type="application/json", headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    )
"""


def per_route(imports: str, fastapi_import: str, new_return: str) -> list[tuple[str, str]]:
    return [
        (IMPORT, imports),
        (MIDDLEWARE, ""),
        (FASTAPI_IMPORT, fastapi_import),
        (EXPORT_SIGNATURE, EXPORT_SIGNATURE.replace("org_id: int, ", "org_id: int, request: Request, ")),
        (EXPORT_RETURN, EXPORT_ROWS + new_return),
    ]


# The whole FastAPI app wrapped by a pure ASGI class (``app = StreamingGzip(api)``): compresses chunk by
# chunk, sends chunked (no Content-Length), reads q-values and counts ``*`` when gzip is not named.
WRAPPED_APP = """def _gzip_quality(raw: bytes) -> float:
    # q of gzip (or x-gzip) in Accept-Encoding; '*' counts when gzip is not named
    explicit, star = None, None
    for entry in raw.decode("latin-1").split(","):
        name, *params = [p.strip() for p in entry.split(";")]
        q = 1.0
        for p in params:
            k, _, v = p.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        name = name.lower()
        if name in ("gzip", "x-gzip"):
            explicit = q if explicit is None else max(explicit, q)
        elif name == "*":
            star = q
    if explicit is not None:
        return explicit
    return star or 0.0


class StreamingGzip:
    # wraps the whole ASGI app; compresses chunk by chunk, sends chunked (no Content-Length)

    def __init__(self, inner, minimum_size=400):
        self.inner = inner
        self.minimum_size = minimum_size

    def __getattr__(self, name):  # let tools reach the FastAPI app (routes, state, overrides)
        return getattr(self.inner, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        accept = b""
        for k, v in scope["headers"]:
            if k.lower() == b"accept-encoding":
                accept = accept + b"," + v if accept else v
        if _gzip_quality(accept) <= 0:
            await self.inner(scope, receive, send)
            return
        state = {"co": None}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                headers = list(message["headers"])
                names = {k.lower(): v for k, v in headers}
                length = names.get(b"content-length")
                big = length is None or int(length) >= self.minimum_size
                if big and b"content-encoding" not in names:
                    state["co"] = zlib.compressobj(6, zlib.DEFLATED, 31)
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                    headers.append((b"content-encoding", b"gzip"))
                    headers.append((b"vary", b"Accept-Encoding"))
                    message = {**message, "headers": headers}
                await send(message)
                return
            co = state["co"]
            if message["type"] == "http.response.body" and co is not None:
                data = co.compress(message.get("body", b""))
                more = message.get("more_body", False)
                if not more:
                    data += co.flush()
                await send({"type": "http.response.body", "body": data, "more_body": more})
                return
            await send(message)

        await self.inner(scope, receive, send_wrapper)


app = StreamingGzip(api, minimum_size=400)
"""

# A route class (``APIRouter(route_class=GzipRoute)``) whose handler compresses its own large responses.
ROUTE_CLASS = """def _gzip_acceptable(value: str) -> bool:
    codings = {}
    for entry in value.split(","):
        bits = [b.strip() for b in entry.split(";")]
        q = 1.0
        for b in bits[1:]:
            if b[:2].lower() == "q=":
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        codings[bits[0].lower()] = q
    return codings.get("gzip", 0.0) > 0


class GzipRoute(APIRoute):
    # a route class whose handler gzips its own (large) response

    minimum_size = 1000

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def gzip_handler(request: Request) -> Response:
            response = await handler(request)
            body = getattr(response, "body", None)
            if (
                body is not None
                and len(body) >= self.minimum_size
                and "content-encoding" not in response.headers
                and _gzip_acceptable(request.headers.get("accept-encoding", ""))
            ):
                packed = gzip.compress(body, compresslevel=5)
                response.body = packed
                response.headers["Content-Length"] = str(len(packed))
                response.headers["Content-Encoding"] = "gzip"
                response.headers["Vary"] = "Accept-Encoding"
            return response

        return gzip_handler


export_router = APIRouter(route_class=GzipRoute)
"""

# The Accept-Encoding read before ``call_next`` into a module global and used after it: another request
# that came in meanwhile has overwritten it.
GLOBAL_ACCEPT = (
    """    response = await call_next(request)
    accept = request.headers.get("accept-encoding", "")
""",
    """    global ACCEPT
    ACCEPT = request.headers.get("accept-encoding", "")
    response = await call_next(request)
    accept = ACCEPT
""",
)

# The export written as JSON by hand: values pasted into the text, nothing escaped.
HANDWRITTEN_JSON = """    rows = (await db.execute(stmt)).all()
    items = []
    for task, project_name, assignee_name in rows:
        assignee_json = "null" if assignee_name is None else f'"{assignee_name}"'
        items.append(
            f'{{"id":{task.id},"project":"{project_name}","title":"{task.title}","status":"{task.status}",'
            f'"assignee":{assignee_json},"due_date":"{task.due_date.isoformat()}",'
            f'"description":"{task.description}"}}'
        )
    return Response("[" + ",".join(items) + "]", media_type="application/json")
"""

SQLALCHEMY_ERROR = (
    "from sqlalchemy import select\n",
    "from sqlalchemy import select\nfrom sqlalchemy.exc import SQLAlchemyError\n",
)
ROWS = "    rows = (await db.execute(stmt)).all()\n"
ORG_LOOKUP = """    org = await db.get(Organization, org_id)
    if not org:
        raise HTTPException(status_code=404, detail="Org not found")

    assignee"""


CASES = {
    # --- correct fixes, written differently: each passes everything ---
    "04_starlette_import": Case(
        "04",
        "solutions",
        [(IMPORT, "from starlette.middleware.gzip import GZipMiddleware\n")],
        set(),
        why="the same class, imported from Starlette",
    ),
    "04_compresslevel_1": Case(
        "04",
        "solutions",
        [(MIDDLEWARE, "app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=1)\n")],
        set(),
        why="the fastest compression level: still far under the budget",
    ),
    "04_default_minimum_size": Case(
        "04",
        "solutions",
        [(MIDDLEWARE, "app.add_middleware(GZipMiddleware)\n")],
        set(),
        why="the middleware's defaults",
    ),
    "04_minimum_size_200": Case(
        "04",
        "solutions",
        [(MIDDLEWARE, "app.add_middleware(GZipMiddleware, minimum_size=200, compresslevel=6)\n")],
        set(),
        why="a lower threshold that still leaves the summaries and 404s alone",
    ),
    "04_minimum_size_4096": Case(
        "04",
        "solutions",
        [(MIDDLEWARE, "app.add_middleware(GZipMiddleware, minimum_size=4096)\n")],
        set(),
        why="a higher threshold, within the graded range (up to 8 KiB)",
    ),
    "04_pure_asgi_gzip": Case(
        "04",
        "solutions",
        [(IMPORT, "import gzip\n\n"), (MIDDLEWARE, "\n\n" + PURE_ASGI)],
        set(),
        why="a hand-written pure ASGI gzip middleware that fixes Content-Length, adds Vary and honours q=0",
    ),
    "04_http_middleware_gzip": Case(
        "04",
        "solutions",
        with_http_middleware(fix_headers=DROP_LENGTH),
        set(),
        why='@app.middleware("http") that compresses the body and lets Response recompute Content-Length',
    ),
    "04_per_route_gzip": Case(
        "04",
        "solutions",
        per_route(
            "import gzip\nimport json\n\n",
            "from fastapi import Depends, FastAPI, HTTPException, Request, Response\n",
            PER_ROUTE_RETURN,
        ),
        set(),
        why="only the export route compresses (compresslevel 5), with Content-Type, Content-Encoding and Vary set",
    ),
    "04_streaming_gzip": Case(
        "04",
        "solutions",
        per_route(
            "import json\nimport zlib\n\n",
            "from fastapi import Depends, FastAPI, HTTPException, Request, Response\n"
            "from fastapi.responses import StreamingResponse\n",
            STREAMING_RETURN,
        ),
        set(),
        why="the export streamed through a gzip compressor, chunked, without Content-Length",
    ),
    "04_route_class_gzip": Case(
        "04",
        "solutions",
        [
            (IMPORT, "import gzip\n\n"),
            (MIDDLEWARE, "\n\n" + ROUTE_CLASS),
            (
                FASTAPI_IMPORT,
                "from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response\n"
                "from fastapi.routing import APIRoute\n",
            ),
            (
                '@app.get("/organizations/{org_id}/tasks/export")',
                '@export_router.get("/organizations/{org_id}/tasks/export")',
            ),
            (EXPORT_RETURN, EXPORT_RETURN + "\n\napp.include_router(export_router)\n"),
        ],
        set(),
        why="an APIRoute subclass compresses the export route's own responses (q-values read, Content-Length set)",
    ),
    "04_wrapped_asgi_app": Case(
        "04",
        "solutions",
        [
            (IMPORT, "import zlib\n\n"),
            (MIDDLEWARE, ""),
            ("app = FastAPI(", "api = FastAPI("),
            ("@app.get(", "@api.get("),
            (EXPORT_RETURN, EXPORT_RETURN + "\n\n" + WRAPPED_APP),
        ],
        set(),
        why="the FastAPI app wrapped by an ASGI class that streams gzip chunk by chunk, chunked, '*' accepted",
    ),
    "04_per_route_ascii_json": Case(
        "04",
        "solutions",
        per_route(
            "import gzip\nimport json\n\n",
            "from fastapi import Depends, FastAPI, HTTPException, Request, Response\n",
            PER_ROUTE_RETURN.replace('ensure_ascii=False, separators=(",", ":")', "indent=None"),
        ),
        set(),
        why="json.dumps with its defaults (ASCII escapes, spaces after separators): other bytes, the same JSON",
    ),
    # --- fast but wrong: each fails with a teaching message ---
    "04_stale_content_length": Case(
        "04",
        "solutions",
        with_http_middleware(),
        {"correct", "gzip_when_accepted"},
        "Content-Length says 416232 bytes but 58,931 bytes were sent",
        "compresses the body but copies the old Content-Length: uvicorn cuts the connection after 58,931 bytes",
    ),
    "04_pure_asgi_stale_content_length": Case(
        "04",
        "solutions",
        [
            (IMPORT, "import gzip\n\n"),
            (MIDDLEWARE, "\n\n" + PURE_ASGI.replace(' if k.lower() != b"content-length"', "")),
            ('            headers.append((b"content-length", str(len(body)).encode()))\n', ""),
        ],
        {"correct", "gzip_when_accepted"},
        "Content-Length says 416232 bytes but",
        "a pure ASGI middleware that compresses the body and keeps the old Content-Length",
    ),
    "04_duplicate_content_length": Case(
        "04",
        "solutions",
        [
            (IMPORT, "import gzip\n\n"),
            (MIDDLEWARE, "\n\n" + PURE_ASGI.replace(' if k.lower() != b"content-length"', "")),
        ],
        {"correct", "gzip_when_accepted"},
        "Content-Length headers (",
        "appends the new Content-Length next to the old one: two different lengths",
    ),
    "04_gzip_unless_identity": Case(
        "04",
        "solutions",
        with_http_middleware('accept != "identity"', DROP_LENGTH),
        {"identity_when_not_accepted"},
        "the request had no Accept-Encoding header but the response has Content-Encoding: gzip",
        "compresses unless the header says exactly identity: a client that sends none, br or deflate gets gzip",
    ),
    "04_gzip_only_for_exact_header": Case(
        "04",
        "solutions",
        with_http_middleware('accept == "gzip"', DROP_LENGTH),
        {"gzip_when_accepted"},
        "with Accept-Encoding: 'gzip, deflate, br, zstd' came back uncompressed",
        "compresses only for a header that is exactly gzip: a browser's header gets the full export",
    ),
    "04_gzip_only_if_first": Case(
        "04",
        "solutions",
        with_http_middleware('accept.startswith("gzip")', DROP_LENGTH),
        {"gzip_when_accepted"},
        "with Accept-Encoding: 'deflate, gzip' came back uncompressed",
        "compresses only when gzip is listed first",
    ),
    "04_no_vary": Case(
        "04",
        "solutions",
        with_http_middleware(fix_headers=DROP_LENGTH + '    headers.pop("vary", None)\n')
        + [('    headers["vary"] = "Accept-Encoding"\n', "")],
        {"correct", "gzip_when_accepted"},
        "is compressed but has no Vary: Accept-Encoding",
        "compressed responses without Vary: a shared cache serves them to clients that cannot decode gzip",
    ),
    "04_gzip_without_content_encoding": Case(
        "04",
        "solutions",
        with_http_middleware(fix_headers=DROP_LENGTH) + [('    headers["content-encoding"] = "gzip"\n', "")],
        {"correct", "gzip_when_accepted"},
        "the body is gzip data",
        "compresses the body but does not say so: the client reads gzip bytes as JSON",
    ),
    "04_zlib_labelled_gzip": Case(
        "04",
        "solutions",
        with_http_middleware(fix_headers=DROP_LENGTH)
        + [("gzip.compress(body)", "zlib.compress(body)"), ("import gzip\n", "import gzip\nimport zlib\n")],
        {"correct", "gzip_when_accepted"},
        "the response says Content-Encoding: gzip but its",
        "zlib.compress (the zlib format, not gzip) sent as Content-Encoding: gzip: the client cannot decode it",
    ),
    "04_compressed_twice": Case(
        "04",
        "solutions",
        [
            (IMPORT, "import gzip\n\n" + IMPORT),
            (MIDDLEWARE, MIDDLEWARE + "\n\n" + PURE_ASGI),
        ],
        {"correct", "gzip_when_accepted"},
        "Content-Encoding headers (",
        "two gzip middlewares: the body compressed twice",
    ),
    "04_threshold_too_high": Case(
        "04",
        "solutions",
        [("minimum_size=500", "minimum_size=100_000")],
        {"gzip_when_accepted"},
        "came back uncompressed (32,964 bytes on the wire",
        "only bodies over 100 KB compressed: the 33 KB export of a 10x8 organization goes out whole",
    ),
    "04_per_route_no_content_type": Case(
        "04",
        "solutions",
        per_route(
            "import gzip\nimport json\n\n",
            "from fastapi import Depends, FastAPI, HTTPException, Request, Response\n",
            PER_ROUTE_RETURN.replace('            media_type="application/json",\n', ""),
        ),
        {"correct", "gzip_when_accepted"},
        "Content-Type is missing, the starter's is application/json",
        "a gzip Response built by hand without its media type",
    ),
    "04_export_kept_between_requests": Case(
        "04",
        "solutions",
        [
            ("app = FastAPI(", "EXPORTS: dict[int, list] = {}\napp = FastAPI("),
            (
                '        raise HTTPException(status_code=404, detail="Org not found")\n\n    assignee',
                '        raise HTTPException(status_code=404, detail="Org not found")\n'
                "    if org_id in EXPORTS:\n        return EXPORTS[org_id]\n\n    assignee",
            ),
            (EXPORT_RETURN, EXPORT_ROWS + "    EXPORTS[org_id] = tasks\n    return tasks\n"),
        ],
        {"correct"},
        "the next export still says",
        "the export kept in a dict after the first request: a changed task never shows up",
    ),
    "04_extra_count_query": Case(
        "04",
        "solutions",
        [
            ("from sqlalchemy import select\n", "from sqlalchemy import func, select\n"),
            (
                ROWS,
                "    count_stmt = select(func.count(Task.id)).join(Project).where(Project.org_id == org_id)\n"
                "    if (await db.execute(count_stmt)).scalar_one() == 0:\n        return []\n" + ROWS,
            ),
        ],
        {"correct"},
        "ran 3 SQL statements, the starter runs 2",
        "counts the tasks first (to skip an empty export): one more statement on every export",
    ),
    "04_accept_encoding_in_a_global": Case(
        "04",
        "solutions",
        with_http_middleware(fix_headers=DROP_LENGTH)
        + [GLOBAL_ACCEPT, ("app = FastAPI(", 'ACCEPT = ""\napp = FastAPI(')],
        {"gzip_when_accepted"},
        "sent at the same time as 11 other exports",
        "the request's Accept-Encoding kept in a module global across call_next: requests sent together "
        "answer with the last one's encoding",
    ),
    "04_json_by_hand": Case(
        "04",
        "solutions",
        [
            (FASTAPI_IMPORT, "from fastapi import Depends, FastAPI, HTTPException, Response\n"),
            (EXPORT_RETURN, HANDWRITTEN_JSON),
        ],
        {"correct"},
        "the body is not valid JSON",
        "the export written with f-strings: a title with a quote, a backslash or a newline breaks the JSON",
    ),
    "04_database_errors_swallowed": Case(
        "04",
        "solutions",
        [
            SQLALCHEMY_ERROR,
            (
                ROWS,
                "    try:\n        rows = (await db.execute(stmt)).all()\n"
                "    except SQLAlchemyError:\n        rows = []\n",
            ),
        ],
        {"correct"},
        "while the tasks table could not be read, expected 500",
        "a database error answered as an empty export (200 [])",
    ),
    "04_lookup_errors_as_404": Case(
        "04",
        "solutions",
        [
            SQLALCHEMY_ERROR,
            (
                ORG_LOOKUP,
                "    try:\n        org = await db.get(Organization, org_id)\n    except SQLAlchemyError:\n"
                "        org = None\n" + ORG_LOOKUP.split("\n", 1)[1],
            ),
        ],
        {"correct"},
        "while the organizations table could not be read, expected 500",
        "the export's organization lookup answers 404 when the database fails: an error passed off as not found",
    ),
}
