"""Simulated external services, mocked with respx at realistic URLs.

Each service answers after its modeled latency with a payload derived from
the dataset seed, so hidden data changes the answers too. A test can make one
fail (HTTP 500), respond slowly, or hang. As with a real server, a slow or
hanging call ends only at the client's own timeout (httpx raises
``ReadTimeout``); with no timeout it never ends.

Every call, and every ``httpx.AsyncClient`` created during a request, is
recorded on the request being measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import math
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx._transports.default as httpx_transports

from harness.world import measure

OK, ERROR, SLOW, HANG = "ok", "error", "slow", "hang"


def _number(seed: int, *parts: object, low: int, high: int) -> int:
    digest = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).digest()
    return low + int.from_bytes(digest[:8], "big") % (high - low + 1)


def analytics_summary(seed: int, org_id: int) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "active_users_7d": _number(seed, "au", org_id, low=3, high=900),
        "events_7d": _number(seed, "ev", org_id, low=1_000, high=90_000),
        "conversion_rate": _number(seed, "cr", org_id, low=1, high=400) / 1000,
    }


def current_weather(seed: int, city: str) -> dict[str, Any]:
    return {
        "city": city,
        "temperature_c": _number(seed, "t", city, low=-15, high=35),
        "conditions": ["sunny", "cloudy", "rain", "snow", "windy"][_number(seed, "c", city, low=0, high=4)],
    }


def billing_subscription(seed: int, org_id: int) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "plan": ["free", "team", "business", "enterprise"][_number(seed, "p", org_id, low=0, high=3)],
        "seats": _number(seed, "s", org_id, low=1, high=250),
        "renews_on": f"2027-{_number(seed, 'm', org_id, low=1, high=12):02d}-01",
    }


@dataclass
class Service:
    """One mocked service: a URL pattern, a latency, a payload, a fault mode."""

    name: str
    pattern: str
    latency_ms: float
    payload: Callable[[int, dict[str, str], httpx.Request], dict[str, Any]]
    mode: str = OK
    slow_ms: float = 10_000.0
    error_status: int = 500
    calls: int = field(default=0, init=False)
    # Calls it serves at once (None: any number); the others wait their turn, on the virtual clock.
    concurrency: int | None = None
    _slots: asyncio.Semaphore | None = field(default=None, init=False, repr=False)

    def limit(self, calls_at_once: int | None) -> None:
        """Serve at most ``calls_at_once`` calls at a time (a partner's own capacity); the rest queue."""
        self.concurrency = calls_at_once
        self._slots = None

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.concurrency is None:
            yield
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        async with self._slots:
            yield

    # Fault injection, for tests.
    def healthy(self) -> None:
        self.mode = OK

    def fail(self, status: int = 500) -> None:
        """Answer HTTP ``status`` (an error: 500, or a 4xx such as 404 or 429) after the usual latency."""
        self.mode, self.error_status = ERROR, status

    def slow(self, ms: float = 10_000.0) -> None:
        """Answer correctly, but only after ``ms`` (a client timeout may cut it)."""
        self.mode, self.slow_ms = SLOW, ms

    def hang(self) -> None:
        """Never answer: only the client's timeout ends the call."""
        self.mode = HANG


def _client_read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    return timeout.get("read")


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def _shared_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
    """Loading CA certificates costs ~25 ms of real CPU per client; no mocked call
    ever opens a TLS connection, so clients share one default context (modeled
    time is unaffected: only wall time of grading drops)."""
    if verify is True and cert is None and trust_env:
        return _default_ssl_context()
    return httpx.create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)


class Services:
    """The set of mocked services of one simulated world."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.analytics = Service(
            "analytics",
            r"^https://analytics\.example\.com/api/org/(?P<org_id>\d+)/summary$",
            280.0,
            lambda seed, groups, r: analytics_summary(seed, int(groups["org_id"])),
        )
        self.weather = Service(
            "weather",
            r"^https://api\.weather\.example\.com/current(?:\?.*)?$",
            320.0,
            lambda seed, groups, r: current_weather(seed, r.url.params.get("city", "")),
        )
        self.billing = Service(
            "billing",
            r"^https://billing\.example\.com/v1/organizations/(?P<org_id>\d+)/subscription$",
            190.0,
            lambda seed, groups, r: billing_subscription(seed, int(groups["org_id"])),
        )
        self.all = [self.analytics, self.weather, self.billing]

    def __getitem__(self, name: str) -> Service:
        for service in self.all:
            if service.name == name:
                return service
        raise KeyError(name)

    def route(self, request: httpx.Request) -> tuple[Service, dict[str, str]] | None:
        """The service that answers ``request``, and the groups its URL pattern captured."""
        for service in self.all:
            match = re.search(service.pattern, str(request.url))
            if match:
                return service, match.groupdict()
        return None

    async def respond(self, service: Service, request: httpx.Request, groups: dict[str, str]) -> httpx.Response:
        loop = asyncio.get_running_loop()
        start = loop.time()
        requests = measure.charged()
        service.calls += 1
        # On the requests' records from its start ("pending" until it ends): a check can see a call the
        # app left running when its response went out.
        call = measure.ExternalCall(service.name, str(request.url), start, start, "pending")
        for metrics in requests:
            metrics.calls.append(call)
        outcome = "cancelled"
        try:
            async with service.slot():  # a partner at its capacity: the call waits its turn, and its timeout runs
                delay = {OK: service.latency_ms, ERROR: service.latency_ms, SLOW: service.slow_ms}.get(
                    service.mode, math.inf
                ) / 1000
                limit = _client_read_timeout(request)
                if limit is not None:
                    limit = max(0.0, limit - (loop.time() - start))
                if limit is not None and delay > limit:
                    await asyncio.sleep(limit)
                    outcome = "timeout"
                    raise httpx.ReadTimeout(f"{service.name} did not answer within {limit:g} s", request=request)
                if math.isinf(delay):
                    await asyncio.Event().wait()  # hangs until cancelled
                await asyncio.sleep(delay)
            if service.mode == ERROR:
                outcome = str(service.error_status)
                return httpx.Response(service.error_status, json={"error": f"{service.name} unavailable"})
            outcome = "200"
            return httpx.Response(200, json=service.payload(self.seed, groups, request))
        finally:
            call.end, call.outcome = loop.time(), outcome

    @contextmanager
    def mocked(self) -> Iterator[Services]:
        """Route every httpx request to the mocks; unknown hosts raise at once."""
        import respx  # only an app in this process needs it: an app host's calls come by the socket

        router = respx.mock(assert_all_called=False, assert_all_mocked=True)
        for service in self.all:
            router.route(url__regex=service.pattern).mock(side_effect=self._side_effect(service))
        original_init = httpx.AsyncClient.__init__

        def counting_init(client: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
            original_init(client, *args, **kwargs)
            metrics = measure.current()
            if metrics is not None:
                metrics.clients_created += 1

        httpx.AsyncClient.__init__ = counting_init  # type: ignore[method-assign, assignment]
        original_ssl = httpx_transports.create_ssl_context
        httpx_transports.create_ssl_context = _shared_ssl_context
        try:
            with router:
                original_sync = httpx.HTTPTransport.handle_request
                services = self

                def handle_sync(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
                    return services._handle_sync(transport, request)

                httpx.HTTPTransport.handle_request = handle_sync  # type: ignore[method-assign, assignment]
                try:
                    yield self
                finally:
                    httpx.HTTPTransport.handle_request = original_sync  # type: ignore[method-assign]
        finally:
            httpx.AsyncClient.__init__ = original_init  # type: ignore[method-assign]
            httpx_transports.create_ssl_context = original_ssl

    def _handle_sync(self, transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        """A synchronous client's call (a legacy SDK), in this process: it waits the modeled latency where it
        is, holding its thread (on the event loop's thread, the whole loop: ``harness.clock.block``)."""
        from harness import clock as app_clock

        found = self.route(request)
        if found is None:
            raise httpx.ConnectError(f"no partner service answers at {request.url.host}", request=request)
        service, groups = found
        service.calls += 1
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None  # a worker thread
        now = loop.time if loop is not None else time.monotonic
        start = now()
        call = measure.ExternalCall(service.name, str(request.url), start, start, "pending")
        for metrics in measure.charged():
            metrics.calls.append(call)
        delay = {OK: service.latency_ms, ERROR: service.latency_ms, SLOW: service.slow_ms}.get(service.mode, 3600_000.0)
        limit = _client_read_timeout(request)
        waited = min(delay / 1000, limit) if limit is not None else delay / 1000
        if loop is not None:
            app_clock.block(waited)
        else:
            time.sleep(waited)
        if limit is not None and delay / 1000 > limit:
            call.end, call.outcome = now(), "timeout"
            raise httpx.ReadTimeout(f"{service.name} did not answer within {limit:g} s", request=request)
        if service.mode == ERROR:
            call.end, call.outcome = now(), str(service.error_status)
            return httpx.Response(service.error_status, json={"error": f"{service.name} unavailable"}, request=request)
        call.end, call.outcome = now(), "200"
        return httpx.Response(200, json=service.payload(self.seed, groups, request), request=request)

    def _side_effect(self, service: Service) -> Callable[[httpx.Request], Any]:
        async def side_effect(request: httpx.Request, **groups: str) -> httpx.Response:
            return await self.respond(service, request, groups)

        return side_effect
