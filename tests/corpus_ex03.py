"""Submissions of exercise 03 (graceful degradation), as edits of its starter and solution."""

from corpus import Case

RETURN_EXCEPTIONS = (
    "        return_exceptions=True,  # a failed call comes back as its exception, the others still count\n"
)

FETCH = """    response = await client.get(url, params=params)
    response.raise_for_status()
    return response.json()
"""

# The solution's concurrent calls, each result or exception in ``results``.
GATHER = """    results = await asyncio.gather(
        fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),
        fetch_json(http, "https://api.weather.example.com/current", city=org.city),
        fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription"),
        return_exceptions=True,  # a failed call comes back as its exception, the others still count
    )
"""

# The three calls as coroutines, for the variants below.
CALLS = """        fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),
        fetch_json(http, "https://api.weather.example.com/current", city=org.city),
        fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription"),
"""

NO_CLIENT_TIMEOUT = ("httpx.AsyncClient(timeout=PARTNER_TIMEOUT)", "httpx.AsyncClient(timeout=None)")

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
    # --- correct fixes, written differently from the solution: each must pass everything ---
    "03_asyncio_wait_with_deadline": Case(
        "03",
        "solutions",
        [
            NO_CLIENT_TIMEOUT,
            (
                GATHER,
                "    tasks = [asyncio.ensure_future(call) for call in (\n" + CALLS + "    )]\n"
                "    done, pending = await asyncio.wait(tasks, timeout=0.5)  # one deadline for the three\n"
                "    for task in pending:\n"
                "        task.cancel()\n"
                "    results = [\n"
                "        (task.exception() or task.result()) if task in done else httpx.ReadTimeout('no answer')\n"
                "        for task in tasks\n"
                "    ]\n",
            ),
        ],
        set(),
        why="asyncio.wait with a 0.5 s deadline, the unfinished calls cancelled and counted as failed: passes",
    ),
    "03_per_request_timeout": Case(
        "03",
        "solutions",
        [
            NO_CLIENT_TIMEOUT,
            ("await client.get(url, params=params)", "await client.get(url, params=params, timeout=PARTNER_TIMEOUT)"),
        ],
        set(),
        why="the timeout given with each request instead of on the client: passes",
    ),
    "03_asyncio_timeout_block": Case(
        "03",
        "solutions",
        [
            NO_CLIENT_TIMEOUT,
            (
                FETCH,
                "    async with asyncio.timeout(0.5):\n"
                "        response = await client.get(url, params=params)\n"
                "    response.raise_for_status()\n"
                "    return response.json()\n",
            ),
            ("isinstance(result, httpx.HTTPError)", "isinstance(result, httpx.HTTPError | TimeoutError)"),
        ],
        set(),
        why="asyncio.timeout around each call (raises TimeoutError): passes",
    ),
    "03_task_group_try_except": Case(
        "03",
        "solutions",
        [
            (
                GATHER,
                "    async def part(call):\n"
                "        try:\n"
                "            return await call\n"
                "        except httpx.HTTPError:  # this part only: the group never sees it\n"
                "            return None\n\n"
                "    async with asyncio.TaskGroup() as group:\n"
                "        tasks = [group.create_task(part(call)) for call in (\n" + CALLS + "        )]\n"
                "    results = [task.result() for task in tasks]\n",
            ),
        ],
        set(),
        why="a TaskGroup whose tasks each catch their own partner error: passes",
    ),
    # --- fast but wrong: a partner called twice in one request ---
    "03_retries_on_500": Case(
        "03",
        "solutions",
        [
            (
                FETCH,
                "    for attempt in range(2):\n"
                "        response = await client.get(url, params=params)\n"
                "        if response.status_code < 500 or attempt == 1:\n"
                "            break  # a 500 gets one more try\n"
                "    response.raise_for_status()\n"
                "    return response.json()\n",
            )
        ],
        {"one_service_fails", "all_services_down"},
        "with analytics answering HTTP 500 called analytics 2 times (",
        "a retry on HTTP 500: right page, within budget, but a second call to a failing partner",
    ),
    "03_retries_on_timeout": Case(
        "03",
        "solutions",
        [
            ("PARTNER_TIMEOUT = httpx.Timeout(0.5)", "PARTNER_TIMEOUT = httpx.Timeout(0.45)"),
            (
                "    response = await client.get(url, params=params)\n",
                "    try:\n"
                "        response = await client.get(url, params=params)\n"
                "    except httpx.TimeoutException:\n"
                "        response = await client.get(url, params=params)  # two 0.45 s tries fit in 1 s\n",
            ),
        ],
        {"one_service_hangs", "all_services_down"},
        "with analytics hanging called analytics 2 times",
        "a retry after a timeout: two 0.45 s attempts stay under the 1000 ms budget, but call twice",
    ),
    # --- fast but wrong: an answer not fetched during the request ---
    "03_caches_per_organization": Case(
        "03",
        "solutions",
        [
            (
                'app = FastAPI(title="Home", lifespan=lifespan)\n',
                'app = FastAPI(title="Home", lifespan=lifespan)\nCACHE: dict = {}\n',
            ),
            (
                GATHER,
                "    if org_id not in CACHE:\n"
                "        CACHE[org_id] = await asyncio.gather(\n"
                + CALLS.replace("        fetch", "            fetch")
                + "            return_exceptions=True,\n"
                "        )\n"
                "    results = CACHE[org_id]\n",
            ),
        ],
        {"every_call_made"},
        "the analytics service was called 0 times during request 2 to GET /organizations/1/home",
        "partner answers cached per organization: later requests make no call and show stale data",
    ),
    "03_last_known_good": Case(
        "03",
        "solutions",
        [
            (
                'app = FastAPI(title="Home", lifespan=lifespan)\n',
                'app = FastAPI(title="Home", lifespan=lifespan)\nLAST: dict = {}\n',
            ),
            (
                "            parts[name] = None\n",
                "            parts[name] = LAST.get((org_id, name))  # the last answer we had, if any\n",
            ),
            (
                "        else:\n            parts[name] = result\n",
                "        else:\n            parts[name] = LAST[(org_id, name)] = result\n",
            ),
        ],
        {"one_service_fails", "one_service_hangs", "all_services_down"},
        "(a part whose call failed in this request is null, whatever the request before it loaded)",
        "a failed part filled with the answer of an earlier request: stale data, and not listed in degraded",
    ),
    # --- round 2: each request its own parts; any error status; no call left running ---
    "03_event_hook_as_completed": Case(
        "03",
        "solutions",
        [
            NO_CLIENT_TIMEOUT,
            (
                "httpx.AsyncClient(timeout=None)",
                'httpx.AsyncClient(timeout=None, event_hooks={"response": [raise_on_error]})',
            ),
            (
                "@asynccontextmanager\n",
                "async def raise_on_error(response: httpx.Response) -> None:\n"
                "    response.raise_for_status()  # every partner call, in one place\n\n\n"
                "@asynccontextmanager\n",
            ),
            (
                GATHER,
                "    async def named(name: str, call) -> tuple[str, object]:\n"
                "        try:\n"
                "            return name, await asyncio.wait_for(call, timeout=0.45)\n"
                "        except (httpx.HTTPError, TimeoutError) as error:\n"
                "            return name, error\n\n"
                "    calls = [named(name, call) for name, call in zip(names, (\n" + CALLS + "    ))]\n"
                "    by_name = dict([await next_done for next_done in asyncio.as_completed(calls)])\n"
                "    results = [by_name[name] for name in names]\n",
            ),
            ("isinstance(result, httpx.HTTPError)", "isinstance(result, httpx.HTTPError | TimeoutError)"),
        ],
        set(),
        why="raise_for_status in a response event hook, wait_for per call, collected with as_completed: passes",
    ),
    "03_anyio_fail_after": Case(
        "03",
        "solutions",
        [
            NO_CLIENT_TIMEOUT,
            ("import httpx\n", "import anyio\nimport httpx\n"),
            (
                GATHER,
                "    results: list = [None, None, None]  # this request's own\n\n"
                "    async def one(index: int, call) -> None:\n"
                "        try:\n"
                "            with anyio.fail_after(0.55):\n"
                "                results[index] = await call\n"
                "        except (httpx.HTTPError, TimeoutError) as error:\n"
                "            results[index] = httpx.ReadTimeout(str(error))\n\n"
                "    calls = (\n" + CALLS + "    )\n"
                "    async with anyio.create_task_group() as group:\n"
                "        for index, call in enumerate(calls):\n"
                "            group.start_soon(one, index, call)\n",
            ),
        ],
        set(),
        why="an anyio task group, each call under anyio.fail_after, results in a list local to the request: passes",
    ),
    "03_module_level_parts": Case(
        "03",
        "solutions",
        [
            (
                'app = FastAPI(title="Home", lifespan=lifespan)\n',
                'app = FastAPI(title="Home", lifespan=lifespan)\nPARTS: dict = {}  # shared by every request\n',
            ),
            (
                GATHER,
                "    async def load(name: str, call) -> None:\n"
                "        try:\n"
                "            PARTS[name] = await call\n"
                "        except httpx.HTTPError:\n"
                "            PARTS[name] = None\n\n"
                "    await asyncio.gather(*(load(name, call) for name, call in zip(names, (\n" + CALLS + "    ))))\n"
                "    results = [PARTS[name] for name in names]\n",
            ),
        ],
        {"every_call_made"},
        "(sent with 2 others at once) differs from what the partners answered during that request",
        "each part written into one module-level dict: two requests at once for different organizations mix",
    ),
    "03_only_5xx_degrades": Case(
        "03",
        "solutions",
        [
            (
                "    response.raise_for_status()\n",
                "    if response.status_code >= 500:  # only a server error is an outage\n"
                "        response.raise_for_status()\n",
            )
        ],
        {"one_service_fails"},
        "weather shows the partner's error body: any HTTP error status, a 4xx such as 404 or 429",
        "only a 5xx degrades the page: a partner's 404 error body shown as its data",
    ),
    "03_shield_abandons_the_call": Case(
        "03",
        "solutions",
        [
            NO_CLIENT_TIMEOUT,
            (
                FETCH,
                "    async def call() -> dict:\n"
                "        response = await client.get(url, params=params)\n"
                "        response.raise_for_status()\n"
                "        return response.json()\n\n"
                "    task = asyncio.ensure_future(call())\n"
                "    try:\n"
                "        return await asyncio.wait_for(asyncio.shield(task), 0.5)  # stop waiting, not the call\n"
                "    except TimeoutError as error:\n"
                '        raise httpx.ReadTimeout("gave up waiting") from error\n',
            ),
        ],
        {"one_service_hangs", "all_services_down"},
        "with analytics hanging sent its page while its call to analytics (still running 10 s later) was still running",
        "wait_for(shield(task)) and no client timeout: the page is on time, the hanging call runs forever",
    ),
    "03_wait_deadline_without_cancel": Case(
        "03",
        "solutions",
        [
            NO_CLIENT_TIMEOUT,
            (
                GATHER,
                "    tasks = [asyncio.ensure_future(call) for call in (\n" + CALLS + "    )]\n"
                "    done, pending = await asyncio.wait(tasks, timeout=0.5)  # the late ones are left to run\n"
                "    results = [\n"
                "        (task.exception() or task.result()) if task in done else httpx.ReadTimeout('no answer')\n"
                "        for task in tasks\n"
                "    ]\n",
            ),
        ],
        {"one_service_hangs", "all_services_down"},
        "was still running; a call the page stops waiting for must have ended (given up on, not abandoned)",
        "asyncio.wait with a deadline, the late tasks never cancelled: a hanging call outlives its page",
    ),
}
