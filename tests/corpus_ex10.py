"""Submissions of exercise 10 (cache-aside), as edits of its solution."""

from corpus import Case

DELETE_KEY = "    await cache.delete(stats_key(org_id))\n"
FORGET_IN_PATCH = "    await forget_stats(cache, project.org_id)  # the task's organization, not in this path\n"
SET_WITH_TTL = "    await cache.set(key, json.dumps(stats), ex=STATS_TTL_SECONDS)\n"

CASES = {
    "10_never_invalidates": Case(
        "10",
        "solutions",
        [(DELETE_KEY, "    pass  # the TTL will catch up\n")],
        {"never_stale"},
        "still returned the cached value (by_status.",
        "no invalidation on write, only the TTL: every read for a minute after a write shows the old figures",
    ),
    "10_patch_invalidates_the_project": Case(
        "10",
        "solutions",
        [(FORGET_IN_PATCH, "    await forget_stats(cache, task.project_id)\n")],
        {"never_stale"},
        "after PATCH /tasks/",
        "PATCH deletes the key of the task's project id, not of its organization: the create invalidates, "
        "the update does not",
    ),
    "10_one_key_for_all": Case(
        "10",
        "solutions",
        [('    return f"org:{org_id}:stats"\n', '    return "stats"\n')],
        {"per_org", "correct"},
        "GET /organizations/2/stats returned organization 1's cached statistics: the key 'stats' is shared across "
        "organizations",
        "one key for every organization: the first organization read answers for all of them",
    ),
    "10_keyed_by_name": Case(
        "10",
        "solutions",
        [
            (
                "    key = stats_key(org_id)\n"
                "    cached = await cache.get(key)\n"
                "    if cached is not None:\n"
                "        return json.loads(cached)\n"
                "    org = await db.get(Organization, org_id)\n"
                "    if not org:\n"
                '        raise HTTPException(status_code=404, detail="Org not found")\n',
                "    org = await db.get(Organization, org_id)\n"
                "    if not org:\n"
                '        raise HTTPException(status_code=404, detail="Org not found")\n'
                '    key = f"stats:{org.name}"\n'
                "    cached = await cache.get(key)\n"
                "    if cached is not None:\n"
                "        return json.loads(cached)\n",
            ),
            (
                DELETE_KEY,
                '    stale = [key async for key in cache.scan_iter("stats:*")]  # which one is ours? all of them\n'
                "    if stale:\n"
                "        await cache.delete(*stale)\n",
            ),
        ],
        {"per_org", "cached"},
        "GET /organizations/4/stats returned organization 1's cached statistics: the key 'stats:Wonka Labs' is "
        "shared across organizations (it contains no organization id)",
        "keyed by the organization's name: names repeat (organizations 1 and 4 of the public data are both "
        "'Wonka Labs'), a hit still needs the organization's row, and a write knowing only the id has to delete "
        "every organization's statistics",
    ),
    "10_no_ttl": Case(
        "10",
        "solutions",
        [(SET_WITH_TTL, "    await cache.set(key, json.dumps(stats))\n")],
        {"ttl"},
        "the key 'org:1:stats' has no TTL",
        "cached forever: fine while every write goes through this app, wrong forever after one that does not",
    ),
    "10_dict_cache": Case(
        "10",
        "solutions",
        [
            ("STATS_TTL_SECONDS = 60\n", "STATS_TTL_SECONDS = 60\nLOCAL_CACHE: dict[str, str] = {}  # no round trip\n"),
            ("    cached = await cache.get(key)\n", "    cached = LOCAL_CACHE.get(key)\n"),
            (SET_WITH_TTL, "    LOCAL_CACHE[key] = json.dumps(stats)\n"),
            (DELETE_KEY, "    LOCAL_CACHE.pop(stats_key(org_id), None)\n"),
        ],
        {"cached", "ttl"},
        "the value came from the process's memory",
        "a dict in the process instead of Redis: per worker, never expires, not invalidated by other workers",
    ),
}

# --- issue 12: what counts as a fix ------------------------------------------

READ_KEY = "    cached = await cache.get(key)\n"
FORGET = "    await cache.delete(stats_key(org_id))\n"
COMMIT_THEN_FORGET_IN_CREATE = "    await db.commit()\n    await forget_stats(cache, org_id)\n"
COMMIT_THEN_FORGET_IN_PATCH = "    await db.commit()\n" + FORGET_IN_PATCH
FOUND_404 = '        raise HTTPException(status_code=404, detail="Org not found")\n'
HIT_THEN_ORG = (
    "    if cached is not None:\n        return json.loads(cached)\n"
    "    org = await db.get(Organization, org_id)\n    if not org:\n" + FOUND_404
)

CASES.update(
    {
        "10_getex_sliding_ttl": Case(
            "10",
            "solutions",
            [(READ_KEY, "    cached = await cache.getex(key, ex=STATS_TTL_SECONDS)  # a hit keeps it 60 s more\n")],
            set(),
            why="GETEX: a hit renews the TTL (a sliding expiry); GETEX is a read, its hit counts",
        ),
        "10_pipeline_read": Case(
            "10",
            "solutions",
            [
                (
                    READ_KEY,
                    "    async with cache.pipeline(transaction=False) as pipe:\n"
                    "        pipe.get(key)\n"
                    "        pipe.ttl(key)\n"
                    "        cached, _remaining = await pipe.execute()\n",
                )
            ],
            set(),
            why="the read goes through a pipeline (GET and TTL in one round trip): a GET in a pipeline is a read",
        ),
        "10_hash": Case(
            "10",
            "solutions",
            [
                (READ_KEY, '    cached = await cache.hget(key, "json")\n'),
                (
                    SET_WITH_TTL,
                    "    async with cache.pipeline() as pipe:\n"
                    '        pipe.hset(key, mapping={"json": json.dumps(stats), "computed_for": str(org_id)})\n'
                    "        pipe.expire(key, STATS_TTL_SECONDS)\n"
                    "        await pipe.execute()\n",
                ),
            ],
            set(),
            why="a Redis hash per organization (HSET and EXPIRE in a pipeline, HGET on a read)",
        ),
        "10_setex": Case(
            "10",
            "solutions",
            [(SET_WITH_TTL, "    await cache.setex(key, STATS_TTL_SECONDS, json.dumps(stats))\n")],
            set(),
            why="SETEX instead of SET with EX: the same TTL",
        ),
        "10_unlink": Case(
            "10",
            "solutions",
            [(FORGET, "    await cache.unlink(stats_key(org_id))\n")],
            set(),
            why="UNLINK instead of DEL",
        ),
        "10_write_through": Case(
            "10",
            "solutions",
            [
                (
                    "async def forget_stats(cache: Redis, org_id: int) -> None:\n"
                    '    """Call after the commit: a read between the delete and the commit would cache the old '
                    'figures again."""\n' + FORGET,
                    "async def refresh_stats(cache: Redis, db: AsyncSession, org_id: int) -> None:\n"
                    '    """After the commit: the new figures replace the old ones (write-through)."""\n'
                    "    org = await db.get(Organization, org_id)\n"
                    "    stats = await compute_stats(db, org)\n"
                    "    await cache.set(stats_key(org_id), json.dumps(stats), ex=STATS_TTL_SECONDS)\n",
                ),
                ("    await forget_stats(cache, org_id)\n", "    await refresh_stats(cache, db, org_id)\n"),
                (FORGET_IN_PATCH, "    await refresh_stats(cache, db, project.org_id)\n"),
            ],
            set(),
            why="write-through: each write overwrites the organization's key with the new figures after its commit",
        ),
        "10_versioned_keys": Case(
            "10",
            "solutions",
            [
                (
                    '    return f"org:{org_id}:stats"\n',
                    '    return f"org:{org_id}:version"  # the version counter\n',
                ),
                (
                    "    key = stats_key(org_id)\n    cached = await cache.get(key)\n",
                    '    version = await cache.get(stats_key(org_id)) or "0"\n'
                    '    key = f"org:{org_id}:stats:v{version}"\n'
                    "    cached = await cache.get(key)\n",
                ),
                (FORGET, "    await cache.incr(stats_key(org_id))  # readers move on to a new key\n"),
            ],
            set(),
            why="versioned keys: a write increments the organization's version (after its commit), "
            "reads use the key of the current version; the old one runs out with its TTL",
        ),
        "10_negative_cache": Case(
            "10",
            "solutions",
            [
                (
                    HIT_THEN_ORG,
                    '    if cached == "missing":\n'
                    + FOUND_404
                    + "    if cached is not None:\n        return json.loads(cached)\n"
                    "    org = await db.get(Organization, org_id)\n"
                    "    if not org:\n"
                    '        await cache.set(key, "missing", ex=STATS_TTL_SECONDS)\n' + FOUND_404,
                )
            ],
            set(),
            why="an unknown organization is remembered too (for the same TTL), and still answers 404",
        ),
        "10_delete_before_commit": Case(
            "10",
            "solutions",
            [
                (COMMIT_THEN_FORGET_IN_CREATE, "    await forget_stats(cache, org_id)\n    await db.commit()\n"),
                (COMMIT_THEN_FORGET_IN_PATCH, FORGET_IN_PATCH + "    await db.commit()\n"),
            ],
            {"never_stale"},
            "cached statistics (DEL 'org:1:stats' at 10.5 ms) before its transaction committed",
            "the key is deleted before the commit: a read in between finds nothing, recomputes from the old rows "
            "and caches them after the delete, until the TTL",
        ),
        "10_create_deletes_before_commit": Case(
            "10",
            "solutions",
            [(COMMIT_THEN_FORGET_IN_CREATE, "    await forget_stats(cache, org_id)\n    await db.commit()\n")],
            {"never_stale"},
            "before its transaction committed",
            "only the create deletes before its commit: the race on one write path is enough",
        ),
        "10_decoy_redis_read": Case(
            "10",
            "solutions",
            [
                ("STATS_TTL_SECONDS = 60\n", "STATS_TTL_SECONDS = 60\nLOCAL: dict[str, dict] = {}\n"),
                (
                    "    if cached is not None:\n        return json.loads(cached)\n",
                    "    if cached is not None and key in LOCAL:\n        return LOCAL[key]  # no json.loads\n",
                ),
                (SET_WITH_TTL, SET_WITH_TTL + "    LOCAL[key] = stats\n"),
            ],
            {"cached"},
            "through a second app process",
            "the app reads Redis and serves its own module-level copy: each worker process keeps its own figures",
        ),
        "10_local_ttl_cache": Case(
            "10",
            "solutions",
            [
                (
                    "STATS_TTL_SECONDS = 60\n",
                    "STATS_TTL_SECONDS = 60\nLOCAL: dict[str, tuple[float, dict]] = {}  # key: (expires, stats)\n",
                ),
                (
                    "    if cached is not None:\n        return json.loads(cached)\n",
                    "    if key in LOCAL and LOCAL[key][0] > time.monotonic():\n"
                    "        return LOCAL[key][1]\n"
                    "    if cached is not None:\n"
                    "        LOCAL[key] = (time.monotonic() + 5, json.loads(cached))\n"
                    "        return LOCAL[key][1]\n",
                ),
                ("import json\n", "import json\nimport time\n"),
                (SET_WITH_TTL, SET_WITH_TTL + "    LOCAL[key] = (time.monotonic() + 5, stats)\n"),
                (FORGET, FORGET + "    LOCAL.pop(stats_key(org_id), None)\n"),
            ],
            {"cached"},
            "through worker 2",
            "a 5-second cache in the process in front of Redis: a write through another worker stays invisible there",
        ),
        "10_ttl_too_long": Case(
            "10",
            "solutions",
            [("STATS_TTL_SECONDS = 60\n", "STATS_TTL_SECONDS = 24 * 3600  # invalidation keeps it fresh anyway\n")],
            {"ttl"},
            "expires after 86400 s (budget: at most 600 s)",
            "a day-long TTL: a write that bypasses the app stays invisible for a day",
        ),
        "10_caches_the_404": Case(
            "10",
            "solutions",
            [
                (
                    "    org = await db.get(Organization, org_id)\n    if not org:\n" + FOUND_404,
                    "    org = await db.get(Organization, org_id)\n"
                    "    if not org:\n"
                    '        missing = {"detail": "Org not found"}\n'
                    "        await cache.set(key, json.dumps(missing), ex=STATS_TTL_SECONDS)\n" + FOUND_404,
                )
            ],
            {"correct"},
            "GET /organizations/999/stats (public data, again) returned HTTP 200, expected 404",
            "the 404's body is cached and a hit returns it with 200",
        ),
        "10_404_cached_forever": Case(
            "10",
            "solutions",
            [
                (
                    HIT_THEN_ORG,
                    '    if cached == "missing":\n'
                    + FOUND_404
                    + "    if cached is not None:\n        return json.loads(cached)\n"
                    "    org = await db.get(Organization, org_id)\n"
                    "    if not org:\n"
                    '        await cache.set(key, "missing")  # organizations are never created here\n' + FOUND_404,
                )
            ],
            {"ttl"},
            "the key 'org:999:stats' has no TTL",
            "an unknown organization remembered forever: one created later (by another service) stays a 404",
        ),
        "10_status_changes_only": Case(
            "10",
            "solutions",
            [
                (
                    COMMIT_THEN_FORGET_IN_PATCH,
                    "    await db.commit()\n"
                    "    if change.status is not None:  # only the status counts (or so it seems)\n"
                    "        await forget_stats(cache, project.org_id)\n",
                )
            ],
            {"never_stale"},
            'after PATCH /tasks/84 {"assignee_id": 21} the next GET /organizations/2/stats still returned the '
            "cached value",
            "a PATCH invalidates only when the status changes: an assignment changes `unassigned` and `busiest` too",
        ),
        "10_unassign_not_invalidated": Case(
            "10",
            "solutions",
            [
                (
                    COMMIT_THEN_FORGET_IN_PATCH,
                    "    await db.commit()\n"
                    "    if change.status is not None or change.assignee_id is not None:\n"
                    "        await forget_stats(cache, project.org_id)\n",
                )
            ],
            {"never_stale"},
            'after PATCH /tasks/105 {"assignee_id": null} the next GET /organizations/4/stats still returned',
            "a PATCH that unassigns (assignee_id null) does not invalidate",
        ),
    }
)

# --- issue 12, round 2: a hit's own tasks, a hit's TTL, colliding ids, invalidation after the response ---

HIT = "    if cached is not None:\n        return json.loads(cached)\n"

CASES.update(
    {
        "10_audit_on_hit": Case(
            "10",
            "solutions",
            [
                ("import json\n", "import asyncio\nimport json\n"),
                ("from harness.db import get_db\n", "from harness.db import active, get_db\n"),
                (
                    HIT,
                    "    if cached is not None:\n"
                    "        served = json.loads(cached)\n"
                    "        AUDITS.add(asyncio.get_running_loop().create_task(audit(cache, org_id, served)))\n"
                    "        return served\n",
                ),
                (
                    "@app.get(",
                    "AUDITS: set = set()\n\n\n"
                    "async def audit(cache: Redis, org_id: int, served: dict) -> None:\n"
                    '    """After the response: recompute, and drop the value if it was wrong."""\n'
                    "    async with active().sessionmaker() as db:\n"
                    "        org = await db.get(Organization, org_id)\n"
                    "        if org is None or await compute_stats(db, org) != served:\n"
                    "            await cache.delete(stats_key(org_id))\n\n\n"
                    "@app.get(",
                ),
            ],
            {"cached"},
            "then a task of the app's own issued",
            "each hit answers from Redis and starts a task that recomputes all 9 figures after the response: "
            "the hit is fast, the work is all still done",
        ),
        "10_getex_persist": Case(
            "10",
            "solutions",
            [(READ_KEY, "    cached = await cache.getex(key, persist=True)  # a hit keeps it for good\n")],
            {"ttl"},
            "a hit may renew a TTL, as GETEX EX does, never remove it, as GETEX PERSIST does",
            "GETEX PERSIST: the first read stores it with a TTL, the first hit removes the TTL",
        ),
        "10_hit_renews_in_pipeline": Case(
            "10",
            "solutions",
            [
                (
                    READ_KEY,
                    "    async with cache.pipeline(transaction=False) as pipe:\n"
                    "        pipe.get(key)\n"
                    "        pipe.expire(key, STATS_TTL_SECONDS)\n"
                    "        cached, _renewed = await pipe.execute()\n",
                )
            ],
            set(),
            why="a hit renews the TTL with EXPIRE in the same pipeline as its GET: a sliding TTL, still bounded",
        ),
        "10_bucket_key": Case(
            "10",
            "solutions",
            [('    return f"org:{org_id}:stats"\n', '    return f"org:{org_id % 8}:stats"  # 8 buckets\n')],
            {"per_org"},
            "GET /organizations/9/stats returned organization 1's cached statistics: the key 'org:1:stats' is shared",
            "the key names a bucket (org_id % 8), not the organization: organizations 1 and 9 share one",
        ),
        "10_key_with_padded_id": Case(
            "10",
            "solutions",
            [('    return f"org:{org_id}:stats"\n', '    return f"stats:org-{org_id:06d}:v1"\n')],
            set(),
            why="another key layout: a zero-padded id and a schema version in the key; each key still names "
            "its organization's id",
        ),
        "10_invalidates_in_background_task": Case(
            "10",
            "solutions",
            [
                ("from fastapi import Depends,", "from fastapi import BackgroundTasks, Depends,"),
                ("    new: NewTask,\n", "    new: NewTask,\n    background: BackgroundTasks,\n"),
                (
                    "    task_id: int, change: TaskChange, db:",
                    "    task_id: int, change: TaskChange, background: BackgroundTasks, db:",
                ),
                (
                    COMMIT_THEN_FORGET_IN_CREATE,
                    "    await db.commit()\n    background.add_task(forget_stats, cache, org_id)\n",
                ),
                (
                    COMMIT_THEN_FORGET_IN_PATCH,
                    "    await db.commit()\n    background.add_task(forget_stats, cache, project.org_id)\n",
                ),
            ],
            {"never_stale"},
            "and only then changed organization 1's cached statistics (DEL 'org:1:stats' at",
            "the key is deleted in a BackgroundTasks task, after the response: a client that reads right after "
            "its write gets the old figures",
        ),
    }
)
