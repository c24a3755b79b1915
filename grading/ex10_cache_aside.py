"""10 cache-aside: the statistics come from Redis when nothing changed, fresh after every write.

What counts as a fix (the rule these checks grade):

- May change: how the value is kept in Redis (a JSON string, a hash, one key or several per
  organization), which commands do it (GET, GETEX with a sliding TTL, HGET/HMGET, reads and writes in
  a pipeline; SET with EX, SETEX, EXPIRE), the TTL within budget, how a write invalidates (delete or
  unlink the key, overwrite it with the new figures, bump a version in the key) as long as it happens
  after the commit, whether an unknown organization's 404 is remembered (with a TTL, still a 404),
  and how the response is sent.
- May not change: every response (status and body) of the reads, of the writes and of their errors,
  at once and after any write, through any worker (``correct``, ``never_stale``, ``cached``); where
  the value is held: Redis, the cache every worker process shares, never the process's memory, even
  behind a Redis read (``cached``: a second app process on the same world finds what the first
  stored and sees its writes); the work of a hit: no query, in the request or in a task of the app's
  own it leaves running (``cached`` lets ``AFTER_HIT_SECONDS`` pass and counts the host's background
  work); that every key stored expires within budget, a 404's too, also after a hit has read it
  (``ttl``: a hit may renew a TTL, never remove it); that a key belongs to one organization and names
  its id (``per_org``, with organizations added whose ids collide by remainder or digits); that every
  write path invalidates (status, assignment, unassignment, creation), after its commit, so that a
  read running in the middle of the write cannot put the old figures back (``never_stale`` sends
  reads at offsets during writes whose statements take ``WRITE_MS``), and before its response (a
  Redis write on the organization's keys only after the response started is a background task's),
  and none of them before its commit (a SET of figures computed inside the uncommitted transaction,
  or a DEL a concurrent reader can undo: the world records when each commit happened).

The reference is computed from the seeded rows, with the grader's own writes
applied to a copy of them (``Rows``), so a read after a write is compared
with the figures that write produced. Cache properties are read from the
harness's record of the request (its queries and Redis commands) and from
the world's Redis itself (keys and their TTLs); time passes on the virtual
clock (``World.advance``).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text

from grading.references import organization_in
from harness.engine.checks import Check, CheckFailed, Grading, assert_same_response, first_difference
from harness.settings import QueryLatency
from harness.words import count, n_queries
from harness.world.measure import CacheOp, RequestMetrics
from harness.world.redis_server import Cache
from harness.world.seed import PUBLIC_SEED, Dataset, dataset
from harness.world.world import Client, Exchange, World

SCALE = "10x8"
ORG_IDS = (1, 2, 3, 4)
MISSING_ORG = 999
STATUSES = ("todo", "in_progress", "review", "done")
AS_OF = date(2026, 10, 15)  # the app's reporting date: due before it and not done is overdue
# Modeled seconds ``cached`` lets pass after the hit (less than the shortest TTL allowed) for work the hit
# left to a task of the app's own.
AFTER_HIT_SECONDS = 5.0
NEW_DUE = "2026-10-01"  # a new task due before AS_OF: it counts as overdue unless done


def stats_path(org_id: int) -> str:
    return f"/organizations/{org_id}/stats"


class Rows:
    """The seeded rows, with the grader's writes applied: the reference after any sequence of writes."""

    def __init__(self, data: Dataset) -> None:
        self.organizations = dict(data.organizations)
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


def assigned_task(rows: Rows, org_id: int) -> dict:
    """A task of ``org_id`` that has an assignee, outside project ``org_id`` (see ``open_task``)."""
    return next(t for t in rows.tasks_of_org(org_id) if t["assignee_id"] is not None and t["project_id"] != org_id)


def second_project(rows: Rows, org_id: int) -> int:
    """A project of ``org_id`` whose id differs from the organization's."""
    return next(p["id"] for p in rows.projects if p["org_id"] == org_id and p["id"] != org_id)


@dataclass(frozen=True)
class Write:
    """A write the grader sent: how messages name it, and its measured exchange."""

    what: str
    exchange: Exchange


async def _create(client: Client, rows: Rows, org_id: int, project_id: int, body: dict, what: str) -> Write:
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
    return Write(write, exchange)


async def _change(client: Client, rows: Rows, task_id: int, change: dict, what: str) -> Write:
    path = f"/tasks/{task_id}"
    exchange = await client.request("PATCH", path, json=change)
    expected = task_json(rows.change_task(task_id, change))
    assert_same_response(exchange, 200, expected, f"PATCH {path} ({what})")
    return Write(f"PATCH {path} {json.dumps(change)}", exchange)


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


def _queries_listing(exchange: Exchange | RequestMetrics, limit: int = 3) -> str:
    metrics = exchange.metrics if isinstance(exchange, Exchange) else exchange
    groups = metrics.fingerprints()
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
        seen = len(client.background.queries) if client.background is not None else 0
        second = await client.get(path)
        _expect_status(first, 200, f"GET {path}")
        _expect_status(second, 200, f"GET {path} (the second time)")
        # Work a hit leaves to a task of the app's own (run after the response) is the hit's work too.
        await _world(client).advance(AFTER_HIT_SECONDS)
        later = client.background.queries[seen:] if client.background is not None else []
        if later and len(second.metrics.queries) + len(later) > budget:
            after = RequestMetrics("APP", "after the hit", start=second.metrics.start, queries=list(later))
            raise CheckFailed(
                f"the second identical GET {path} answered from Redis ({_ops_listing(second)}), then a task of the "
                f"app's own issued {n_queries(len(later))} within {AFTER_HIT_SECONDS:g} s after the response "
                f"(budget {budget} for a hit, its tasks included): {_queries_listing(after)}. A hit that "
                "recomputes (to check or refresh the value) does the work the cache is there to save; the value "
                "is kept right by invalidating on every write and by the TTL"
            )
        queries = len(second.metrics.queries)
        hits = [op for op in second.metrics.cache_ops if op.hit]
        what = f"the second identical GET {path}"
        if queries > budget:
            if not second.metrics.cache_ops:
                raise CheckFailed(
                    f"{what} issued {n_queries(queries)} (budget {budget}) and no Redis command: "
                    f"{_queries_listing(second)}"
                )
            raise CheckFailed(
                f"{what} issued {n_queries(queries)} (budget {budget}) after the Redis commands "
                f"{_ops_listing(second)}: {_queries_listing(second)}"
            )
        if not hits:
            raise CheckFailed(
                f"{what} issued {n_queries(queries)} but read nothing from Redis "
                f"({_ops_listing(second) or 'no command'}): the value came from the process's memory (a dict, "
                "lru_cache...), which each worker process holds on its own, never expires and a write handled by "
                "another worker cannot invalidate"
            )
        shared = await _across_workers(g, client, budget)
    ops = len(second.metrics.cache_ops)
    return (
        f"{what} issued {n_queries(queries)} (budget {budget}) and {count(ops, 'Redis command')}, "
        f"{second.metrics.total_ms:g} ms "
        f"(the first: {n_queries(len(first.metrics.queries))}, {first.metrics.total_ms:g} ms); {shared}"
    )


async def _across_workers(g: Grading, client: Client, budget: int) -> str:
    """A second app process (a second worker) on the same world: it finds what the first one stored, and a
    write through the first one is visible through it.

    ``client`` (worker 1) has read organization 1's statistics twice: they are cached.
    """
    rows = Rows(dataset(SCALE, PUBLIC_SEED))
    path = stats_path(1)
    async with _world(client).serve_hosted(g.hosts, g.app_file) as other:
        there = await other.get(path)
        status, expected = rows.stats(path)
        what = f"GET {path} through a second app process (worker 2: the same Redis, the same database)"
        assert_same_response(there, status, expected, what)
        if len(there.metrics.queries) > budget:
            found = (
                "worker 2 found worker 1's value in Redis and recomputed all the same, so every worker keeps its own "
                "copy of the figures"
                if any(op.hit for op in there.metrics.cache_ops)
                else "worker 2 did not find what worker 1 had cached"
            )
            raise CheckFailed(
                f"{what}, right after worker 1 had answered it twice, issued {n_queries(len(there.metrics.queries))} "
                f"(budget {budget}) after the Redis commands {_ops_listing(there) or 'none'}: "
                f"{found} ({_queries_listing(there)})"
            )
        write = await _change(client, rows, open_task(rows, 1)["id"], {"status": "done"}, "through worker 1")
        status, expected = rows.stats(path)
        here = await client.get(path)
        assert_same_response(here, status, expected, f"after {write.what} the next GET {path} through worker 1")
        again = await other.get(path)
        _expect_status(again, status, f"after {write.what} through worker 1, GET {path} through worker 2")
        difference = first_difference(expected, again.response.json())
        if difference:
            raise CheckFailed(
                f"after {write.what} and a GET {path} through worker 1, GET {path} through worker 2 differs from "
                f"the reference at {difference} ({_ops_listing(again) or 'no Redis command'}, "
                f"{n_queries(len(again.metrics.queries))}): worker 2 answered with figures held in its own "
                "process, which a write through another worker cannot reach (Redis had the new ones)"
            )
    return (
        f"a second worker found them at once ({n_queries(len(there.metrics.queries))}), and after {write.what} "
        "through the first it served the new figures"
    )


# --- never stale: writes one after another, and reads in the middle of a write ---

# In never_stale a write statement (INSERT, UPDATE, DELETE) takes this long (a SELECT keeps its round
# trip): a write stays uncommitted long enough for a read to run in the middle of it, as a busy database's
# write waiting on its locks does.
WRITE_MS = 40.0
# A read is sent in the middle of a write every READ_STEP_MS until the write is over (at most MAX_OFFSETS).
READ_STEP_MS = 10.0
MAX_OFFSETS = 20


@dataclass(frozen=True)
class SlowWrites(QueryLatency):
    """The usual round trip per statement, except a write statement, which takes ``write_ms``."""

    write_ms: float = WRITE_MS

    def seconds(self, statement: str) -> float:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            return max(self.write_ms, self.per_statement_ms) / 1000
        return super().seconds(statement)


def _ms_into(moment: float, write: Exchange) -> str:
    return f"{round((moment - write.metrics.start) * 1000, 2):g}"


def _timed_ops(ops: list[CacheOp], since: Exchange) -> str:
    """'DEL 'org:1:stats' at 15.5 ms': Redis commands, each with when it ended, in ms from ``since``'s start."""
    return ", ".join(f"{op.command} {op.key!r} at {_ms_into(op.end, since)} ms" for op in ops)


def _caught_in_the_middle(write: Write, reader: Exchange, offset: float, path: str, difference: str) -> str:
    """Why the read after a write is stale when a read sent during the write made it so."""
    w = write.exchange
    statements = w.metrics.queries
    last = f"{_ms_into(statements[-1].end, w)} ms" if statements else "its end"
    own = _timed_ops(w.metrics.cache_ops, w) or "none"
    reads = ", ".join(
        f"{op.command} {op.key!r}" + (" (hit)" if op.hit else " (miss)")
        for op in reader.metrics.cache_ops
        if op.hit is not None
    )
    if reader.metrics.queries:
        first, final = reader.metrics.queries[0], reader.metrics.queries[-1]
        stored = [op for op in reader.metrics.cache_ops if op.hit is None]
        where = f", then stored what it read ({_timed_ops(stored, w)})" if stored else ""
        middle = (
            f"found nothing cached ({reads or 'no Redis read'}) and recomputed "
            f"({n_queries(len(reader.metrics.queries))}, {_ms_into(first.start, w)}-{_ms_into(final.end, w)} ms "
            f"into the write, whose last statement ended at {last}, its commit right after){where}"
        )
    else:
        middle = f"issued no query ({_ops_listing(reader) or 'no Redis command'})"
    return (
        f"GET {path} sent {offset:g} ms into {write.what} (each write statement takes {WRITE_MS:g} ms here: "
        f"the write stays uncommitted that long) {middle}; the write's own Redis commands: {own}. "
        f"The next GET {path} differs from the reference at {difference}: what a read took from the rows before "
        "the commit was stored after the write's own Redis commands, and stays until the TTL"
    )


# Redis commands that change nothing (reads, TTL lookups, transaction framing): not an invalidation.
_NOT_WRITES = {"TTL", "PTTL", "EXISTS", "TYPE", "SCAN", "KEYS", "PING", "MULTI", "EXEC", "WATCH", "UNWATCH", "DISCARD"}


def _invalidated_before_response(write: Write, org_id: int) -> None:
    """The write's own Redis writes on the organization's keys (a DEL, a SET of the new figures, a version
    INCR...): at least one done before its response goes out, not left to a task that runs after it."""
    metrics = write.exchange.metrics
    sent = metrics.transfer_start if metrics.transfer_start is not None else metrics.end
    if sent is None:
        return
    changes = [
        op for op in metrics.cache_ops if op.hit is None and op.command not in _NOT_WRITES and _names(op.key, org_id)
    ]
    committed = max(metrics.commits, default=None)
    early = [op for op in changes if committed is not None and op.start < committed]
    if early and committed is not None:
        raise CheckFailed(
            f"{write.what} changed organization {org_id}'s cached statistics ({_timed_ops(early, write.exchange)}) "
            f"before its transaction committed ({_ms_into(committed, write.exchange)} ms into the request): "
            "until the commit, a reader can still put the old figures back (or a failed commit leaves figures "
            "that never existed); change the cache after the commit"
        )
    if changes and all(op.start >= sent for op in changes):
        raise CheckFailed(
            f"{write.what} sent its response {_ms_into(sent, write.exchange)} ms into the request and only then "
            f"changed organization {org_id}'s cached statistics ({_timed_ops(changes, write.exchange)}): the "
            "invalidation ran after the response (a BackgroundTasks task, a task of its own), so a client that "
            "reads right after its write gets the old figures; invalidate after the commit, before returning"
        )


def _offsets_during(write: Exchange) -> list[float]:
    """Moments (ms into ``write``) to send a read at, on a write like it: right after each of its Redis
    commands that ran before its last statement (its commit follows that), and every READ_STEP_MS."""
    metrics = write.metrics
    end = metrics.queries[-1].end if metrics.queries else metrics.start
    after_commands = {
        round((op.end - metrics.start) * 1000, 3) for op in metrics.cache_ops if metrics.start <= op.end < end
    }
    steps = math.ceil(metrics.total_ms / READ_STEP_MS)
    every = {n * READ_STEP_MS for n in range(1, min(steps, MAX_OFFSETS) + 1)}
    return sorted(after_commands | every)


async def _read_in_the_middle(
    client: Client, write: Awaitable[Write], path: str, offset: float
) -> tuple[Write, Exchange]:
    """Send ``write``, and ``offset`` ms later a GET of ``path``; both answered."""
    writing = asyncio.ensure_future(write)
    await asyncio.sleep(offset / 1000)
    reading = asyncio.ensure_future(client.get(path))
    done, reader = await asyncio.gather(writing, reading, return_exceptions=True)
    for outcome in (done, reader):
        if isinstance(outcome, BaseException):
            raise outcome
    assert isinstance(done, Write) and isinstance(reader, Exchange)
    return done, reader


async def _committed(world: World, write: Write) -> bool:
    """Whether a PATCH the app answered for is visible to another connection (the grader's own): committed."""
    changed = write.exchange.response.json()
    database = world.database
    assert database is not None
    async with database.sessionmaker() as session:
        found = await session.execute(
            text("SELECT status, assignee_id FROM tasks WHERE id = :id"), {"id": changed["id"]}
        )
        row = found.one_or_none()
    return row is not None and (row[0], row[1]) == (changed["status"], changed["assignee_id"])


async def never_stale(g: Grading) -> str:
    rows = Rows(dataset(SCALE, PUBLIC_SEED))
    checked = []
    latency = SlowWrites(QueryLatency.from_env().per_statement_ms)
    async with g.serve(SCALE, latency=latency) as client:
        previous: dict[int, Any] = {}

        async def read(org_id: int, after: str | None) -> Exchange:
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
            return exchange

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
            (4, lambda: _change(client, rows, assigned_task(rows, 4)["id"], {"assignee_id": None}, "an unassignment")),
        ]
        for org_id, write in writes:
            await read(org_id, None)  # the value is in the cache now, if the app caches
            done = await write()
            _invalidated_before_response(done, org_id)
            await read(org_id, done.what)
            checked.append(done.what)
        if not await _committed(_world(client), done):
            raise CheckFailed(
                f"after {done.what} answered, another connection does not see the change in the database: "
                "the write must be committed (await db.commit()) before the response"
            )

        # A read sent in the middle of a write (at one offset after another, each on a write of its own).
        path = stats_path(2)
        task_id = open_task(rows, 2)["id"]
        statuses = ("done", "in_progress")
        middle = {
            "PATCH": lambda n: _change(client, rows, task_id, {"status": statuses[n % 2]}, "a status change"),
            "POST": lambda n: _create(
                client, rows, 2, second_project(rows, 2), {"title": f"Race {n}", "due_date": NEW_DUE}, "a new task"
            ),
        }
        for method, send in middle.items():
            await read(2, None)
            # The first write has its read at once; when its own Redis commands and statements ran says where
            # else to send one: right after each of its commands, and every READ_STEP_MS until it is over.
            offsets, n = [0.0], 0
            while n < len(offsets):
                offset = offsets[n]
                done, reader = await _read_in_the_middle(client, send(n), path, offset)
                _expect_status(reader, 200, f"GET {path} sent {offset:g} ms into {done.what}")
                status, expected = rows.stats(path)
                after = await client.get(path)
                _expect_status(after, status, f"after {done.what} the next GET {path}")
                difference = first_difference(expected, after.response.json())
                if difference:
                    raise CheckFailed(_caught_in_the_middle(done, reader, offset, path, difference))
                previous[2] = after.response.json()
                if n == 0:
                    offsets += _offsets_during(done.exchange)
                n += 1
            shown = ", ".join(f"{offset:g}" for offset in offsets)
            checked.append(f"{n} {method} writes, each with a read sent in the middle ({shown} ms into it)")
    return f"after each write ({', '.join(checked)}) the next read matched the reference"


def _org_tokens(key: str) -> list[str]:
    """The numbers in a key, as written ('org:000042:stats' -> ['000042'])."""
    return re.findall(r"\d+", key)


def _names(key: str, org_id: int) -> bool:
    """Whether one of the key's numbers is ``org_id`` (zero-padded or not)."""
    return org_id in {int(token) for token in _org_tokens(key)}


def _without_ids(keys: list[str], org_ids: tuple[int, ...]) -> str:
    """' (it contains no organization id)' when the shared key names no organization by id."""
    if keys and not any(_names(keys[0], org_id) for org_id in org_ids):
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
    missing = stats_path(MISSING_ORG)
    async with g.serve(SCALE) as client:
        cache = _cache(client)
        first, keys = await _new_keys(client, lambda: client.get(path))
        _expect_status(first, 200, f"GET {path}")
        if not keys:
            raise CheckFailed(
                f"GET {path} stored nothing in Redis, so nothing can expire (budget: a TTL of {low:g}-{high:g} s)"
            )
        # What an unknown organization's 404 stores (if anything) runs out too.
        unknown, more = await _new_keys(client, lambda: client.get(missing))
        _expect_status(unknown, 404, f"GET {missing}")
        # A hit (of each) may renew a TTL (GETEX EX), never remove it (GETEX PERSIST, PERSIST).
        for again in (path, missing):
            hit = await client.get(again)
            _expect_status(hit, 200 if again == path else 404, f"GET {again} (the second time)")
        ttls = {}
        stored = {**{key: f"GET {path}" for key in keys}, **{key: f"GET {missing}" for key in more}}
        for key in await cache.keys():  # each key there now, whichever GET stored it
            stored_by = stored.get(key, f"the second GET {path} or {missing}")
            remaining = await cache.ttl_ms(key)
            if remaining == -2:
                continue  # gone meanwhile
            # Whole seconds, rounded up: a real (or fake) Redis also counts the few ms of real time since the SET.
            seconds = math.ceil(remaining / 1000)
            if remaining == -1:
                raise CheckFailed(
                    f"the key {key!r} has no TTL after a second, identical GET (stored by {stored_by}; budget "
                    f"{low:g}-{high:g} s; a hit may renew a TTL, as GETEX EX does, never remove it, as GETEX PERSIST "
                    "does): the value never expires, so a write that bypasses this app (a migration, another "
                    "service) leaves it wrong forever"
                )
            if seconds < low:
                raise CheckFailed(
                    f"the key {key!r} (stored by {stored_by}) expires after {seconds} s (budget: at least "
                    f"{low:g} s): so short a TTL recomputes almost every time"
                )
            if seconds > high:
                raise CheckFailed(
                    f"the key {key!r} (stored by {stored_by}) expires after {seconds} s (budget: at most "
                    f"{high:g} s): a write that bypasses this app would stay invisible that long"
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


# Organizations ``per_org`` adds to the world: ids that share digits, a remainder or a suffix with the
# seeded ones (9 % 8 == 1, 10 % 8 == 2, 12 ends in 2), each with a name of its own.
ADDED_ORGS = {9: "Nine Nines Ltd", 10: "Ten Tons Inc", 12: "Twelve Oaks Co"}


async def _add_organizations(world: World, rows: Rows) -> None:
    database = world.database
    assert database is not None
    async with database.sessionmaker() as session:
        for org_id, name in ADDED_ORGS.items():
            await session.execute(
                text("INSERT INTO organizations (id, name, city, member_count) VALUES (:id, :name, 'Oslo', 0)"),
                {"id": org_id, "name": name},
            )
            rows.organizations[org_id] = {"id": org_id, "name": name, "city": "Oslo", "member_count": 0}
        await session.commit()


async def per_org(g: Grading) -> str:
    rows = Rows(dataset(SCALE, PUBLIC_SEED))
    written: dict[int, list[str]] = {}
    bodies: dict[int, Any] = {}
    async with g.serve(SCALE) as client:
        await _add_organizations(_world(client), rows)
        for org_id in (1, 2, 4, *ADDED_ORGS):
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
            if not _names(key, org_id):
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
