"""Ground-truth measurement of one request, independent of the student's code.

A ``RequestMetrics`` is created by ``MeasuringMiddleware`` (the outermost ASGI
layer, outside anything the app adds) and reached through a ContextVar by the
database listeners and the service mocks. Times are loop times in seconds, so
on the virtual clock they are modeled time.
"""

from __future__ import annotations

import asyncio
import traceback
from collections import Counter
from collections.abc import MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from harness import sites
from harness.settings import Network
from harness.sites import describe_exception
from harness.world.fingerprint import short

_current: ContextVar[RequestMetrics | None] = ContextVar("kata_request_metrics", default=None)
# The call site an app host reported with a statement or command (the world has no frames of the app's).
_reported_site: ContextVar[str | None] = ContextVar("kata_reported_site", default=None)
# In the world, for what an app host asks: every request it is charged to (see ``attribute``).
_charged: ContextVar[tuple[RequestMetrics, ...] | None] = ContextVar("kata_charged", default=None)


@dataclass
class QueryEvent:
    sql: str
    fingerprint: str
    start: float
    end: float
    cost: float
    call_site: str
    error: str | None = None
    plan: tuple[str, ...] = ()  # "SCAN customers", "SEARCH orders USING INDEX ..." (large tables only)
    rows: int = 0  # rows the statement returned to the app
    scanned: int = 0  # rows of the tables its plan scans in full (read when the world counts scans)


@dataclass
class CacheOp:
    command: str  # "GET", "SET", "DEL" ...
    key: str
    start: float
    end: float
    cost: float
    hit: bool | None  # reads: found or not; writes: None
    call_site: str
    error: str | None = None


@dataclass
class ExternalCall:
    service: str
    url: str
    start: float
    end: float
    outcome: str  # "200", "500", "timeout", "cancelled" ...; "pending" while it runs


@dataclass
class RequestMetrics:
    method: str
    path: str
    start: float
    end: float | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    queries: list[QueryEvent] = field(default_factory=list)
    calls: list[ExternalCall] = field(default_factory=list)
    cache_ops: list[CacheOp] = field(default_factory=list)
    commits: list[float] = field(default_factory=list)  # when each of its transactions committed
    clients_created: int = 0
    connections_refused: int = 0  # database connections refused while it ran (the server's connection limit)
    response_bytes: int = 0
    transfer_seconds: float = 0.0
    transfer_start: float | None = None
    error: str | None = None
    error_traceback: str | None = None

    @property
    def db_ms(self) -> float:
        return _ms(sum(q.cost for q in self.queries))

    @property
    def rows_read(self) -> int:
        """Rows the database returned to the app: work a query count alone does not show."""
        return sum(q.rows for q in self.queries)

    @property
    def rows_examined(self) -> int:
        """Rows the database went through: per statement, what it returned or, where it scanned a whole
        table, that table's rows (a query that packs a table into one row still examines all of it)."""
        return sum(max(q.rows, q.scanned) for q in self.queries)

    @property
    def cache_ms(self) -> float:
        return _ms(sum(op.cost for op in self.cache_ops))

    @property
    def external_ms(self) -> float:
        """Time during which at least one external call was in flight."""
        return _ms(_union_length([(c.start, c.end) for c in self.calls]))

    @property
    def transfer_ms(self) -> float:
        return _ms(self.transfer_seconds)

    @property
    def total_ms(self) -> float:
        end = self.end if self.end is not None else self.start
        return _ms(end - self.start)

    @property
    def server_ms(self) -> float:
        """Server-side time: the request in until the body starts to go out (what a timing header can know)."""
        sent = self.transfer_start if self.transfer_start is not None else self.end
        return _ms((sent if sent is not None else self.start) - self.start)

    def summary(self) -> dict[str, Any]:
        """The metrics every report shows, as plain JSON values."""
        summary = {
            "queries": len(self.queries),
            "rows_read": self.rows_read,
            "db_ms": self.db_ms,
            "external_ms": self.external_ms,
            "transfer_ms": self.transfer_ms,
            "total_ms": self.total_ms,
            "response_bytes": self.response_bytes,
        }
        if self.cache_ops:  # only apps with a cache: the other exercises' numbers keep their shape
            summary["cache_ops"] = len(self.cache_ops)
            summary["cache_ms"] = self.cache_ms
        return summary

    def call_timeline(self, outcomes: bool = False) -> str:
        """'analytics 5-285 ms, weather 285-605 ms': each external call, in ms from the request's start
        (``outcomes``: and how it ended, 'analytics 5-285 ms (500)')."""
        return ", ".join(
            f"{c.service} {round((c.start - self.start) * 1000):g}-{round((c.end - self.start) * 1000):g} ms"
            + (f" ({c.outcome})" if outcomes else "")
            for c in self.calls
        )

    def fingerprints(self) -> list[dict[str, Any]]:
        """Queries grouped by shape, most repeated first, with their call site (and plan, on large tables)."""
        groups: dict[tuple[str, str], int] = Counter((q.fingerprint, q.call_site) for q in self.queries)
        rows: Counter[tuple[str, str]] = Counter()
        for q in self.queries:
            rows[(q.fingerprint, q.call_site)] += max(q.rows, q.scanned)
        plans = {(q.fingerprint, q.call_site): list(q.plan) for q in self.queries if q.plan}
        ordered = sorted(groups.items(), key=lambda item: (-item[1], item[0]))
        found = []
        for (fp, site), n in ordered:
            group: dict[str, Any] = {"sql": short(fp), "count": n, "call_site": site, "rows": rows[(fp, site)]}
            if (fp, site) in plans:
                group["plan"] = plans[(fp, site)]
            found.append(group)
        return found

    def repeated(self, at_least: int = 2) -> list[dict[str, Any]]:
        return [g for g in self.fingerprints() if g["count"] >= at_least]

    def most_rows(self, limit: int = 2) -> str:
        """'SELECT tasks ... 1074 rows from app.py:40, ...': where the rows examined came from, most first
        (a full scan of a table: all its rows)."""
        groups = sorted(self.fingerprints(), key=lambda g: -g["rows"])[:limit]
        return ", ".join(f"{g['sql']} {g['rows']} rows from {g['call_site']}" for g in groups if g["rows"])


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _union_length(intervals: list[tuple[float, float]]) -> float:
    total, cursor = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end <= cursor:
            continue
        total += end - max(start, cursor)
        cursor = end
    return total


def current() -> RequestMetrics | None:
    """The request being measured in this context, if any."""
    return _current.get()


def attribute(requests: tuple[RequestMetrics, ...], site: str | None) -> None:
    """In the world, for the task serving an app host: what it records is charged to each of ``requests``,
    and came from ``site`` (as the host reported it: shown, never graded)."""
    _charged.set(requests)
    _current.set(requests[0] if len(requests) == 1 else None)
    _reported_site.set(str(site)[:200] if site is not None else None)


def charged() -> tuple[RequestMetrics, ...]:
    """The requests what runs now is charged to: the one being measured in process, or those an app host's
    message was attributed to."""
    requests = _charged.get()
    if requests is not None:
        return requests
    metrics = _current.get()
    return (metrics,) if metrics is not None else ()


class AppRaised(Exception):
    """The app host's app raised: its one-line description (for the student) and traceback."""

    def __init__(self, description: str, trace: str = "") -> None:
        super().__init__(description)
        self.description = description
        self.trace = trace


def call_site() -> str:
    """``app.py:41``: the line of the student's code that ran this: as its app host reported it, or
    (the app in this process) the innermost such line on the stack."""
    reported = _reported_site.get()
    return reported if reported is not None else sites.call_site()


REQUEST_ID_HEADER = b"x-kata-request"


class MeasuringMiddleware:
    """Outermost ASGI layer: measures each HTTP request and charges transfer time.

    The body bytes it sees are the bytes on the wire (compressed when the app
    compresses), and each chunk waits its transfer time before it is sent.
    """

    def __init__(self, app: Any, network: Network, on_complete: Any = None) -> None:
        self.app = app
        self.network = network
        self.on_complete = on_complete

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        request_id = None
        headers = []
        for name, value in scope.get("headers", []):
            if name == REQUEST_ID_HEADER:
                request_id = value.decode()
            else:
                headers.append((name, value))
        scope = {**scope, "headers": headers}
        metrics = RequestMetrics(scope["method"], scope["path"], start=loop.time())
        started = False

        async def measured_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                metrics.status = message["status"]
                metrics.headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])
                }
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                if body:
                    if metrics.transfer_start is None:
                        metrics.transfer_start = loop.time()
                    seconds = self.network.transfer_seconds(len(body))
                    metrics.response_bytes += len(body)
                    metrics.transfer_seconds += seconds
                    await asyncio.sleep(seconds)
            await send(message)

        token = _current.set(metrics)
        try:
            await self.app(scope, receive, measured_send)
        except Exception as exc:  # the app's own error handling already ran
            if isinstance(exc, AppRaised):
                metrics.error, metrics.error_traceback = exc.description, exc.trace
            else:
                metrics.error = describe_exception(exc)
                metrics.error_traceback = traceback.format_exc()
            if not started:
                await measured_send({"type": "http.response.start", "status": 500, "headers": []})
                await measured_send({"type": "http.response.body", "body": b"Internal Server Error"})
        finally:
            metrics.end = loop.time()
            _current.reset(token)
            if self.on_complete is not None:
                self.on_complete(request_id, metrics)
