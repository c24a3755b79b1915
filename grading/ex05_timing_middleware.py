"""05 timing-middleware: every response timed, every request logged once, slow ones flagged."""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from harness.engine.checks import Check, CheckFailed, Grading, assert_same_response, explain_status
from harness.world.boundary import app_logs
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.services import analytics_summary, current_weather
from harness.world.world import Client, Exchange

SCALE = "10x8"
ORG_IDS = (1, 2, 3, 4)
MISSING_ORG = 999
UNKNOWN_PATH = "/organisations/1"  # a typo: no route matches, the router answers 404
HEADER = "x-process-time-ms"
LOG_KEYS = ("method", "path", "status", "duration_ms", "slow")

# The requests the timing checks look at: one of each kind of response.
OBSERVED = (
    ("fast", "/organizations/1"),
    ("slow", "/organizations/1/overview"),
    ("missing", f"/organizations/{MISSING_ORG}"),
    ("unknown", UNKNOWN_PATH),
    ("raises", "/organizations/1/invoice"),
)

CALL_NEXT = (
    "an exception raised by the endpoint comes out of `await call_next(request)`, so the code after it never runs"
)


def reference(data: Dataset, path: str) -> tuple[int, Any]:
    """The starter's answer, computed from the rows (500 for the invoice, whose endpoint raises)."""
    parts = path.strip("/").split("/")
    if parts[0] != "organizations":
        return 404, None
    org = data.organizations.get(int(parts[1]))
    if org is None:
        return 404, None
    if len(parts) == 2:
        return 200, {"id": org["id"], "name": org["name"], "city": org["city"], "member_count": org["member_count"]}
    if parts[2] == "overview":
        return 200, {
            "organization": org["name"],
            "analytics": analytics_summary(data.seed, org["id"]),
            "weather": current_weather(data.seed, org["city"]),
        }
    return 500, None  # the invoice preview: no tax rates are configured, the endpoint raises


async def _get(client: Client, path: str) -> tuple[Exchange, list[MutableMapping[str, Any]]]:
    """One request and the structlog events it emitted (captured, so nothing is printed)."""
    with app_logs() as logs:
        exchange = await client.get(path)
    return exchange, logs


async def correct(g: Grading) -> str:
    paths = [
        f"/organizations/{org_id}{suffix}"
        for org_id in (*ORG_IDS, MISSING_ORG)
        for suffix in ("", "/overview", "/invoice")
    ] + [UNKNOWN_PATH]
    for seed in g.seeds:
        data = dataset(SCALE, seed)
        kind = "public" if seed == PUBLIC_SEED else "hidden"
        async with g.serve(SCALE, seed) as client:
            for path in paths:
                status, body = reference(data, path)
                exchange, _ = await _get(client, path)
                what = f"GET {path} ({kind} data)"
                if status == 500:
                    got = exchange.response.status_code
                    if got != 500:
                        raise CheckFailed(
                            f"{what} returned HTTP {got}, expected 500 (the endpoint raises RuntimeError): "
                            "a middleware must report an error as an error, not hide it"
                        )
                else:
                    assert_same_response(exchange, status, body, what)
    return (
        f"organizations, overviews and invoice previews of {len(ORG_IDS)} organizations, 404s and the "
        "invoice's 500 match the reference on public and hidden data"
    )


@dataclass
class Observed:
    name: str
    path: str
    exchange: Exchange
    logs: list[MutableMapping[str, Any]]

    @property
    def status(self) -> int:
        return self.exchange.response.status_code

    @property
    def truth_ms(self) -> float:
        """Server-side time measured by the grader: request in until the body starts to go out."""
        return self.exchange.metrics.server_ms

    @property
    def what(self) -> str:
        return f"GET {self.path} (HTTP {self.status})"

    @property
    def header(self) -> str | None:
        return self.exchange.metrics.headers.get(HEADER)


async def _observe(g: Grading) -> list[Observed]:
    async def measure() -> list[Observed]:
        observed = []
        async with g.serve(SCALE) as client:
            for name, path in OBSERVED:
                exchange, logs = await _get(client, path)
                observed.append(Observed(name, path, exchange, logs))
        return observed

    return await g.once("observed requests", measure)


def _listing(observed: list[Observed]) -> str:
    return ", ".join(o.what for o in observed)


async def header_on_every_response(g: Grading) -> str:
    observed = await _observe(g)
    missing = [o for o in observed if o.header is None]
    if len(missing) == len(observed):
        raise CheckFailed(
            f"no response carried an X-Process-Time-Ms header (expected on every response): {_listing(observed)}"
        )
    for o in missing:
        if o.name == "raises":
            raise CheckFailed(
                f"no X-Process-Time-Ms on {o.what} (expected on every response, errors included)"
                f"{explain_status(o.exchange)}: {CALL_NEXT}"
            )
    if missing:
        present = [o for o in observed if o.header is not None]
        raise CheckFailed(
            f"no X-Process-Time-Ms on {_listing(missing)} (expected on every response, errors included); "
            f"it is on {_listing(present)}"
        )
    return f"X-Process-Time-Ms on every response: {_listing(observed)}"


def _parse_ms(o: Observed) -> float:
    try:
        value = float(o.header.strip())  # type: ignore[union-attr]
        if not math.isfinite(value):
            raise ValueError(o.header)
        return value
    except ValueError:
        raise CheckFailed(f"X-Process-Time-Ms on {o.what} is {o.header!r}, expected a number of milliseconds") from None


async def header_matches_measurement(g: Grading) -> str:
    tolerance = g.budget("tolerance_ms")
    everything = await _observe(g)
    observed = [o for o in everything if o.header is not None]
    if not observed:
        measured = ", ".join(f"{o.what} {o.truth_ms:g} ms" for o in everything)
        raise CheckFailed(
            "no response carries an X-Process-Time-Ms header, so there is no value to compare with the "
            f"grader's measurements ({measured}; tolerance {tolerance:g} ms; see header_on_every_response)"
        )
    worst = max(observed, key=lambda o: abs(_parse_ms(o) - o.truth_ms))
    value, truth = _parse_ms(worst), worst.truth_ms
    if abs(value - truth) > tolerance:
        facts = (
            f"X-Process-Time-Ms: {worst.header} on {worst.what}, but the grader measured {truth:g} ms from the "
            f"request reaching the app to its response going out (tolerance {tolerance:g} ms)"
        )
        if truth > 0 and abs(value * 1000 - truth) <= tolerance:
            raise CheckFailed(f"{facts}: that is the time in seconds; the header is in milliseconds")
        raise CheckFailed(f"{facts}; off by {abs(value - truth):g} ms")
    return f"X-Process-Time-Ms within {tolerance:g} ms of the grader's measurement on " + ", ".join(
        f"{o.what} {o.header}" for o in observed
    )


def _the_log_line(o: Observed) -> MutableMapping[str, Any]:
    """The request's single log line with the required keys, or a teaching failure."""
    if not o.logs:
        if o.name == "raises":
            raise CheckFailed(
                f"no log line for {o.what} (expected exactly one per request){explain_status(o.exchange)}: {CALL_NEXT}"
            )
        raise CheckFailed(
            f"no structlog log line for {o.what} (expected exactly one per request, with {', '.join(LOG_KEYS)})"
        )
    if len(o.logs) > 1:
        events = ", ".join(repr(e.get("event")) for e in o.logs)
        raise CheckFailed(f"{len(o.logs)} log lines for {o.what} ({events}), expected exactly one per request")
    entry = o.logs[0]
    for key in LOG_KEYS:
        if key not in entry:
            have = ", ".join(k for k in entry if k not in ("event", "log_level"))
            note = " (the lecture calls it status_code; this log schema calls it status)" if key == "status" else ""
            raise CheckFailed(f"the log line for {o.what} has no key {key!r}{note}; it has: {have or 'nothing'}")
    return entry


async def one_log_line_per_request(g: Grading) -> str:
    tolerance = g.budget("tolerance_ms")
    observed = await _observe(g)
    for o in observed:
        entry = _the_log_line(o)
        expected = {"method": "GET", "path": o.path, "status": o.status}
        for key, value in expected.items():
            if entry[key] != value or type(entry[key]) is not type(value):
                raise CheckFailed(f"the log line for {o.what} has {key}={entry[key]!r}, expected {value!r}")
        duration = entry["duration_ms"]
        if isinstance(duration, bool) or not isinstance(duration, int | float) or not math.isfinite(duration):
            raise CheckFailed(
                f"the log line for {o.what} has duration_ms={duration!r}, expected a number of milliseconds"
            )
        if abs(duration - o.truth_ms) > tolerance:
            header = f"; its X-Process-Time-Ms is {o.header}" if o.header is not None else ""
            raise CheckFailed(
                f"the log line for {o.what} has duration_ms={duration!r}, but the grader measured "
                f"{o.truth_ms:g} ms (tolerance {tolerance:g} ms){header}"
            )
        if o.name == "raises" and not (entry.get("exc_info") or entry.get("exception")):
            keys = ", ".join(k for k in entry if k not in ("event", "log_level"))
            raise CheckFailed(
                f"the log line for {o.what} does not carry the exception the endpoint raised; it has: {keys}"
            )
    return f"exactly one log line with {', '.join(LOG_KEYS)} for each of {_listing(observed)}"


async def slow_flagged(g: Grading) -> str:
    threshold = g.budget("slow_request_ms")
    observed = await _observe(g)
    slow = next(o for o in observed if o.name == "slow")
    if slow.truth_ms <= threshold:
        raise CheckFailed(
            f"{slow.what} took {slow.truth_ms:g} ms, not more than the {threshold:g} ms threshold, so the slow "
            "flag cannot be tested: keep the endpoints as they are (making this one fast is exercise 02)"
        )
    for o in observed:
        flags = [e["slow"] for e in o.logs if "slow" in e]
        if not flags:
            raise CheckFailed(
                f"no log line with a slow flag for {o.what}, which took {o.truth_ms:g} ms "
                f"(threshold {threshold:g} ms; see one_log_line_per_request)"
            )
        expected = o.truth_ms > threshold
        for flag in flags:
            if not isinstance(flag, bool):
                raise CheckFailed(
                    f"the log line for {o.what} has slow={flag!r}, a {type(flag).__name__}, expected a bool"
                )
            if flag is not expected:
                raise CheckFailed(
                    f"{o.what} took {o.truth_ms:g} ms and settings.slow_request_ms is {threshold:g} ms, but its "
                    f"log line says slow={flag}"
                )
    return f"slow=True for {slow.what} ({slow.truth_ms:g} ms), slow=False for the others (threshold {threshold:g} ms)"


CHECKS = [
    Check(
        "correct",
        "responses, the 404s and the invoice's 500 equal the reference on public and hidden data",
        correct,
        guard=True,
    ),
    Check(
        "header_on_every_response",
        "X-Process-Time-Ms on a fast, a slow, two 404 and a 500 response",
        header_on_every_response,
    ),
    Check(
        "header_matches_measurement",
        "X-Process-Time-Ms within budget.tolerance_ms of the grader's server-side time",
        header_matches_measurement,
    ),
    Check(
        "one_log_line_per_request",
        "exactly one structlog line per request with method, path, status, duration_ms, slow",
        one_log_line_per_request,
    ),
    Check("slow_flagged", "slow=True above settings.slow_request_ms, slow=False below", slow_flagged),
]
