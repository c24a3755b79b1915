"""10 cache-aside: the statistics come from Redis when nothing changed, fresh after every write.

The reference is computed from the seeded rows, with the grader's own writes
applied to a copy of them (``Rows``), so a read after a write is compared
with the figures that write produced. Cache properties are read from the
harness's record of the request (its queries and Redis commands) and from
the world's Redis itself (keys and their TTLs); time passes on the virtual
clock (``World.advance``).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import date
from typing import Any

from grading.references import organization_in
from harness.engine.checks import Check, CheckFailed, Grading, assert_same_response, first_difference
from harness.words import count, n_queries
from harness.world.redis_server import Cache
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.world import Client, Exchange, World

SCALE = "10x8"
ORG_IDS = (1, 2, 3, 4)
MISSING_ORG = 999
STATUSES = ("todo", "in_progress", "review", "done")
AS_OF = date(2026, 10, 15)  # the app's reporting date: due before it and not done is overdue
NEW_DUE = "2026-10-01"  # a new task due before AS_OF: it counts as overdue unless done


def stats_path(org_id: int) -> str:
    return f"/organizations/{org_id}/stats"


class Rows:
    """The seeded rows, with the grader's writes applied: the reference after any sequence of writes."""

    def __init__(self, data: Dataset) -> None:
        self.organizations = data.organizations
        self.users = data.users
        self.projects = data.projects
        self.tasks = [dict(task) for task in data.tasks]

    def org_of_project(self, project_id: int) -> int:
        return next(p["org_id"] for p in self.projects if p["id"] == project_id)

    def tasks_of_org(self, org_id: int) -> list[dict]:
        project_ids = {p["id"] for p in self.projects if p["org_id"] == org_id}
        return [t for t in self.tasks if t["project_id"] in project_ids]

    def members_of(self, org_id: int) -> list[int]:
        return [uid for uid, user in self.users.items() if user["org_id"] == org_id]

    def stats(self, path: str) -> tuple[int, Any]:
        org_id, org = organization_in(self, path)  # type: ignore[arg-type]  # Rows has a Dataset's organizations
        if org is None:
            return 404, None
        tasks = self.tasks_of_org(org_id)
        open_by_assignee = Counter(t["assignee_id"] for t in tasks if t["status"] != "done" and t["assignee_id"])
        busiest = sorted(open_by_assignee.items(), key=lambda item: (-item[1], item[0]))[:3]
        return 200, {
            "organization": org["name"],
            "projects": sum(1 for p in self.projects if p["org_id"] == org_id),
            "tasks": len(tasks),
            "by_status": {s: sum(1 for t in tasks if t["status"] == s) for s in STATUSES},
            "unassigned": sum(1 for t in tasks if t["assignee_id"] is None),
            "overdue": sum(1 for t in tasks if t["due_date"] < AS_OF and t["status"] != "done"),
            "busiest": [{"name": self.users[uid]["name"], "open_tasks": n} for uid, n in busiest],
        }

    def add_task(self, task_id: int, project_id: int, body: dict) -> dict:
        task = {
            "id": task_id,
            "project_id": project_id,
            "title": body["title"],
            "status": body.get("status", "todo"),
            "assignee_id": body.get("assignee_id"),
            "due_date": date.fromisoformat(body["due_date"]),
        }
        self.tasks.append(task)
        return task

    def change_task(self, task_id: int, change: dict) -> dict:
        task = next(t for t in self.tasks if t["id"] == task_id)
        task.update(change)
        return task


def task_json(task: dict) -> dict:
    return {
        "id": task["id"],
        "project_id": task["project_id"],
        "title": task["title"],
        "status": task["status"],
        "assignee_id": task["assignee_id"],
        "due_date": task["due_date"].isoformat(),
    }


# --- the grader's writes ----------------------------------------------------


def open_task(rows: Rows, org_id: int, unassigned: bool = False) -> dict:
    """A task of ``org_id`` that is not done (unassigned if asked), outside project ``org_id``.

    Avoiding the project whose id equals the organization's keeps a key built
    from the task's project id (instead of its organization's id) from
    invalidating the right key by coincidence.
    """
    candidates = [
        t
        for t in rows.tasks_of_org(org_id)
        if t["status"] != "done" and t["project_id"] != org_id and (t["assignee_id"] is None or not unassigned)
    ]
    return candidates[0]


def second_project(rows: Rows, org_id: int) -> int:
    """A project of ``org_id`` whose id differs from the organization's."""
    return next(p["id"] for p in rows.projects if p["org_id"] == org_id and p["id"] != org_id)


async def _create(client: Client, rows: Rows, org_id: int, project_id: int, body: dict, what: str) -> str:
    path = f"/organizations/{org_id}/projects/{project_id}/tasks"
    exchange = await client.request("POST", path, json=body)
    write = f"POST {path}"
    status = exchange.response.status_code
    if status != 201:
        assert_same_response(exchange, 201, None, f"{write} ({what})")
    task_id = exchange.response.json().get("id")
    if not isinstance(task_id, int):
        raise CheckFailed(
            f"{write} ({what}) answered {exchange.response.text[:80]!r}: expected the new task with its id"
        )
    expected = task_json(rows.add_task(task_id, project_id, body))
    assert_same_response(exchange, 201, expected, f"{write} ({what})")
    return write


async def _change(client: Client, rows: Rows, task_id: int, change: dict, what: str) -> str:
    path = f"/tasks/{task_id}"
    exchange = await client.request("PATCH", path, json=change)
    expected = task_json(rows.change_task(task_id, change))
    assert_same_response(exchange, 200, expected, f"PATCH {path} ({what})")
    return f"PATCH {path} {json.dumps(change)}"


def _expect_status(exchange: Exchange, status: int, what: str) -> None:
    if exchange.response.status_code != status:
        assert_same_response(exchange, status, None, what)


# --- checks -----------------------------------------------------------------


async def correct(g: Grading) -> str:
    """Writes answer as the starter does; then every organization's statistics, read twice, match."""
    for seed in g.seeds:
        data = dataset(SCALE, seed)
        rows = Rows(data)
        kind = "public" if seed == PUBLIC_SEED else "hidden"
        async with g.serve(SCALE, seed) as client:
            member = rows.members_of(1)[0]
            await _create(
                client,
                rows,
                1,
                second_project(rows, 1),
                {"title": "Rotate the keys", "due_date": NEW_DUE, "status": "review", "assignee_id": member},
                f"{kind} data",
            )
            await _change(client, rows, open_task(rows, 2)["id"], {"status": "done"}, f"{kind} data")
            await _change(client, rows, open_task(rows, 1)["id"], {"assignee_id": None}, f"{kind} data")
            foreign = second_project(rows, 2)
            missing = [
                ("POST", f"/organizations/1/projects/{foreign}/tasks", {"title": "x", "due_date": NEW_DUE}, 404),
                ("PATCH", "/tasks/999999", {"status": "done"}, 404),
                ("PATCH", f"/tasks/{open_task(rows, 1)['id']}", {"assignee_id": rows.members_of(2)[0]}, 422),
            ]
            for method, path, body, status in missing:
                exchange = await client.request(method, path, json=body)
                _expect_status(exchange, status, f"{method} {path} ({kind} data)")
            for attempt in ("", ", again"):
                for org_id in (*ORG_IDS, MISSING_ORG):
                    path = stats_path(org_id)
                    status, body = rows.stats(path)
                    exchange = await client.get(path)
                    assert_same_response(exchange, status, body, f"GET {path} ({kind} data{attempt})")
    return (
        f"after a create and two updates, the statistics of {len(ORG_IDS)} organizations (each read twice) and a "
        "404 match the reference on public and hidden data; unknown projects, tasks and foreign assignees are refused"
    )


def _queries_listing(exchange: Exchange, limit: int = 3) -> str:
    groups = exchange.metrics.fingerprints()
    shown = ", ".join(f"{g['count']}x {g['sql']} from {g['call_site']}" for g in groups[:limit])
    more = f" and {len(groups) - limit} more shapes" if len(groups) > limit else ""
    return shown + more


def _ops_listing(exchange: Exchange) -> str:
    return ", ".join(
        f"{op.command} {op.key!r}" + ("" if op.hit is None else (" (hit)" if op.hit else " (miss)"))
        for op in exchange.metrics.cache_ops
    )


async def cached(g: Grading) -> str:
    budget = g.budget("max_cached_queries")
    path = stats_path(1)
    async with g.serve(SCALE) as client:
        first = await client.get(path)
        second = await client.get(path)
    _expect_status(first, 200, f"GET {path}")
    _expect_status(second, 200, f"GET {path} (the second time)")
    queries = len(second.metrics.queries)
    hits = [op for op in second.metrics.cache_ops if op.hit]
    what = f"the second identical GET {path}"
    if queries > budget:
        if not second.metrics.cache_ops:
            raise CheckFailed(
                f"{what} issued {n_queries(queries)} (budget {budget}) and no Redis command: {_queries_listing(second)}"
            )
        raise CheckFailed(
            f"{what} issued {n_queries(queries)} (budget {budget}) after the Redis commands {_ops_listing(second)}: "
            f"{_queries_listing(second)}"
        )
    if not hits:
        raise CheckFailed(
            f"{what} issued {n_queries(queries)} but read nothing from Redis ({_ops_listing(second) or 'no command'}): "
            "the value came from the process's memory (a dict, lru_cache...), which each worker process holds on "
            "its own, never expires and a write handled by another worker cannot invalidate"
        )
    ops = len(second.metrics.cache_ops)
    return (
        f"{what} issued {n_queries(queries)} (budget {budget}) and {count(ops, 'Redis command')}, "
        f"{second.metrics.total_ms:g} ms "
        f"(the first: {n_queries(len(first.metrics.queries))}, {first.metrics.total_ms:g} ms)"
    )


async def never_stale(g: Grading) -> str:
    rows = Rows(dataset(SCALE, PUBLIC_SEED))
    checked = []
    async with g.serve(SCALE) as client:
        previous: dict[int, Any] = {}

        async def read(org_id: int, after: str | None) -> None:
            path = stats_path(org_id)
            status, expected = rows.stats(path)
            exchange = await client.get(path)
            what = f"GET {path}" if after is None else f"after {after} the next GET {path}"
            _expect_status(exchange, status, what)
            body = exchange.response.json()
            difference = first_difference(expected, body)
            if difference and after is not None and body == previous.get(org_id):
                raise CheckFailed(f"{what} still returned the cached value ({difference})")
            if difference:
                raise CheckFailed(f"{what} differs from the reference at {difference}")
            previous[org_id] = body

        await read(1, None)
        await read(2, None)
        writes = [
            (1, lambda: _change(client, rows, open_task(rows, 1)["id"], {"status": "done"}, "a status change")),
            (
                1,
                lambda: _create(
                    client,
                    rows,
                    1,
                    second_project(rows, 1),
                    {"title": "Cache the stats", "due_date": NEW_DUE, "assignee_id": rows.members_of(1)[-1]},
                    "a new task",
                ),
            ),
            (
                2,
                lambda: _change(
                    client,
                    rows,
                    open_task(rows, 2, unassigned=True)["id"],
                    {"assignee_id": rows.members_of(2)[0]},
                    "an assignment",
                ),
            ),
        ]
        for org_id, write in writes:
            await read(org_id, None)  # the value is in the cache now, if the app caches
            done = await write()
            await read(org_id, done)
            checked.append(done)
    return f"after each write ({', '.join(checked)}) the next read matched the reference"


def _org_tokens(key: str) -> list[str]:
    return re.findall(r"\d+", key)


def _without_ids(keys: list[str], org_ids: tuple[int, ...]) -> str:
    """' (it contains no organization id)' when the shared key names no organization by id."""
    if keys and not any(str(org_id) in _org_tokens(keys[0]) for org_id in org_ids):
        return " (it contains no organization id)"
    return ""


def _world(client: Client) -> World:
    """The world the app under test runs in (checks of 10 reach into its Redis and its clock)."""
    assert client.world is not None and client.world.cache is not None, "exercise 10's world has a cache"
    return client.world


def _cache(client: Client) -> Cache:
    cache = _world(client).cache
    assert cache is not None
    return cache


async def _new_keys(client: Client, exchange_of: Any) -> tuple[Exchange, list[str]]:
    cache = _cache(client)
    before = set(await cache.keys())
    exchange = await exchange_of()
    return exchange, sorted(set(await cache.keys()) - before)


async def ttl(g: Grading) -> str:
    low, high = g.budget("min_ttl_seconds"), g.budget("max_ttl_seconds")
    path = stats_path(1)
    async with g.serve(SCALE) as client:
        cache = _cache(client)
        first, keys = await _new_keys(client, lambda: client.get(path))
        _expect_status(first, 200, f"GET {path}")
        if not keys:
            raise CheckFailed(
                f"GET {path} stored nothing in Redis, so nothing can expire (budget: a TTL of {low:g}-{high:g} s)"
            )
        ttls = {}
        for key in keys:
            remaining = await cache.ttl_ms(key)
            # Whole seconds, rounded up: a real (or fake) Redis also counts the few ms of real time since the SET.
            seconds = math.ceil(remaining / 1000)
            if remaining == -1:
                raise CheckFailed(
                    f"the key {key!r} has no TTL (budget {low:g}-{high:g} s): the value never expires, so a write "
                    "that bypasses this app (a migration, another service) leaves it wrong forever"
                )
            if seconds < low:
                raise CheckFailed(
                    f"the key {key!r} expires after {seconds} s (budget: at least {low:g} s): "
                    "so short a TTL recomputes almost every time"
                )
            if seconds > high:
                raise CheckFailed(
                    f"the key {key!r} expires after {seconds} s (budget: at most {high:g} s): a write that "
                    "bypasses this app would stay invisible that long"
                )
            ttls[key] = seconds
        await _world(client).advance(high + 1)
        later = await client.get(path)
        status, expected = Rows(dataset(SCALE, PUBLIC_SEED)).stats(path)
        assert_same_response(later, status, expected, f"GET {path} after {high + 1:g} s")
        if not later.metrics.queries:
            raise CheckFailed(
                f"GET {path} after {high + 1:g} s of modeled time (every TTL of at most {high:g} s has run out) "
                "issued no query: the statistics were not recomputed"
            )
    shown = ", ".join(f"{key!r} {seconds} s" for key, seconds in ttls.items())
    return (
        f"TTL {shown} (budget {low:g}-{high:g} s); after {high + 1:g} s the next GET recomputed "
        f"({n_queries(len(later.metrics.queries))})"
    )


async def per_org(g: Grading) -> str:
    rows = Rows(dataset(SCALE, PUBLIC_SEED))
    written: dict[int, list[str]] = {}
    bodies: dict[int, Any] = {}
    async with g.serve(SCALE) as client:
        for org_id in (1, 2, 4):
            path = stats_path(org_id)
            exchange, written[org_id] = await _new_keys(client, lambda path=path: client.get(path))
            status, expected = rows.stats(path)
            _expect_status(exchange, status, f"GET {path}")
            body = exchange.response.json()
            if first_difference(expected, body):
                for other, other_body in bodies.items():
                    if body == other_body:
                        hit = [op.key for op in exchange.metrics.cache_ops if op.hit]
                        shared = f"the key {hit[0]!r} is shared" if hit else "a cached value is shared"
                        raise CheckFailed(
                            f"GET {path} returned organization {other}'s cached statistics: {shared} across "
                            f"organizations{_without_ids(hit, (other, org_id))}"
                        )
                assert_same_response(exchange, status, expected, f"GET {path}")
            bodies[org_id] = body
    # Each organization got its own figures; now the keys they were stored under.
    for org_id, keys in written.items():
        for key in keys:
            if str(org_id) not in _org_tokens(key):
                raise CheckFailed(
                    f"the key {key!r}, written by GET {stats_path(org_id)}, does not contain the organization id "
                    f"{org_id}"
                )
    if not any(written.values()):
        return "no keys written (nothing is cached), and every organization got its own statistics"
    shown = "; ".join(f"{org_id}: {', '.join(map(repr, keys)) or 'none'}" for org_id, keys in written.items())
    return f"each organization got its own statistics under its own keys ({shown})"


CHECKS = [
    Check(
        "correct",
        "statistics equal the reference (read twice, after writes, 404 included) on public and hidden data",
        correct,
        guard=True,
    ),
    Check("cached", "the second identical GET issues no query: the statistics come from Redis", cached),
    Check("ttl", "the cached statistics have a TTL within budget and are recomputed once it has run out", ttl),
    Check(
        "never_stale", "after each write through the API the next read equals the reference", never_stale, guard=True
    ),
    Check("per_org", "each organization gets its own statistics under keys that contain its id", per_org, guard=True),
]
