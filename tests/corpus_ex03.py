"""Submissions of exercise 03 (graceful degradation), as edits of its starter and solution."""

from corpus import Case

RETURN_EXCEPTIONS = (
    "        return_exceptions=True,  # a failed call comes back as its exception, the others still count\n"
)

# A hand-written "gather" that awaits one call after the other, keeping the exceptions.
ONE_AFTER_ANOTHER = """async def one_after_another(*calls, return_exceptions: bool = False) -> list:
    results = []
    for call in calls:
        try:
            results.append(await call)
        except Exception as exc:
            results.append(exc)
    return results


@app.get("/organizations/{org_id}/home")"""

CASES = {
    "03_gather_without_return_exceptions": Case(
        "03",
        "solutions",
        [(RETURN_EXCEPTIONS, "")],
        {"one_service_fails", "one_service_hangs", "all_services_down"},
        "returned HTTP 500, expected 200; the app raised HTTPStatusError",
        "gather without return_exceptions: the first failure propagates and one partner sinks the page",
    ),
    "03_timeouts_but_sequential": Case(
        "03",
        "solutions",
        [
            ('@app.get("/organizations/{org_id}/home")', ONE_AFTER_ANOTHER),
            ("await asyncio.gather(", "await one_after_another("),
        ],
        {"fast_when_healthy", "one_service_hangs"},
        "the calls ran analytics 5-285 ms, weather 285-605 ms, billing 605-795 ms: they wait for each other",
        "timeouts and per-call handling, but the calls still wait for each other: 790 ms healthy, "
        "1015 ms with analytics hanging",
    ),
    "03_gather_without_timeout": Case(
        "03",
        "solutions",
        [("httpx.AsyncClient(timeout=PARTNER_TIMEOUT)", "httpx.AsyncClient(timeout=None)")],
        {"one_service_hangs", "all_services_down"},
        "did not finish within 120 s of modeled time with analytics hanging",
        "gather with return_exceptions but no timeout: a hanging partner hangs the page",
    ),
    "03_catch_all_returns_empty": Case(
        "03",
        "solutions",
        [
            (
                "    org = await db.get(Organization, org_id)\n"
                "    if not org:\n"
                '        raise HTTPException(status_code=404, detail="Org not found")\n',
                "    try:\n"
                "        org = await db.get(Organization, org_id)\n"
                "        if not org:\n"
                '            raise HTTPException(status_code=404, detail="Org not found")\n'
                "    except Exception:\n"
                "        return {}  # the home page must never fail\n",
            )
        ],
        {"correct"},
        "GET /organizations/999/home (public data) returned HTTP 200, expected 404",
        "a catch-all that returns {} also swallows the 404 of an unknown organization",
    ),
    "03_empty_dict_for_failed_part": Case(
        "03",
        "solutions",
        [
            (
                "    response = await client.get(url, params=params)\n"
                "    response.raise_for_status()\n"
                "    return response.json()\n",
                "    try:\n"
                "        response = await client.get(url, params=params)\n"
                "        response.raise_for_status()\n"
                "        return response.json()\n"
                "    except httpx.HTTPError:\n"
                "        return {}\n",
            )
        ],
        {"one_service_fails", "one_service_hangs", "all_services_down"},
        "differs from the reference at analytics: expected null, got {}",
        "errors swallowed inside fetch_json: a failed part is {} (not null) and never listed in degraded",
    ),
    "03_degraded_not_listed": Case(
        "03",
        "solutions",
        [('"degraded": sorted(name for name, part in parts.items() if part is None),', '"degraded": [],')],
        {"one_service_fails", "one_service_hangs", "all_services_down"},
        "differs from the reference at degraded",
        "failed parts become null but are not listed in degraded: the client cannot tell missing from empty",
    ),
    "03_wait_for_instead_of_client_timeout": Case(
        "03",
        "solutions",
        [
            ("httpx.AsyncClient(timeout=PARTNER_TIMEOUT)", "httpx.AsyncClient(timeout=None)"),
            (
                "    response = await client.get(url, params=params)\n",
                "    response = await asyncio.wait_for(client.get(url, params=params), timeout=0.5)\n",
            ),
            ("isinstance(result, httpx.HTTPError)", "isinstance(result, httpx.HTTPError | TimeoutError)"),
        ],
        set(),
        why="asyncio.wait_for around each call instead of the client's timeout: passes",
    ),
}
