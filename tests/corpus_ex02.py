"""Submissions of exercise 02 (sequential calls), as edits of its starter and solution.

The rule (grading/ex02_sequential_calls.py, README "What counts as a fix"): how the calls are
scheduled and where the one client lives are the student's choice; the answer, the HTTP 500 when a
partner fails, and one answered call per partner per request are not.
"""

from corpus import Case

LIFESPAN = """@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(timeout=5.0) as client:
        app.state.http = client
        yield
"""

GATHER = """    analytics, weather, subscription = await asyncio.gather(
        fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),
        fetch_json(http, "https://api.weather.example.com/current", city=org.city),
        fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription"),
    )
"""

# The three calls as coroutines, for the variants below (``calls`` in the handler).
CALLS = """    calls = (
        fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),
        fetch_json(http, "https://api.weather.example.com/current", city=org.city),
        fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription"),
    )
"""

FETCH = """    response = await client.get(url, params=params)
    response.raise_for_status()
    return response.json()
"""

CASES = {
    # --- correct fixes, written differently from the solution: each must pass everything ---
    "02_lifespan_state": Case(
        "02",
        "solutions",
        [
            (
                "        app.state.http = client\n        yield\n",
                '        yield {"http": client}  # the lifespan state\n',
            ),
            ("    return request.app.state.http\n", "    return request.state.http  # a copy of it in every request\n"),
        ],
        set(),
        why="the client in the lifespan state (yield {'http': client}), read as request.state.http: passes",
    ),
    "02_module_client_closed_at_shutdown": Case(
        "02",
        "solutions",
        [
            (
                LIFESPAN,
                "HTTP = httpx.AsyncClient()  # httpx's default timeout is the starter's 5 s\n\n\n"
                "@asynccontextmanager\n"
                "async def lifespan(app: FastAPI):\n"
                "    yield\n"
                "    await HTTP.aclose()\n",
            ),
            ("    return request.app.state.http\n", "    return HTTP\n"),
        ],
        set(),
        why="one module-level client with httpx's default timeout, closed at shutdown: passes",
    ),
    "02_task_group": Case(
        "02",
        "solutions",
        [
            (
                GATHER,
                "    async with asyncio.TaskGroup() as group:\n"
                "        a = group.create_task(\n"
                '            fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary")\n'
                "        )\n"
                "        w = group.create_task(\n"
                '            fetch_json(http, "https://api.weather.example.com/current", city=org.city)\n'
                "        )\n"
                "        s = group.create_task(\n"
                '            fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription")\n'
                "        )\n"
                "    analytics, weather, subscription = a.result(), w.result(), s.result()\n",
            )
        ],
        set(),
        why="asyncio.TaskGroup instead of gather (a failure cancels the siblings, still a 500): passes",
    ),
    "02_tasks_awaited_in_turn": Case(
        "02",
        "solutions",
        [
            (
                GATHER,
                CALLS + "    a, w, s = (asyncio.create_task(call) for call in calls)  # all three start now\n"
                "    analytics, weather, subscription = await a, await w, await s\n",
            )
        ],
        set(),
        why="three tasks created first, then awaited one after another: passes",
    ),
    "02_asyncio_wait": Case(
        "02",
        "solutions",
        [
            (
                GATHER,
                CALLS + "    tasks = [asyncio.ensure_future(call) for call in calls]\n"
                "    await asyncio.wait(tasks)\n"
                "    analytics, weather, subscription = (task.result() for task in tasks)  # raises as the starter\n",
            )
        ],
        set(),
        why="asyncio.wait for all three, then each task's result (an error still raises): passes",
    ),
    # --- fast but wrong: an answer not fetched during the request ---
    "02_caches_per_organization": Case(
        "02",
        "solutions",
        [
            (
                'app = FastAPI(title="Overview", lifespan=lifespan)\n',
                'app = FastAPI(title="Overview", lifespan=lifespan)\nCACHE: dict = {}\n',
            ),
            (
                GATHER,
                "    if org_id not in CACHE:\n"
                "        CACHE[org_id] = await asyncio.gather(\n"
                '            fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),\n'
                '            fetch_json(http, "https://api.weather.example.com/current", city=org.city),\n'
                '            fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription"),\n'
                "        )\n"
                "    analytics, weather, subscription = CACHE[org_id]\n",
            ),
        ],
        {"every_call_made"},
        "the analytics service was called 0 times during request 2 to GET /organizations/1/overview, "
        "expected exactly once per request",
        "partner answers cached per organization in a module dict: later requests make no call",
    ),
    "02_calls_but_shows_first_answer": Case(
        "02",
        "solutions",
        [
            (
                'app = FastAPI(title="Overview", lifespan=lifespan)\n',
                'app = FastAPI(title="Overview", lifespan=lifespan)\nFIRST: dict = {}\n',
            ),
            (
                "    return {\n",
                "    analytics, weather, subscription = FIRST.setdefault(org_id, (analytics, weather, subscription))\n"
                "    return {\n",
            ),
        ],
        {"every_call_made"},
        "differs from what the partners answered during that request, at analytics.",
        "every call made, but the first answer kept and shown forever: stale once the partners' data changes",
    ),
    "02_shares_in_flight_calls": Case(
        "02",
        "solutions",
        [
            (
                'app = FastAPI(title="Overview", lifespan=lifespan)\n',
                'app = FastAPI(title="Overview", lifespan=lifespan)\nIN_FLIGHT: dict = {}\n',
            ),
            (
                GATHER,
                "    shared = IN_FLIGHT.get(org_id)\n"
                "    if shared is None:\n"
                "        shared = IN_FLIGHT[org_id] = asyncio.gather(\n"
                '            fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),\n'
                '            fetch_json(http, "https://api.weather.example.com/current", city=org.city),\n'
                '            fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription"),\n'
                "        )\n"
                "        shared.add_done_callback(lambda _done: IN_FLIGHT.pop(org_id, None))\n"
                "    analytics, weather, subscription = await asyncio.shield(shared)\n",
            ),
        ],
        {"every_call_made"},
        "to GET /organizations/1/overview (sent with 2 others at once), expected exactly once per request; "
        "the calls made: none",
        "requests for the same organization at the same time share one set of calls (request coalescing)",
    ),
    "02_cancels_calls_serves_cache": Case(
        "02",
        "solutions",
        [
            (
                'app = FastAPI(title="Overview", lifespan=lifespan)\n',
                'app = FastAPI(title="Overview", lifespan=lifespan)\nCACHE: dict = {}\n',
            ),
            (
                GATHER,
                CALLS + "    if org_id in CACHE:  # make the calls, for show, then drop them\n"
                "        tasks = [asyncio.ensure_future(call) for call in calls]\n"
                "        await asyncio.sleep(0.001)\n"
                "        for task in tasks:\n"
                "            task.cancel()\n"
                "    else:\n"
                "        CACHE[org_id] = await asyncio.gather(*calls)\n"
                "    analytics, weather, subscription = CACHE[org_id]\n",
            ),
        ],
        {"every_call_made"},
        "call ended cancelled before its answer arrived",
        "from the second request on, each call is started and cancelled at once, the answer served from a cache",
    ),
    "02_billing_cut_short": Case(
        "02",
        "solutions",
        [
            (
                GATHER,
                "    async def billing():\n"
                "        try:\n"
                '            url = f"https://billing.example.com/v1/organizations/{org_id}/subscription"\n'
                "            return await asyncio.wait_for(fetch_json(http, url), 0.01)\n"
                "        except TimeoutError:\n"
                "            return None\n\n"
                "    analytics, weather, subscription = await asyncio.gather(\n"
                '        fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),\n'
                '        fetch_json(http, "https://api.weather.example.com/current", city=org.city),\n'
                "        billing(),\n"
                "    )\n",
            )
        ],
        {"correct", "every_call_made"},
        "the billing call ended cancelled before its answer arrived",
        "the billing call is made, but given up after 10 ms and its result ignored",
    ),
    "02_calls_before_the_lookup": Case(
        "02",
        "solutions",
        [
            (
                "    org = await db.get(Organization, org_id)\n",
                "    early = asyncio.ensure_future(\n"
                '        fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary")\n'
                "    )  # start before the lookup, to save its 5 ms\n"
                "    org = await db.get(Organization, org_id)\n",
            ),
            (
                '        fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),\n',
                "        early,\n",
            ),
        ],
        {"every_call_made"},
        "GET /organizations/999/overview (an unknown organization) called analytics",
        "a partner called before the organization is known: an unknown organization still costs a call",
    ),
    # --- fast but wrong: a partner's failure no longer fails the request ---
    "02_null_for_failed_partner": Case(
        "02",
        "solutions",
        [
            (
                GATHER,
                "    results = await asyncio.gather(\n"
                '        fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),\n'
                '        fetch_json(http, "https://api.weather.example.com/current", city=org.city),\n'
                '        fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription"),\n'
                "        return_exceptions=True,\n"
                "    )\n"
                "    analytics, weather, subscription = (None if isinstance(r, Exception) else r for r in results)\n",
            )
        ],
        {"partner_failure"},
        "with analytics answering HTTP 500 returned HTTP 200",
        "gather(return_exceptions=True), a failed partner shown as null: exercise 03's behaviour, not this one's",
    ),
    "02_no_raise_for_status": Case(
        "02",
        "solutions",
        [("    response.raise_for_status()\n", "")],
        {"partner_failure"},
        'returned HTTP 200 (\'{"organization":',
        "raise_for_status dropped: a partner's error body is shown as its data",
    ),
    "02_502_for_failed_partner": Case(
        "02",
        "solutions",
        [
            (
                FETCH,
                "    try:\n"
                "        response = await client.get(url, params=params)\n"
                "        response.raise_for_status()\n"
                "    except httpx.HTTPError as error:\n"
                '        raise HTTPException(status_code=502, detail="a partner failed") from error\n'
                "    return response.json()\n",
            )
        ],
        {"partner_failure"},
        "with analytics answering HTTP 500 returned HTTP 502, expected HTTP 500 as the starter gives",
        "a partner's failure turned into a 502: a different status than the starter's",
    ),
    "02_retries_a_failed_call": Case(
        "02",
        "solutions",
        [
            (
                FETCH,
                "    for attempt in range(2):\n"
                "        response = await client.get(url, params=params)\n"
                "        if response.status_code < 500 or attempt == 1:\n"
                "            break\n"
                "    response.raise_for_status()\n"
                "    return response.json()\n",
            )
        ],
        {"partner_failure"},
        "with analytics answering HTTP 500 called analytics 2 times (",
        "a retry on a 500: a second call per request",
    ),
    "02_no_timeout": Case(
        "02",
        "solutions",
        [("httpx.AsyncClient(timeout=5.0)", "httpx.AsyncClient(timeout=None)")],
        {"partner_failure"},
        "did not finish within 120 s of modeled time with weather never answering",
        "the shared client without a timeout: a partner that never answers hangs the request",
    ),
    "02_longer_timeout": Case(
        "02",
        "solutions",
        [("httpx.AsyncClient(timeout=5.0)", "httpx.AsyncClient(timeout=30.0)")],
        {"partner_failure"},
        "waited 30 s for weather (budget 5 s",
        "a 30 s timeout: a partner that never answers holds the request 6 times longer than in the starter",
    ),
    # --- round 2: a shared pool is what counts; answers that outlive their request; a 4xx; a leaked call ---
    "02_client_per_request_shared_transport": Case(
        "02",
        "solutions",
        [
            (
                'app = FastAPI(title="Overview", lifespan=lifespan)\n',
                'app = FastAPI(title="Overview", lifespan=lifespan)\n'
                "TRANSPORT = httpx.AsyncHTTPTransport()  # one connection pool for every client\n",
            ),
            (
                "    return request.app.state.http\n",
                "    return httpx.AsyncClient(timeout=5.0, transport=TRANSPORT)  # a new client, the same pool\n",
            ),
        ],
        set(),
        why="a new AsyncClient per request, all on one module-level transport: one connection pool, passes",
    ),
    "02_sync_client_in_threads": Case(
        "02",
        "exercises",
        [
            ("import httpx\n", "import asyncio\n\nimport httpx\n"),
            (
                "async def fetch_json(url: str, **params: str) -> dict:\n"
                "    async with httpx.AsyncClient(timeout=5.0) as client:\n"
                "        response = await client.get(url, params=params)\n"
                "        response.raise_for_status()\n"
                "        return response.json()\n",
                "CLIENT = httpx.Client(timeout=5.0)  # one synchronous client, used from worker threads\n\n\n"
                "def fetch_json(url: str, **params: str) -> dict:\n"
                "    response = CLIENT.get(url, params=params)\n"
                "    response.raise_for_status()\n"
                "    return response.json()\n",
            ),
            (
                '    analytics = await fetch_json(f"https://analytics.example.com/api/org/{org_id}/summary")\n'
                '    weather = await fetch_json("https://api.weather.example.com/current", city=org.city)\n'
                '    subscription = await fetch_json(f"https://billing.example.com/v1/organizations/{org_id}/subscription")\n',
                "    analytics, weather, subscription = await asyncio.gather(\n"
                '        asyncio.to_thread(fetch_json, f"https://analytics.example.com/api/org/{org_id}/summary"),\n'
                '        asyncio.to_thread(fetch_json, "https://api.weather.example.com/current", city=org.city),\n'
                '        asyncio.to_thread(fetch_json, f"https://billing.example.com/v1/organizations/{org_id}/subscription"),\n'
                "    )\n",
            ),
        ],
        set(),
        why="a module-level sync httpx.Client, the three calls in worker threads at once: passes",
    ),
    "02_anyio_task_group_local_dict": Case(
        "02",
        "solutions",
        [
            (
                GATHER,
                "    results: dict = {}  # this request's own answers\n"
                '    PARTS = ("analytics", "weather", "subscription")\n\n'
                "    async def fetch(key: str, url: str, **params: str) -> None:\n"
                "        results[key] = await fetch_json(http, url, **params)\n\n"
                "    try:\n"
                "        async with anyio.create_task_group() as group:\n"
                '            group.start_soon(fetch, "analytics", f"https://analytics.example.com/api/org/{org_id}/summary")\n'
                '            weather_url = "https://api.weather.example.com/current"\n'
                '            group.start_soon(lambda: fetch("weather", weather_url, city=org.city))\n'
                '            url = f"https://billing.example.com/v1/organizations/{org_id}/subscription"\n'
                '            group.start_soon(fetch, "subscription", url)\n'
                "    except BaseExceptionGroup as group_error:\n"
                "        raise group_error.exceptions[0] from None\n"
                "    analytics, weather, subscription = (results[k] for k in PARTS)\n",
            ),
            ("import httpx\n", "import anyio\nimport httpx\n"),
        ],
        set(),
        why="an anyio task group writing into a dict local to the request (a failure cancels the others): passes",
    ),
    "02_fallback_to_last_page": Case(
        "02",
        "solutions",
        [
            (
                'app = FastAPI(title="Overview", lifespan=lifespan)\n',
                'app = FastAPI(title="Overview", lifespan=lifespan)\nLAST_PAGE: dict = {}\n',
            ),
            (
                GATHER,
                "    results = await asyncio.gather(\n"
                + CALLS[len("    calls = (\n") : -len("    )\n")]
                + "        return_exceptions=True,\n"
                "    )\n"
                "    failed = [result for result in results if isinstance(result, Exception)]\n"
                "    if failed:\n"
                "        if org_id in LAST_PAGE:\n"
                "            return LAST_PAGE[org_id]  # a partner is down: show the last complete page\n"
                "        raise failed[0]\n"
                "    analytics, weather, subscription = results\n"
                "    LAST_PAGE[org_id] = {\n"
                '        "organization": org.name,\n'
                '        "city": org.city,\n'
                '        "analytics": analytics,\n'
                '        "weather": weather,\n'
                '        "subscription": subscription,\n'
                "    }\n",
            ),
        ],
        {"partner_failure"},
        "(the very page of the healthy request before it: a page kept from an earlier request is no answer)",
        "a partner failing after a healthy request: the last complete page served with a 200",
    ),
    "02_background_refresh": Case(
        "02",
        "solutions",
        [
            (
                'app = FastAPI(title="Overview", lifespan=lifespan)\n',
                'app = FastAPI(title="Overview", lifespan=lifespan)\nBILLING: dict = {}\nREFRESHING: set = set()\n',
            ),
            (
                GATHER,
                '    url = f"https://billing.example.com/v1/organizations/{org_id}/subscription"\n'
                "    if org_id in BILLING:  # refresh billing in the background, show what is known\n"
                "        async def refresh() -> None:\n"
                "            BILLING[org_id] = await fetch_json(http, url)\n\n"
                "        task = asyncio.ensure_future(refresh())\n"
                "        REFRESHING.add(task)\n"
                "        task.add_done_callback(REFRESHING.discard)\n"
                "        analytics, weather = await asyncio.gather(\n"
                '            fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),\n'
                '            fetch_json(http, "https://api.weather.example.com/current", city=org.city),\n'
                "        )\n"
                "        subscription = BILLING[org_id]\n"
                "    else:\n"
                "        analytics, weather, subscription = await asyncio.gather(\n"
                '            fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),\n'
                '            fetch_json(http, "https://api.weather.example.com/current", city=org.city),\n'
                "            fetch_json(http, url),\n"
                "        )\n"
                "        BILLING[org_id] = subscription\n",
            ),
        ],
        {"partner_failure"},
        "with billing answering HTTP 500 returned HTTP 200",
        "billing refreshed in a background task, the page showing the last answer: a failed billing call is a 200",
    ),
    "02_module_level_results": Case(
        "02",
        "solutions",
        [
            (
                'app = FastAPI(title="Overview", lifespan=lifespan)\n',
                'app = FastAPI(title="Overview", lifespan=lifespan)\nRESULTS: dict = {}  # shared by every request\n'
                'WEATHER = "https://api.weather.example.com/current"\n'
                'PARTS = ("analytics", "weather", "subscription")\n',
            ),
            (
                GATHER,
                "    async def store(key: str, call) -> None:\n"
                "        RESULTS[key] = await call\n\n"
                "    await asyncio.gather(\n"
                '        store("analytics", fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary")),\n'
                '        store("weather", fetch_json(http, WEATHER, city=org.city)),\n'
                '        store("subscription", fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription")),\n'
                "    )\n"
                "    analytics, weather, subscription = (RESULTS[k] for k in PARTS)\n",
            ),
        ],
        {"every_call_made"},
        "differs from what the partners answered during that request",
        "answers kept in one module-level dict: a concurrent request for another organization overwrites them",
    ),
    "02_only_5xx_is_an_error": Case(
        "02",
        "solutions",
        [
            (
                "    response.raise_for_status()\n",
                "    if response.status_code >= 500:  # only a server error is an outage\n"
                "        response.raise_for_status()\n",
            )
        ],
        {"partner_failure"},
        "with billing answering HTTP 404 returned HTTP 200",
        "only 5xx raises: a partner's 404 or 429 error body shown as its data",
    ),
    "02_abandoned_hanging_call": Case(
        "02",
        "solutions",
        [
            ("httpx.AsyncClient(timeout=5.0)", "httpx.AsyncClient(timeout=None)"),
            (
                FETCH,
                "    async def call() -> dict:\n"
                "        response = await client.get(url, params=params)\n"
                "        response.raise_for_status()\n"
                "        return response.json()\n\n"
                "    task = asyncio.ensure_future(call())\n"
                "    return await asyncio.wait_for(asyncio.shield(task), 5.0)  # stop waiting, never stop the call\n",
            ),
        ],
        {"partner_failure"},
        "call was still running 10 s after the response, never given up",
        "no client timeout, the wait bounded with wait_for(shield(...)): the 500 is on time, the call runs forever",
    ),
}
