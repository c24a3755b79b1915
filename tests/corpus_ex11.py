"""Submissions of exercise 11 (event-loop blocking), as edits of its starter or its solution."""

from corpus import Case

STARTER_CALL = "    subscription = get_subscription(org.id)\n"
SOLUTION_CALL = "    subscription = await run_in_threadpool(get_subscription, org.id)\n"
ENDPOINT = "async def get_billing(org: Organization = Depends(get_organization)):\n"
SDK = (
    "def get_subscription(org_id: int) -> dict:\n"
    '    """The organization\'s subscription, from the billing vendor (about 190 ms)."""\n'
    "    with httpx.Client(base_url=BILLING_API, timeout=5.0) as client:\n"
    '        response = client.get(f"/organizations/{org_id}/subscription")\n'
    "        response.raise_for_status()\n"
    "        return response.json()\n"
)
# A module-level cache of the billing API's answers, filled by a worker thread.
CACHE = (
    "_subscriptions: dict[int, dict] = {}\n\n\n"
    "def refresh(org_id: int) -> None:\n"
    "    _subscriptions[org_id] = get_subscription(org_id)\n\n\n"
)

CASES = {
    # --- correct fixes: every check passes ---------------------------------------------------------
    "11_def_endpoint": Case(
        "11",
        "exercises",
        [(ENDPOINT, ENDPOINT.removeprefix("async "))],
        set(),
        why="a `def` endpoint: FastAPI runs it in its thread pool (the organization still comes from the async "
        "dependency, on the loop)",
    ),
    "11_asyncio_to_thread": Case(
        "11",
        "exercises",
        [
            ("import httpx\n", "import asyncio\n\nimport httpx\n"),
            (STARTER_CALL, "    subscription = await asyncio.to_thread(get_subscription, org.id)\n"),
        ],
        set(),
        why="asyncio.to_thread: the default executor's thread waits, the loop runs on",
    ),
    "11_anyio_to_thread": Case(
        "11",
        "exercises",
        [
            ("import httpx\n", "import anyio.to_thread\nimport httpx\n"),
            (STARTER_CALL, "    subscription = await anyio.to_thread.run_sync(get_subscription, org.id)\n"),
        ],
        set(),
        why="anyio.to_thread.run_sync, what run_in_threadpool calls",
    ),
    "11_run_in_executor": Case(
        "11",
        "exercises",
        [
            ("import httpx\n", "import asyncio\n\nimport httpx\n"),
            (
                STARTER_CALL,
                "    loop = asyncio.get_running_loop()\n"
                "    subscription = await loop.run_in_executor(None, get_subscription, org.id)\n",
            ),
        ],
        set(),
        why="loop.run_in_executor with the default executor",
    ),
    "11_async_client": Case(
        "11",
        "exercises",
        [
            (
                SDK,
                "async def get_subscription(org_id: int) -> dict:\n"
                '    """The organization\'s subscription, from the billing vendor (about 190 ms)."""\n'
                "    async with httpx.AsyncClient(base_url=BILLING_API, timeout=5.0) as client:\n"
                '        response = await client.get(f"/organizations/{org_id}/subscription")\n'
                "        response.raise_for_status()\n"
                "        return response.json()\n",
            ),
            (STARTER_CALL, "    subscription = await get_subscription(org.id)\n"),
        ],
        set(),
        why="the SDK's one call rewritten on httpx.AsyncClient: awaiting it yields the loop",
    ),
    "11_shared_sync_client_in_threads": Case(
        "11",
        "solutions",
        [
            (
                SDK,
                "_billing = httpx.Client(base_url=BILLING_API, timeout=5.0)  # one pool, shared by the threads\n\n\n"
                "def get_subscription(org_id: int) -> dict:\n"
                '    response = _billing.get(f"/organizations/{org_id}/subscription")\n'
                "    response.raise_for_status()\n"
                "    return response.json()\n",
            )
        ],
        set(),
        why="one module-level sync client used from many worker threads: its pool is thread-safe, every answer "
        "is right, and the calls overlap",
    ),
    # --- still blocking ------------------------------------------------------------------------------
    "11_sleep_zero": Case(
        "11",
        "exercises",
        [
            ("import httpx\n", "import asyncio\n\nimport httpx\n"),
            (STARTER_CALL, "    await asyncio.sleep(0)  # let the others run first\n" + STARTER_CALL),
        ],
        {"fast_p95", "billing_p95"},
        "it waited for the billing call to end",
        "`await asyncio.sleep(0)` yields once, before the call; the call itself still holds the loop for 190 ms",
    ),
    "11_async_wrapper": Case(
        "11",
        "exercises",
        [
            (
                "# --- the API ---",
                "async def get_subscription_async(org_id: int) -> dict:\n"
                "    return get_subscription(org_id)  # an async def around a blocking call is still blocking\n\n\n"
                "# --- the API ---",
            ),
            (STARTER_CALL, "    subscription = await get_subscription_async(org.id)\n"),
        ],
        {"fast_p95", "billing_p95"},
        "The call holds the event loop",
        "an `async def` wrapper: awaiting a coroutine that never awaits anything runs the blocking call on the loop",
    ),
    # --- the calls take turns ---------------------------------------------------------------------------
    "11_one_call_at_a_time": Case(
        "11",
        "solutions",
        [
            ("import httpx\n", "import asyncio\n\nimport httpx\n"),
            (
                "# --- the API ---",
                "_one_at_a_time = asyncio.Semaphore(1)  # 'the legacy SDK is not thread-safe'\n\n\n# --- the API ---",
            ),
            (
                SOLUTION_CALL,
                "    async with _one_at_a_time:\n"
                "        subscription = await run_in_threadpool(get_subscription, org.id)\n",
            ),
        ],
        {"billing_p95"},
        "one after the other, never together",
        "the call in a worker thread, but one at a time: the loop is free (the project pages are fast), and the "
        "billing calls queue for the semaphore",
    ),
    "11_async_client_behind_a_lock": Case(
        "11",
        "exercises",
        [
            ("import httpx\n", "import asyncio\n\nimport httpx\n"),
            (
                SDK,
                "_billing = httpx.AsyncClient(base_url=BILLING_API, timeout=5.0)\n"
                "_billing_lock = asyncio.Lock()  # one shared client, 'to be safe'\n\n\n"
                "async def get_subscription(org_id: int) -> dict:\n"
                "    async with _billing_lock:\n"
                '        response = await _billing.get(f"/organizations/{org_id}/subscription")\n'
                "    response.raise_for_status()\n"
                "    return response.json()\n",
            ),
            (STARTER_CALL, "    subscription = await get_subscription(org.id)\n"),
        ],
        {"billing_p95"},
        "a lock around the client",
        "an async client shared behind a lock held for the whole call: the panels take turns, one call at a time",
    ),
    # --- the call is not made, or not its answer shown ------------------------------------------------
    "11_dropped_call": Case(
        "11",
        "exercises",
        [(STARTER_CALL, "    subscription = None  # TODO: the billing SDK blocks; load it in the browser\n")],
        {"correct", "every_call_made"},
        "differs from the reference at subscription",
        "the blocking call removed: fast, and the panel has no subscription",
    ),
    "11_constant_subscription": Case(
        "11",
        "exercises",
        [
            (
                STARTER_CALL,
                '    subscription = {"org_id": org.id, "plan": "team", "seats": 10, "renews_on": "2027-01-01"}\n',
            )
        ],
        {"correct", "every_call_made"},
        "differs from the reference at subscription.",
        "a made-up subscription instead of the billing API's",
    ),
    "11_module_cache": Case(
        "11",
        "solutions",
        [
            ("# --- the API ---", CACHE + "# --- the API ---"),
            (
                SOLUTION_CALL,
                "    if org.id not in _subscriptions:\n"
                "        await run_in_threadpool(refresh, org.id)\n"
                "    subscription = _subscriptions[org.id]\n",
            ),
        ],
        {"every_call_made"},
        "made 0 billing calls during the request (calls: none), expected exactly one",
        "the billing API's answer kept per organization in a module dict: fast under load, stale afterwards",
    ),
    "11_background_refresh": Case(
        "11",
        "solutions",
        [
            ("from fastapi import Depends,", "from fastapi import BackgroundTasks, Depends,"),
            ("# --- the API ---", CACHE + "# --- the API ---"),
            (
                ENDPOINT,
                "async def get_billing(background: BackgroundTasks, org: Organization = Depends(get_organization)):\n",
            ),
            (
                SOLUTION_CALL,
                "    if org.id not in _subscriptions:\n"
                "        await run_in_threadpool(refresh, org.id)\n"
                "    else:\n"
                "        background.add_task(refresh, org.id)  # fresh for the next one\n"
                "    subscription = _subscriptions[org.id]\n",
            ),
        ],
        {"every_call_made"},
        "so an answer kept from an earlier request (or another request's call) is stale",
        "answer with the last known subscription and refresh it in a background task after the response",
    ),
    "11_fire_and_forget_task": Case(
        "11",
        "solutions",
        [
            ("import httpx\n", "import asyncio\n\nimport httpx\n"),
            ("# --- the API ---", CACHE + "_tasks: set = set()\n\n\n# --- the API ---"),
            (
                SOLUTION_CALL,
                "    if org.id not in _subscriptions:\n"
                "        await run_in_threadpool(refresh, org.id)\n"
                "    else:\n"
                "        task = asyncio.create_task(asyncio.to_thread(refresh, org.id))  # do not wait for it\n"
                "        _tasks.add(task)\n"
                "        task.add_done_callback(_tasks.discard)\n"
                "    subscription = _subscriptions[org.id]\n",
            ),
        ],
        {"every_call_made"},
        "was answered while its billing call was pending",
        "asyncio.create_task fire-and-forget: the call runs in a thread, the panel answers before it returns",
    ),
    "11_shares_in_flight_call": Case(
        "11",
        "solutions",
        [
            ("import httpx\n", "import asyncio\n\nimport httpx\n"),
            ("# --- the API ---", "_in_flight: dict[int, asyncio.Future] = {}\n\n\n# --- the API ---"),
            (
                SOLUTION_CALL,
                "    call = _in_flight.get(org.id)\n"
                "    if call is None:  # one call per organization at a time, shared by whoever asks meanwhile\n"
                "        call = asyncio.ensure_future(run_in_threadpool(get_subscription, org.id))\n"
                "        _in_flight[org.id] = call\n"
                "        call.add_done_callback(lambda _: _in_flight.pop(org.id, None))\n"
                "    subscription = await asyncio.shield(call)\n",
            ),
        ],
        {"every_call_made"},
        "none shared with another panel",
        "single-flight: concurrent panels of one organization share one call, so some panels make none",
    ),
    "11_swallows_billing_errors": Case(
        "11",
        "solutions",
        [
            (
                SOLUTION_CALL,
                "    try:\n"
                "        subscription = await run_in_threadpool(get_subscription, org.id)\n"
                "    except httpx.HTTPError:\n"
                "        subscription = None  # the panel stays up without it\n",
            )
        ],
        {"correct"},
        "with the billing API answering HTTP 500 returned HTTP 200, expected HTTP 500",
        "a billing API failure turned into a 200 with no subscription: graceful degradation is exercise 03",
    ),
}
