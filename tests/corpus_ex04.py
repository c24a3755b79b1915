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
}
