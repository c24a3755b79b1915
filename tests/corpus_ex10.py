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
