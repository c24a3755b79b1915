"""A simulated world: seeded database + mocked services + network, and a client into an app.

async with World(scale="10x8") as world:
    async with world.serve(app) as client:
        exchange = await client.get("/organizations/1/dashboard")
        exchange.metrics.summary()   # queries, db_ms, external_ms, ...
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from harness import cache as caching
from harness import db
from harness.apphost.lifespan import lifespan
from harness.settings import Network, QueryLatency
from harness.spec import WorldOptions
from harness.world import measure, postgres
from harness.world.database import Database
from harness.world.redis_server import Cache, redis_url_from_env
from harness.world.seed import DEFAULT_SCALE, PUBLIC_SEED, dataset_file, parse_scale
from harness.world.services import Services

if TYPE_CHECKING:
    from harness.world.hosts import Zygote

# Modeled seconds a single request may take before it counts as hung.
REQUEST_TIMEOUT_SECONDS = 120.0


class RequestHung(Exception):
    """The request did not finish in modeled time; ``metrics`` holds what was measured until then."""

    def __init__(self, message: str, metrics: measure.RequestMetrics | None = None) -> None:
        super().__init__(message)
        self.metrics = metrics


@dataclass
class Exchange:
    """One request's response and its ground-truth metrics."""

    response: httpx.Response
    metrics: measure.RequestMetrics


@dataclass
class RawExchange:
    """One response as a client's socket receives it: header lines in order (names lower-cased,
    duplicates kept) and the body's bytes undecoded; with its ground-truth metrics."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    metrics: measure.RequestMetrics


class Client:
    """Sends requests through the measuring layer into the app, in-process."""

    def __init__(self, app: Any, network: Network, world: World | None = None) -> None:
        self.world = world  # for checks that let modeled time pass (``client.world.advance``)
        # An app host's work outside any request (its startup, tasks of its own): measured, never hidden.
        self.background: measure.RequestMetrics | None = None
        self._pending: dict[str, measure.RequestMetrics] = {}
        self._ids = itertools.count(1)
        self.app = measure.MeasuringMiddleware(app, network, on_complete=self._done)
        self._http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, raise_app_exceptions=False),
            base_url="http://kata.test",
        )

    def _done(self, request_id: str | None, metrics: measure.RequestMetrics) -> None:
        if request_id is not None:
            self._pending[request_id] = metrics

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        **kwargs: Any,
    ) -> Exchange:
        request_id = str(next(self._ids))
        sent = {measure.REQUEST_ID_HEADER.decode(): request_id, **(headers or {})}
        try:
            response = await asyncio.wait_for(self._http.request(method, path, headers=sent, **kwargs), timeout)
        except TimeoutError:
            raise RequestHung(
                f"{method} {path} did not finish within {timeout:g} s of modeled time",
                self._pending.pop(request_id, None),
            ) from None
        return Exchange(response, self._pending.pop(request_id))

    async def get(self, path: str, **kwargs: Any) -> Exchange:
        return await self.request("GET", path, **kwargs)

    async def raw(
        self, method: str, path: str, headers: list[tuple[str, str]], timeout: float = REQUEST_TIMEOUT_SECONDS
    ) -> RawExchange:
        """A request with exactly ``headers`` (httpx adds none) and the response as sent: what a check of
        the HTTP message itself needs (duplicate or stale headers, the undecoded body)."""
        measured: list[measure.RequestMetrics] = []
        app = measure.MeasuringMiddleware(self.app.app, self.app.network, on_complete=lambda _, m: measured.append(m))
        path_only, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path_only,
            "raw_path": path_only.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            "client": ("127.0.0.1", 50000),
            "server": ("kata.test", 80),
        }
        answered = asyncio.Event()
        delivered = False
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        try:
            await asyncio.wait_for(app(scope, receive, send), timeout)
        except TimeoutError:
            raise RequestHung(
                f"{method} {path} did not finish within {timeout:g} s of modeled time",
                measured[0] if measured else None,
            ) from None
        finally:
            answered.set()
        # The measuring layer always starts a response (a 500 if the app raised before it did).
        start: dict[str, Any] = next(m for m in messages if m["type"] == "http.response.start")
        return RawExchange(
            int(start["status"]),
            [(bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1")) for k, v in start.get("headers", [])],
            b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body"),
            measured[0],
        )

    async def aclose(self) -> None:
        await self._http.aclose()


_open_worlds: list[World] = []


def app_cpu() -> float:
    """The innermost open world's ``app_cpu`` (1 outside any world)."""
    return _open_worlds[-1].app_cpu if _open_worlds else 1.0


class World:
    """Database, services and network of one run, active while entered."""

    def __init__(
        self,
        scale: str = DEFAULT_SCALE,
        seed: int = PUBLIC_SEED,
        latency: QueryLatency | None = None,
        network: Network | None = None,
        large_tables: bool = False,
        cache: bool = False,
        count_scans: bool = False,
        max_connections: int | None = None,
    ) -> None:
        self.max_connections = max_connections
        self.scale = parse_scale(scale)
        self.seed = seed
        self.latency = latency or QueryLatency.from_env()
        self.network = network or Network.from_env()
        self.services = Services(seed)
        self.large_tables = large_tables
        self.count_scans = count_scans
        self.database: Database | None = None
        self.cache: Cache | None = None
        self._with_cache = cache
        # How long the app's modeled CPU work (``harness.clock.block``) takes: 1, as written; 0, no time
        # (a check that compares the app's own timings of overlapping requests: a loop held by one
        # request's work rightly delays what the other sees, by an amount that is no one's statement).
        self.app_cpu = 1.0

    @classmethod
    def of(cls, options: WorldOptions, scale: str = DEFAULT_SCALE, seed: int = PUBLIC_SEED, **kwargs: Any) -> World:
        """The world an exercise's ``[world]`` options ask for."""
        world = cls(
            scale=scale,
            seed=seed,
            large_tables=options.large_tables,
            cache=options.cache,
            count_scans=options.count_scans,
            max_connections=options.max_connections,
            **kwargs,
        )
        for name, ms in options.partner_latency_ms.items():
            world.services[name].latency_ms = ms
        return world

    async def __aenter__(self) -> World:
        # Every resource registers its own clean-up as soon as it exists, so a
        # world that fails half-way (a server down, a bad setting) leaves nothing behind.
        self._resources = AsyncExitStack()
        try:
            await self._open(self._resources)
        except BaseException:
            await self._resources.aclose()
            raise
        return self

    async def _open(self, resources: AsyncExitStack) -> None:
        # A private copy of the pristine dataset: writes never leak between runs.
        server_url = postgres.database_url_from_env()
        if server_url:
            url = await postgres.create_world_database(server_url, self.scale, self.seed, self.large_tables)
            resources.push_async_callback(postgres.drop_world_database, server_url, url)
        else:
            tmp = Path(tempfile.mkdtemp(prefix="kata-world-"))
            resources.callback(shutil.rmtree, tmp, ignore_errors=True)
            path = tmp / "kata.sqlite3"
            shutil.copyfile(dataset_file(self.scale, self.seed, self.large_tables), path)
            url = f"sqlite+aiosqlite:///{path}"
        database = self.database = Database(url, self.latency, count_scans=self.count_scans)
        database.max_connections = self.max_connections
        resources.push_async_callback(database.dispose)
        await database.warm_up()
        if self._with_cache:
            cache = self.cache = Cache(redis_url_from_env())
            resources.push_async_callback(cache.close)
            await cache.open()
            caching.activate(cache)
            resources.callback(caching.deactivate, cache)
        db.activate(database)
        _open_worlds.append(self)
        resources.callback(self._leave)

    def _leave(self) -> None:
        _open_worlds.remove(self)
        # Worlds nest (a test may open one inside another): the enclosing one is active again.
        db.activate(_open_worlds[-1].database if _open_worlds else None)

    async def __aexit__(self, *exc_info: object) -> None:
        await self._resources.aclose()

    async def advance(self, seconds: float) -> None:
        """Let modeled time pass: the clock moves and every cache TTL runs down with it."""
        await asyncio.sleep(seconds)
        if self.cache is not None:
            await self.cache.age(seconds)

    @asynccontextmanager
    async def serve_hosted(self, zygote: Zygote, app_file: Path) -> AsyncIterator[Client]:
        """Start ``app_file`` in a fresh app host (lifespan included) and yield a measuring client.

        The app runs in another process; this world answers its statements,
        calls and commands, and measures them (``harness.world.boundary``).
        """
        from harness.world.boundary import RemoteApp, hosted

        async with hosted(self, zygote, app_file) as host:
            client = Client(RemoteApp(host), self.network, self)
            client.background = host.background
            try:
                yield client
            finally:
                await client.aclose()

    @asynccontextmanager
    async def serve(self, app: Any) -> AsyncIterator[Client]:
        """Start the app in this process (lifespan included) and yield a measuring client.

        Its httpx calls reach this world's services through respx mocks, active meanwhile.
        """
        with self.services.mocked():
            async with lifespan(app):
                client = Client(app, self.network, self)
                try:
                    yield client
                finally:
                    await client.aclose()
