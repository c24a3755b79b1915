"""04 compression: gzip when the client accepts it, and only then; same answer, valid HTTP.

What counts as a fix (the README's section of that name says the same to the student):

May change, the student's free choice (each passes):
- how the body gets compressed: Starlette's gzip middleware (FastAPI re-exports it), a pure
  ASGI middleware or an ``@app.middleware("http")`` function written by hand, an ASGI class
  wrapping the whole app, gzip done in the export's route only (or by its route class), a
  streamed body compressed chunk by chunk;
- the compression level (1 to 9), and whether a compressed body is sent with its
  Content-Length or chunked, without one;
- the size threshold, anywhere from ``never_compress_below`` (100 bytes) up to
  ``always_compress_from`` (8 KiB): every graded body smaller than the first (the summaries,
  the 404 bodies) stays uncompressed; every one at least as large as the second (the
  exports) is compressed when gzip is accepted; an empty export may go either way;
- the answer to the Accept-Encoding values this exercise leaves open: ``gzip;q=0``, ``*``,
  ``GZIP``, ``x-gzip`` (Starlette compresses for the first and the last, not for the
  other two). Either answer passes, as long as it is a valid response with the same JSON;
- headers beyond those below (Vary on uncompressed responses too, and so on);
- how the JSON is written, byte for byte: separators, whitespace, ASCII escapes (``json.dumps``'s
  defaults, FastAPI's compact UTF-8), as long as it decodes to the same value;
- fewer SQL statements than the starter's.

May not change:
- the result: status codes (404s included), Content-Type (application/json) and the JSON
  after decoding, the starter's (``reference``) on public and on hidden data, and after a task is
  renamed to a title that only a JSON encoder writes right (a quote, a backslash, a tab, a newline,
  non-ASCII text);
- the behaviour on failure: a table the export or the summary cannot read is an HTTP 500, as in the
  starter; not an empty export, not a 404;
- the negotiation: Content-Encoding: gzip for every Accept-Encoding that lists gzip as
  acceptable (``ACCEPTS_GZIP``: ``gzip``, a browser's ``gzip, deflate, br, zstd``, gzip
  second or with a lower q than br...), and no Content-Encoding at all for one that does not
  (``REFUSES_GZIP``: a missing or empty header, ``identity``, ``br``, ``deflate``...); each
  response follows its own request's header, also when requests overlap (``AT_ONCE``: exports
  sent together with mixed headers);
- the message: each response is valid HTTP as a real server sends it: at most one
  Content-Length, equal to the bytes sent (uvicorn cuts the connection otherwise); at most
  one Content-Encoding, ``gzip`` exactly when the body is gzip data, which decompresses
  (once) to the JSON; ``Vary: Accept-Encoding`` on every compressed response (a shared
  cache must not hand the gzip bytes to a client that cannot decode them);
- the work: the export is read from the database on every request (the data may change
  between two requests), with no more SQL statements than the starter runs for the same request
  (``starter_statements``: 2 for an export, the recorded baseline's ``queries``; 1 for a summary
  or a 404), measured on every request ``correct`` sends; no answer kept from an earlier request.

The requests are sent at the ASGI level (``fetch``), as a server's socket would carry them:
every header line as sent (duplicates kept), the body bytes undecoded, no Accept-Encoding
added by an HTTP client.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import update

from harness.engine.checks import (
    Check,
    CheckFailed,
    Grading,
    assert_same_response,
    profile_request,
    profile_scale,
)
from harness.models import Task
from harness.world.fingerprint import short
from harness.world.measure import RequestMetrics
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.world import Client, Exchange

ORG_IDS = (1, 2, 3, 4)
MISSING_ORG = 999
CORRECTNESS_SCALE = "10x8"
GZIP = "gzip"
IDENTITY = "identity"
# Accept-Encoding values that accept gzip: the answer must be gzip.
ACCEPTS_GZIP = (
    "gzip",
    "gzip, deflate, br, zstd",
    "deflate, gzip",
    "br;q=1.0, gzip;q=0.8",
    "gzip;q=0.5",
    "identity, gzip",
)
# Accept-Encoding values that do not: no Content-Encoding at all (None: no header).
REFUSES_GZIP = ("identity", None, "", "br", "deflate", "deflate, br, zstd", "compress")
# The values the exercise leaves open (either answer passes, if it is valid).
OPEN = ("gzip;q=0", "*", "GZIP", "x-gzip")
JSON_TYPE = "application/json"
GZIP_MAGIC = b"\x1f\x8b"


def reference(data: Dataset, path: str) -> tuple[int, Any]:
    parts = path.strip("/").split("/")
    org = data.organizations.get(int(parts[1]))
    if org is None:
        return 404, None
    if len(parts) == 2:
        return 200, {
            "id": org["id"],
            "name": org["name"],
            "city": org["city"],
            "member_count": org["member_count"],
        }
    projects = {p["id"]: p["name"] for p in data.projects_of(org["id"])}
    return 200, [
        {
            "id": t["id"],
            "project": projects[t["project_id"]],
            "title": t["title"],
            "status": t["status"],
            "assignee": data.assignee_name(t),
            "due_date": t["due_date"].isoformat(),
            "description": t["description"],
        }
        for t in data.tasks
        if t["project_id"] in projects
    ]


def reference_size(data: Dataset, path: str) -> int:
    """Bytes of the starter's body for ``path`` (FastAPI's compact JSON; a 404's detail)."""
    status, body = reference(data, path)
    if status == 404:
        body = {"detail": "Org not found"}
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())


# --- one request, as the socket carries it ------------------------------------


@dataclass
class Wire:
    """One response as a client's socket receives it: header lines in order, body bytes undecoded."""

    path: str
    accept: str | None
    status: int
    headers: list[tuple[str, str]]  # names lower-cased, duplicates kept
    body: bytes
    metrics: RequestMetrics

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]

    @property
    def coding(self) -> str | None:
        values = self.values("content-encoding")
        return ", ".join(values) if values else None

    @property
    def asked(self) -> str:
        return "no Accept-Encoding header" if self.accept is None else f"Accept-Encoding: {self.accept!r}"

    @property
    def what(self) -> str:
        return f"GET {self.path} with {self.asked}"


async def fetch(client: Client, path: str, accept: str | None) -> Wire:
    """GET ``path`` with exactly this Accept-Encoding (``None``: none at all), measured like ``client.get``."""
    headers = [("host", "kata.test"), ("user-agent", "kata-grader")]
    if accept is not None:
        headers.append(("accept-encoding", accept))
    raw = await client.raw("GET", path, headers)
    return Wire(path, accept, raw.status, raw.headers, raw.body, raw.metrics)


def decoded(wire: Wire) -> bytes:
    """The body as the client reads it, after checking the response is a valid HTTP message."""
    what = wire.what
    lengths = wire.values("content-length")
    if len(lengths) > 1:
        raise CheckFailed(
            f"{what}: the response has {len(lengths)} Content-Length headers ({', '.join(lengths)}): "
            "clients and proxies reject such a response; send one, the size of the body actually sent"
        )
    if lengths and lengths[0].strip() != str(len(wire.body)):
        raise CheckFailed(
            f"{what}: Content-Length says {lengths[0]} bytes but {len(wire.body):,} bytes were sent "
            f"(Content-Encoding: {wire.coding or 'none'}): a real server (uvicorn) cuts the connection at the "
            "mismatch and the client gets a truncated body or none; when a middleware changes the body, "
            "the header must follow it"
        )
    codings = wire.values("content-encoding")
    if len(codings) > 1:
        raise CheckFailed(
            f"{what}: the response has {len(codings)} Content-Encoding headers ({', '.join(codings)}): "
            "a client decodes the body once per coding listed; send one Content-Encoding: gzip"
        )
    compressed = wire.body[:2] == GZIP_MAGIC
    if not codings:
        if compressed:
            raise CheckFailed(
                f"{what}: the body is gzip data ({len(wire.body):,} bytes) but the response has no "
                "Content-Encoding: gzip: the client takes the compressed bytes for the JSON itself"
            )
        return wire.body
    coding = codings[0].strip().lower()
    if coding != GZIP:
        raise CheckFailed(
            f"{what}: the response has Content-Encoding: {codings[0]}: this exercise's coding is gzip, "
            "and a response says Content-Encoding: gzip only when its body is gzip data"
        )
    try:
        body = gzip.decompress(wire.body)
    except (OSError, EOFError, zlib.error):
        raise CheckFailed(
            f"{what}: the response says Content-Encoding: gzip but its {len(wire.body):,} bytes "
            f"(starting {wire.body[:12]!r}) are not gzip data: the client cannot decode them"
        ) from None
    if body[:2] == GZIP_MAGIC:
        raise CheckFailed(
            f"{what}: the body was gzip-compressed twice but Content-Encoding names gzip once: "
            "the client decodes once and gets gzip data instead of JSON"
        )
    vary = {token.strip().lower() for value in wire.values("vary") for token in value.split(",")}
    if not vary & {"accept-encoding", "*"}:
        raise CheckFailed(
            f"{what}: the response is compressed but has no Vary: Accept-Encoding "
            f"(Vary: {', '.join(wire.values('vary')) or 'none'}): a shared cache (a proxy, a CDN) then hands "
            "these gzip bytes to the next client for the same URL, whatever that client accepts"
        )
    return body


def assert_same_answer(wire: Wire, data: Dataset, what: str) -> None:
    """Status, Content-Type and the decoded JSON are the starter's (``reference``)."""
    body = decoded(wire)
    status, expected = reference(data, wire.path)
    exchange = Exchange(httpx.Response(wire.status, content=body), wire.metrics)
    assert_same_response(exchange, status, expected, what)
    media_type = ", ".join(wire.values("content-type")).partition(";")[0].strip().lower()
    if media_type != JSON_TYPE:
        raise CheckFailed(
            f"{what}: Content-Type is {media_type or 'missing'}, the starter's is {JSON_TYPE}: the client "
            "reads the decoded body by its media type, so it must not change with the encoding"
        )


def _kind(seed: int) -> str:
    return "public" if seed == PUBLIC_SEED else "hidden"


# --- the checks --------------------------------------------------------------


async def correct(g: Grading) -> str:
    paths = [
        f"/organizations/{org_id}{suffix}" for org_id in (*ORG_IDS, MISSING_ORG) for suffix in ("", "/tasks/export")
    ]
    for seed in g.seeds:
        data = dataset(CORRECTNESS_SCALE, seed)
        async with g.serve(CORRECTNESS_SCALE, seed) as client:
            for accept in (GZIP, IDENTITY):
                for path in paths:
                    wire = await fetch(client, path, accept)
                    assert_same_answer(wire, data, f"{wire.what} ({_kind(seed)} data)")
                    _assert_starter_work(g, wire)
            if seed != PUBLIC_SEED:
                continue
            export = f"/organizations/{ORG_IDS[0]}/tasks/export"
            for accept in OPEN:  # either answer, but a valid one with the same JSON
                wire = await fetch(client, export, accept)
                assert_same_answer(wire, data, f"{wire.what} (public data)")
                _assert_starter_work(g, wire)
            await _assert_fresh(g, client, data, export)
            await _assert_errors_stay_errors(client, export)
    return (
        "exports and organization summaries match the reference, decoded, with and without gzip, on public and "
        f"hidden data, with no more SQL statements than the starter; every response valid HTTP; Accept-Encoding "
        f"{', '.join(OPEN)} answered validly; a task renamed to a title that needs escaping shows up in the "
        "next export; a database error stays a 500"
    )


def starter_statements(g: Grading, wire: Wire) -> int:
    """The SQL statements the starter runs for this request: the organization's lookup, and for an
    existing organization's export the tasks' query too (the recorded baseline's ``queries``)."""
    if wire.path.endswith("/tasks/export") and wire.status == 200:
        return int(g.exercise.spec.baseline[profile_scale(g.exercise)]["queries"])
    return 1


def _assert_starter_work(g: Grading, wire: Wire) -> None:
    """No more statements than the starter's: compressing changes the bytes, not the work."""
    ran, budget = len(wire.metrics.queries), starter_statements(g, wire)
    if ran > budget:
        shown = "; ".join(f"{short(q.fingerprint)} ({q.call_site})" for q in wire.metrics.queries)
        raise CheckFailed(
            f"{wire.what} ran {ran} SQL statements, the starter runs {budget} (budget: no more than the "
            f"starter's): {shown}. Compressing changes the bytes sent, not the work done: every extra "
            "statement costs a round trip to the database on every request"
        )


# A title that only a real JSON encoder writes correctly: a quote, a backslash, a tab, a newline, non-ASCII.
RENAMED = 'renamed by the grader: "quoted", back\\slash, tab\there, line\nbreak, Grüße aus 東京 ✓'


async def _assert_fresh(g: Grading, client: Client, data: Dataset, path: str) -> None:
    """The export is read from the database on every request, and written as JSON: a change (a title that
    needs escaping) shows up in the next one, decoded exactly."""
    assert client.world is not None and client.world.database is not None
    org_id = int(path.strip("/").split("/")[1])
    _, tasks = reference(data, path)
    task_id = tasks[-1]["id"]
    async with client.world.database.sessionmaker() as session:
        await session.execute(update(Task).where(Task.id == task_id).values(title=RENAMED))
        await session.commit()
    expected = [dict(t, title=RENAMED) if t["id"] == task_id else t for t in tasks]
    for accept in (GZIP, IDENTITY):
        wire = await fetch(client, path, accept)
        body = decoded(wire)
        _assert_starter_work(g, wire)
        what = f"{wire.what}, after task {task_id} of organization {org_id} was renamed to {RENAMED!r}"
        if wire.status != 200:
            raise CheckFailed(f"{what}: returned HTTP {wire.status}, expected 200")
        try:
            answer = json.loads(body)
        except ValueError as error:
            at = getattr(error, "pos", 0)
            raise CheckFailed(
                f"{what}: the body is not valid JSON ({error}; near {body[max(at - 30, 0) : at + 10]!r}): a "
                "quote, a backslash or a newline in a value must be escaped. Build the body with a JSON "
                "encoder (return the list, or json.dumps it), not by pasting values into a string"
            ) from None
        try:
            found = next(t.get("title") for t in answer if isinstance(t, dict) and t.get("id") == task_id)
        except (TypeError, AttributeError, StopIteration):
            found = None
        if found != RENAMED:
            raise CheckFailed(
                f"{wire.what}: task {task_id} of organization {org_id} was renamed to {RENAMED!r} in the database "
                f"after an earlier export, but the next export still says {found!r}: the export must be read "
                "from the database on every request, not kept from an earlier one"
            )
        assert_same_response(Exchange(httpx.Response(wire.status, content=body), wire.metrics), 200, expected, what)


async def _assert_errors_stay_errors(client: Client, path: str) -> None:
    """A table that cannot be read is an error, HTTP 500 as the starter gives, not an empty or partial answer."""
    assert client.world is not None and client.world.database is not None
    summary = path.removesuffix("/tasks/export")
    for table, broken in (("tasks", (path,)), ("organizations", (summary, path))):
        async with client.world.database.engine.begin() as conn:
            await conn.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {table}_gone")
        for broken_path in broken:
            wire = await fetch(client, broken_path, GZIP)
            if wire.status != 500:
                raise CheckFailed(
                    f"{wire.what} returned HTTP {wire.status} while the {table} table could not be read, expected "
                    "500 as the starter gives: a try/except around the database turns its error into a wrong "
                    "answer (an empty export looks like an organization without tasks); let errors be errors"
                )


async def _profile_pair(g: Grading) -> tuple[Wire, Wire]:
    """The profile export (organization 1 at the profile scale) without and with gzip, checked, measured once."""

    async def measure_pair() -> tuple[Wire, Wire]:
        _, path, _ = profile_request(g.exercise)
        async with g.serve() as client:
            plain, packed = await fetch(client, path, IDENTITY), await fetch(client, path, GZIP)
        for wire in (plain, packed):
            if wire.status != 200:
                raise CheckFailed(f"{wire.what} returned HTTP {wire.status}")
        return plain, packed

    plain, packed = await g.once("profile pair", measure_pair)
    return plain, packed


# Sent at once, mixed: each response must follow its own request's Accept-Encoding.
AT_ONCE = ("gzip", "identity", "gzip, deflate, br, zstd", None, "deflate, gzip", "br")


def large_exports(g: Grading, data: Dataset) -> list[str]:
    """The exports at the correctness scale that must be compressed when gzip is accepted."""
    large = g.budget("always_compress_from")
    exports = (f"/organizations/{org_id}/tasks/export" for org_id in ORG_IDS)
    return [path for path in exports if reference_size(data, path) >= large]


async def _at_once(g: Grading) -> list[Wire]:
    """The large exports, each with every ``AT_ONCE`` value, all sent together (measured once)."""

    async def send() -> list[Wire]:
        data = dataset(CORRECTNESS_SCALE, PUBLIC_SEED)
        async with g.serve(CORRECTNESS_SCALE) as client:
            wires = await asyncio.gather(
                *(fetch(client, path, accept) for path in large_exports(g, data) for accept in AT_ONCE)
            )
        return list(wires)

    wires: list[Wire] = await g.once("at once", send)
    return wires


def _assert_own_header(wires: list[Wire], accepting: bool) -> None:
    """Each of the requests sent together (those that accept gzip, or those that do not) got the encoding
    its own Accept-Encoding asks for, and the starter's answer."""
    data = dataset(CORRECTNESS_SCALE, PUBLIC_SEED)
    for wire in wires:
        if (wire.accept in ACCEPTS_GZIP) != accepting:
            continue  # the other check's
        if (wire.coding is not None) == accepting:
            assert_same_answer(wire, data, f"{wire.what}, one of {len(wires)} exports sent at once (public data)")
            continue
        others = sorted({"(none)" if w.accept is None else repr(w.accept) for w in wires if w.accept != wire.accept})
        got = f"Content-Encoding: {wire.coding}" if wire.coding else "no Content-Encoding (uncompressed)"
        raise CheckFailed(
            f"{wire.what} got {got}, sent at the same time as {len(wires) - 1} other exports with "
            f"Accept-Encoding {', '.join(others)}: each response must follow its own request's header. "
            "Where the header is kept outside the request (a module global, a class attribute, anything "
            "shared) across an await, the next request overwrites it; read it from this request's scope"
        )


async def gzip_when_accepted(g: Grading) -> str:
    ratio_budget = g.budget("max_compressed_ratio")
    plain, packed = await _profile_pair(g)
    for wire in (plain, packed):  # valid messages first: a broken one is not measured
        decoded(wire)
    ratio = packed.metrics.response_bytes / max(plain.metrics.response_bytes, 1)
    facts = (
        f"{packed.metrics.response_bytes:,} bytes on the wire with Accept-Encoding: gzip vs "
        f"{plain.metrics.response_bytes:,} uncompressed ({ratio:.0%}, budget {ratio_budget:.0%}); modeled transfer "
        f"{packed.metrics.transfer_ms:g} ms vs {plain.metrics.transfer_ms:g} ms"
    )
    if (
        packed.coding is None
        or ratio > ratio_budget
        or packed.metrics.transfer_ms > plain.metrics.transfer_ms * ratio_budget
    ):
        raise CheckFailed(f"{facts}; the response to GET {packed.path} has Content-Encoding: {packed.coding or 'none'}")
    data = dataset(profile_scale(g.exercise), PUBLIC_SEED)
    assert_same_answer(packed, data, f"the measured {packed.what}")
    if len(packed.metrics.queries) > len(plain.metrics.queries):
        raise CheckFailed(
            f"{facts}; but the compressed export ran {len(packed.metrics.queries)} SQL statements, the "
            f"uncompressed one {len(plain.metrics.queries)}: compressing changes the bytes, not the work"
        )
    large = g.budget("always_compress_from")
    data = dataset(CORRECTNESS_SCALE, PUBLIC_SEED)
    paths = large_exports(g, data)
    async with g.serve(CORRECTNESS_SCALE) as client:
        for accept in ACCEPTS_GZIP:
            for path in paths:
                wire = await fetch(client, path, accept)
                body = decoded(wire)
                if wire.coding is None:
                    raise CheckFailed(
                        f"{wire.what} came back uncompressed ({len(body):,} bytes on the wire). Bodies of "
                        f"{large:,} bytes or more must be compressed for every Accept-Encoding that accepts gzip: "
                        f"{' | '.join(ACCEPTS_GZIP)} (codings come in any order, with optional ;q= weights; "
                        "a q above 0 means acceptable)"
                    )
                assert_same_answer(wire, data, f"{wire.what} (public data)")
    wires = await _at_once(g)
    _assert_own_header(wires, accepting=True)
    return (
        f"{facts}; compressed too for Accept-Encoding {' | '.join(ACCEPTS_GZIP)} (exports of {large:,}+ bytes), "
        f"also when sent at once with other values ({len(wires)} requests)"
    )


async def identity_when_not_accepted(g: Grading) -> str:
    plain, _ = await _profile_pair(g)
    if plain.coding is not None:
        raise CheckFailed(
            f"the request said Accept-Encoding: identity but the response has Content-Encoding: {plain.coding}: "
            "a client that cannot decode it gets garbage"
        )
    decoded(plain)
    data = dataset(CORRECTNESS_SCALE, PUBLIC_SEED)
    path = f"/organizations/{ORG_IDS[0]}/tasks/export"
    async with g.serve(CORRECTNESS_SCALE) as client:
        for accept in REFUSES_GZIP:
            wire = await fetch(client, path, accept)
            decoded(wire)  # a coding other than gzip is named as such
            if wire.coding is not None:
                said = "had no Accept-Encoding header" if accept is None else f"said Accept-Encoding: {accept!r}"
                raise CheckFailed(
                    f"GET {path}: the request {said} but the response has Content-Encoding: {wire.coding}: a client "
                    "that cannot decode it gets garbage. gzip is acceptable only where the header lists it; "
                    "no header, an empty one, identity, br or deflate alone do not"
                )
            assert_same_answer(wire, data, f"{wire.what} (public data)")
    _assert_own_header(await _at_once(g), accepting=False)
    shown = " | ".join("(none)" if a is None else repr(a) for a in REFUSES_GZIP)
    return (
        f"without gzip accepted the body goes uncompressed ({plain.metrics.response_bytes:,} bytes); "
        f"no Content-Encoding for Accept-Encoding {shown}, also when sent at once with gzip-accepting requests"
    )


async def small_not_compressed(g: Grading) -> str:
    small_path, small = g.budget("small_path"), g.budget("never_compress_below")
    data = dataset(CORRECTNESS_SCALE, PUBLIC_SEED)
    # The summaries and the 404s: an empty export ("[]") is left open, so a route that always compresses passes.
    paths = [small_path] + [
        p
        for org_id in (*ORG_IDS, MISSING_ORG)
        for p in (f"/organizations/{org_id}", f"/organizations/{org_id}/tasks/export")
        if p != small_path and reference_size(data, p) < small and (p.count("/") == 2 or reference(data, p)[0] == 404)
    ]
    async with g.serve(CORRECTNESS_SCALE) as client:
        wires = [await fetch(client, p, GZIP) for p in paths]
    for wire in wires:
        body = decoded(wire)
        if wire.coding is not None:
            raise CheckFailed(
                f"GET {wire.path} ({len(body)} bytes of JSON, {len(wire.body)} bytes on the wire) was compressed: "
                f"bodies under {small} bytes gain nothing from gzip (its header and trailer alone are 18 bytes)"
            )
    return f"{len(wires)} bodies under {small} bytes (organization summaries, 404s) left uncompressed"


CHECKS = [
    Check(
        "correct",
        "decoded bodies equal the reference, with and without gzip, on public and hidden data; valid HTTP messages",
        correct,
        guard=True,
    ),
    Check(
        "gzip_when_accepted",
        "with gzip accepted, at most the budgeted share of bytes and transfer time; gzip for every header accepting it",
        gzip_when_accepted,
    ),
    Check(
        "identity_when_not_accepted",
        "no compression when the client does not accept it",
        identity_when_not_accepted,
        guard=True,
    ),
    Check("small_not_compressed", "small responses are not compressed", small_not_compressed, guard=True),
]
