"""Submissions of exercise 14 (capstone), as edits of its solution."""

from corpus import Case

LOAD = {"endpoint_p95", "p95_under_load"}
GZIP = "app.add_middleware(GZipMiddleware, minimum_size=500)\n"
GATHER = (
    "    analytics, weather = await asyncio.gather(\n"
    '        fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary"),\n'
    '        fetch_json(http, "https://api.weather.example.com/current", city=org.city),\n'
    "    )\n"
)
BILLING = (
    "    # Awaited: while billing answers, the event loop serves everyone else.\n"
    '    subscription = await fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription")\n'
)
CUSTOMERS_INDEX = '    "CREATE INDEX IF NOT EXISTS ix_customers_email_lower ON customers (lower(email))",\n'
ORDERS_INDEX = '    "CREATE INDEX IF NOT EXISTS ix_orders_customer_placed ON orders (customer_id, placed_on)",\n'
EAGER = ".options(selectinload(Project.tasks).selectinload(Task.assignee))\n        )\n    ).all()\n"
# The dashboard's rows, as the solution loads them and as the starter did (one query per project and per task).
EAGER_BLOCK = (
    "    projects = (\n"
    "        await db.scalars(\n"
    "            select(Project)\n"
    "            .where(Project.org_id == org_id)\n"
    "            .order_by(Project.id)\n"
    "            .options(selectinload(Project.tasks).selectinload(Task.assignee))\n"
    "        )\n"
    "    ).all()\n"
    "    project_data = [\n"
)
STARTER_LOOP = (
    "    projects = (await db.scalars(select(Project).where(Project.org_id == org_id).order_by(Project.id))).all()\n"
    "    for project in projects:\n"
    "        tasks = (await db.scalars(select(Task).where(Task.project_id == project.id).order_by(Task.id))).all()\n"
    "        for task in tasks:\n"
    "            if task.assignee_id is not None:\n"
    "                await db.scalar(select(User).where(User.id == task.assignee_id))\n"
    "    projects = (\n"
    "        await db.scalars(\n"
    "            select(Project)\n"
    "            .where(Project.org_id == org_id)\n"
    "            .order_by(Project.id)\n"
    "            .options(selectinload(Project.tasks).selectinload(Task.assignee))\n"
    "        )\n"
    "    ).all()\n"
    "    project_data = [\n"
)
FETCH = (
    "async def fetch_json(http: httpx.AsyncClient, url: str, **params: str) -> dict:\n"
    "    response = await http.get(url, params=params)\n"
)

CASES = {
    # --- correct fixes: each must pass everything -------------------------------------------------------
    "14_joinedload": Case(
        "14",
        "solutions",
        [
            ("from sqlalchemy.orm import aliased, selectinload", "from sqlalchemy.orm import aliased, joinedload"),
            (EAGER, ".options(joinedload(Project.tasks).joinedload(Task.assignee))\n        )\n    ).unique().all()\n"),
        ],
        set(),
        why="one LEFT JOIN statement for projects, tasks and assignees instead of selectinload's three",
    ),
    "14_task_group": Case(
        "14",
        "solutions",
        [
            (
                GATHER,
                "    async with asyncio.TaskGroup() as group:\n"
                "        analytics_call = group.create_task(\n"
                '            fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary")\n'
                "        )\n"
                '        weather_call = group.create_task(fetch_json(http, "https://api.weather.example.com/current",'
                " city=org.city))\n"
                "    analytics, weather = analytics_call.result(), weather_call.result()\n",
            )
        ],
        set(),
        why="a TaskGroup runs the two partner calls at the same time, as gather does",
    ),
    "14_threadpool_sync_billing": Case(
        "14",
        "solutions",
        [
            (
                "from fastapi.middleware.gzip import GZipMiddleware\n",
                "from fastapi.middleware.gzip import GZipMiddleware\n"
                "from starlette.concurrency import run_in_threadpool\n",
            ),
            (
                "app = FastAPI(",
                "# Billing's SDK is synchronous: one client (one pool) for the app, called in a worker thread.\n"
                "billing = httpx.Client(timeout=5.0)\n\n"
                "app = FastAPI(",
            ),
            (
                BILLING,
                "    response = await run_in_threadpool(\n"
                '        billing.get, f"https://billing.example.com/v1/organizations/{org_id}/subscription"\n'
                "    )\n"
                "    response.raise_for_status()\n"
                "    subscription = response.json()\n",
            ),
        ],
        set(),
        why="the sync billing SDK kept, but run in the thread pool: only a worker thread waits, not the loop",
    ),
    "14_module_level_client": Case(
        "14",
        "solutions",
        [
            (
                "    async with httpx.AsyncClient(timeout=5.0) as client:\n"
                "        app.state.http = client\n        yield\n",
                "    yield\n",
            ),
            (
                "def get_http(request: Request) -> httpx.AsyncClient:\n    return request.app.state.http\n",
                "HTTP = httpx.AsyncClient(timeout=5.0)\n\n\n"
                "def get_http(request: Request) -> httpx.AsyncClient:\n    return HTTP\n",
            ),
        ],
        set(),
        why="one module-level AsyncClient instead of one made in the lifespan: still one pool for the app",
    ),
    "14_gzip_threshold_1000": Case(
        "14",
        "solutions",
        [(GZIP, "app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=5)\n")],
        set(),
        why="another size threshold and compression level: the export is still compressed",
    ),
    # --- fast-but-wrong or incomplete fixes -------------------------------------------------------------
    "14_no_gzip": Case(
        "14",
        "solutions",
        [(GZIP, "")],
        {"endpoint_p95"},
        "GET /organizations/1/tasks/export alone",
        "every fix but compression: the aggregate p95 passes (the export is 10% of the requests) while the "
        "export's own p95 does not: the per-endpoint budget is what catches it",
    ),
    "14_sequential_partners": Case(
        "14",
        "solutions",
        [
            (
                GATHER,
                '    analytics = await fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary")\n'
                '    weather = await fetch_json(http, "https://api.weather.example.com/current", city=org.city)\n',
            )
        ],
        LOAD,
        "240 ms waiting for partners (analytics",
        "a shared client but the two calls one after the other: 110 + 130 ms",
    ),
    "14_blocking_billing": Case(
        "14",
        "solutions",
        [
            (
                BILLING,
                "    with httpx.Client(timeout=5.0) as billing:\n"
                "        response = billing.get(\n"
                '            f"https://billing.example.com/v1/organizations/{org_id}/subscription"\n'
                "        )\n"
                "    response.raise_for_status()\n"
                "    subscription = response.json()\n",
            )
        ],
        LOAD | {"shared_client"},
        "holds the event loop",
        "every fix but the blocking call: alone each endpoint is fast, under load everyone waits for billing",
    ),
    "14_customers_index_only": Case(
        "14",
        "solutions",
        [(ORDERS_INDEX, "")],
        {"endpoint_p95"},
        "GET /customers/lookup?email=sophie.ritchie.15175@example.com alone",
        "the customer is found through an index, but its orders still scan 60,000 rows",
    ),
    "14_orders_index_only": Case(
        "14",
        "solutions",
        [(CUSTOMERS_INDEX, "")],
        {"endpoint_p95"},
        "/customers/lookup",
        "the orders through an index, the customer by a full scan of 20,000 rows: 50 ms, over its 40 ms",
    ),
    "14_n_plus_one_kept": Case(
        "14",
        "solutions",
        [(EAGER_BLOCK, STARTER_LOOP)],
        LOAD,
        "225 queries",
        "the partner calls fixed, the dashboard's N+1 still there: one request alone is over budget",
    ),
    "14_client_per_call": Case(
        "14",
        "solutions",
        [
            (
                FETCH,
                "async def fetch_json(http: httpx.AsyncClient, url: str, **params: str) -> dict:\n"
                "    async with httpx.AsyncClient(timeout=5.0) as own:\n"
                "        response = await own.get(url, params=params)\n",
            )
        ],
        {"shared_client"},
        "connection pools opened to the partner APIs",
        "calls at the same time, but a new client (a new connection pool) for each call",
    ),
    "14_cached_partners": Case(
        "14",
        "solutions",
        [
            (
                FETCH,
                "ANSWERS: dict[str, dict] = {}\n\n\n"
                "async def fetch_json(http: httpx.AsyncClient, url: str, **params: str) -> dict:\n"
                "    key = url + repr(sorted(params.items()))\n"
                "    if key in ANSWERS:\n"
                "        return ANSWERS[key]\n"
                "    ANSWERS[key] = await fetch_json_once(http, url, **params)\n"
                "    return ANSWERS[key]\n\n\n"
                "async def fetch_json_once(http: httpx.AsyncClient, url: str, **params: str) -> dict:\n"
                "    response = await http.get(url, params=params)\n",
            )
        ],
        {"every_call_made"},
        "called analytics 0 times",
        "the partners' answers kept in a module-level dict: fast, and stale once they change",
    ),
    "14_cached_export": Case(
        "14",
        "solutions",
        [
            (
                '@app.get("/organizations/{org_id}/tasks/export")\n'
                "async def export_tasks(org_id: int, db: AsyncSession = Depends(get_db)):\n",
                "EXPORTS: dict[int, list] = {}\n\n\n"
                '@app.get("/organizations/{org_id}/tasks/export")\n'
                "async def export_tasks(org_id: int, db: AsyncSession = Depends(get_db)):\n"
                "    if org_id in EXPORTS:\n"
                "        return EXPORTS[org_id]\n"
                "    EXPORTS[org_id] = await build_export(org_id, db)\n"
                "    return EXPORTS[org_id]\n\n\n"
                "async def build_export(org_id: int, db: AsyncSession) -> list:\n",
            )
        ],
        {"correct"},
        "after the data changed",
        "the export kept in process memory: the tasks added afterwards never show",
    ),
    "14_dropped_weather": Case(
        "14",
        "solutions",
        [
            (
                GATHER,
                '    analytics = await fetch_json(http, f"https://analytics.example.com/api/org/{org_id}/summary")\n'
                '    weather = {"city": org.city}  # nobody reads it\n',
            )
        ],
        {"correct", "every_call_made"},
        "weather",
        "one partner call dropped to save its wait",
    ),
}
