"""Submissions of exercise 12 (pool exhaustion), as edits of its starter or its solution."""

from corpus import Case

POOL = "configure_pool(pool_size=5, max_overflow=0, pool_timeout=1.0)"
CLOSE = (
    "    # The rows are read: end the transaction, so the connection goes back to the pool before the slow call.\n"
    "    await db.close()\n"
)
# The starter's reads, from the first query to the task counts (lines 33-40).
READS = (
    "    project = await db.get(Project, project_id)\n"
    "    if not project:\n"
    '        raise HTTPException(status_code=404, detail="Project not found")\n'
    "    org = await db.get(Organization, project.org_id)\n"
    "    counted = await db.execute(\n"
    "        select(Task.status, func.count(Task.id)).where(Task.project_id == project.id).group_by(Task.status)\n"
    "    )\n"
    "    tasks = dict.fromkeys(STATUSES, 0) | dict(counted.all())\n"
)
COUNTS = (
    "    counted = await db.execute(\n"
    "        select(Task.status, func.count(Task.id)).where(Task.project_id == project.id).group_by(Task.status)\n"
    "    )\n"
    "    tasks = dict.fromkeys(STATUSES, 0) | dict(counted.all())\n"
)
CALL = "    usage = await fetch_usage(org.id)\n"
RETURN = (
    "    return {\n"
    '        "project": {"id": project.id, "name": project.name},\n'
    '        "organization": {"id": org.id, "name": org.name},\n'
    '        "tasks": tasks,\n'
    '        "open_tasks": tasks["todo"] + tasks["in_progress"] + tasks["review"],\n'
    '        "usage": usage,\n'
    "    }\n"
)


def indented(block: str, spaces: int = 4) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in block.splitlines(keepends=True))


CASES = {
    # --- correct fixes: each passes everything ---------------------------------------------------------------
    "12_commit_before_call": Case(
        "12",
        "solutions",
        [(CLOSE, "    await db.commit()  # a read-only transaction, ended: its connection is free again\n")],
        set(),
        why="the transaction committed once the rows are read: the connection is back in the pool for the call",
    ),
    "12_transaction_block": Case(
        "12",
        "exercises",
        [(READS, "    async with db.begin():  # the connection is held for this block only\n" + indented(READS))],
        set(),
        why="the reads in a transaction block of their own: it ends (and frees the connection) before the call",
    ),
    "12_call_alongside_the_counts": Case(
        "12",
        "exercises",
        [
            ("import httpx\n", "import asyncio\n\nimport httpx\n"),
            (
                COUNTS + "\n" + CALL,
                "    async def count_tasks() -> dict:\n"
                "        counted = await db.execute(\n"
                "            select(Task.status, func.count(Task.id))\n"
                "            .where(Task.project_id == project.id)\n"
                "            .group_by(Task.status)\n"
                "        )\n"
                "        found = dict.fromkeys(STATUSES, 0) | dict(counted.all())\n"
                "        await db.close()  # the last read: free the connection while the call runs on\n"
                "        return found\n\n"
                "    tasks, usage = await asyncio.gather(count_tasks(), fetch_usage(org.id))\n",
            ),
        ],
        set(),
        why="the call starts as soon as the organization is known, the counts run meanwhile, then the session "
        "closes: the connection is held 15 ms, the request takes 310 ms",
    ),
    "12_short_lived_session": Case(
        "12",
        "exercises",
        [
            ("import httpx\n", "from contextlib import asynccontextmanager\n\nimport httpx\n"),
            ("app = FastAPI(", "read_session = asynccontextmanager(get_db)\n\napp = FastAPI("),
            (
                "async def get_project_overview(project_id: int, db: AsyncSession = Depends(get_db)):\n" + READS,
                "async def get_project_overview(project_id: int):\n"
                "    async with read_session() as db:  # a session for the reads alone\n" + indented(READS),
            ),
        ],
        set(),
        why="the reads in a session of their own, closed before the call; the endpoint holds no session",
    ),
    "12_fix_with_the_largest_pool_allowed": Case(
        "12",
        "solutions",
        [(POOL, "configure_pool(pool_size=4, max_overflow=4, pool_timeout=30.0)")],
        set(),
        why="the fix, with 8 connections at most (4 + 4 overflow): the database's limit is never exceeded",
    ),
    # --- a bigger pool: the database's connection limit ---------------------------------------------------
    "12_huge_pool": Case(
        "12",
        "exercises",
        [(POOL, "configure_pool(pool_size=100, max_overflow=0, pool_timeout=1.0)")],
        {"no_failures"},
        "database refused a connection",
        "100 connections for 50 users: the database accepts 8, the rest are refused",
    ),
    "12_overflow": Case(
        "12",
        "exercises",
        [(POOL, "configure_pool(pool_size=5, max_overflow=20, pool_timeout=1.0)")],
        {"no_failures"},
        "sorry, too many clients already: the database accepts 8 connections at once",
        "overflow connections past the database's limit are refused as well",
    ),
    "12_unlimited_pool": Case(
        "12",
        "exercises",
        [(POOL, "configure_pool(pool_size=0, max_overflow=-1, pool_timeout=1.0)  # no limit at all")],
        {"no_failures"},
        "a bigger pool only moves the queue into the database",
        "a pool without a limit opens a connection per request: refused past 8",
    ),
    "12_null_pool": Case(
        "12",
        "exercises",
        [
            (
                "from harness.db import configure_pool, get_db\n",
                "from contextlib import asynccontextmanager\n\n"
                "from sqlalchemy.pool import NullPool\n\n"
                "from harness import db as database\n"
                "from harness.db import configure_pool, get_db\n",
            ),
            (
                'app = FastAPI(title="Project overview")',
                "\n\n@asynccontextmanager\n"
                "async def lifespan(app: FastAPI):\n"
                '    database.active().use_pool({"poolclass": NullPool})  # a new connection per session\n'
                "    yield\n\n\n"
                'app = FastAPI(title="Project overview", lifespan=lifespan)',
            ),
        ],
        {"no_failures"},
        "database refused a connection",
        "NullPool: no pool to wait on, so 50 users open up to 50 connections; the database refuses past 8",
    ),
    # --- a longer wait, or a queue of one's own: the p95 ---------------------------------------------------
    "12_pool_timeout_60": Case(
        "12",
        "exercises",
        [(POOL, "configure_pool(pool_size=5, max_overflow=0, pool_timeout=60.0)")],
        {"p95"},
        "a typical request waited",
        "no pool timeouts any more: requests queue for a connection instead, p95 over 2 s",
    ),
    "12_largest_pool_allowed": Case(
        "12",
        "exercises",
        [(POOL, "configure_pool(pool_size=8, max_overflow=0, pool_timeout=30.0)")],
        {"p95"},
        "with 8 connections at most, each held across the analytics call",
        "8 connections, all the database allows, each held 315 ms: 25 requests/s for users who send 38",
    ),
    "12_semaphore": Case(
        "12",
        "exercises",
        [
            ("import httpx\n", "import asyncio\n\nimport httpx\n"),
            (POOL, "configure_pool(pool_size=5, max_overflow=0, pool_timeout=30.0)\nSLOTS = asyncio.Semaphore(5)"),
            (
                "async def get_project_overview(project_id: int, db: AsyncSession = Depends(get_db)):\n",
                "async def get_project_overview(project_id: int, db: AsyncSession = Depends(get_db)):\n"
                "    async with SLOTS:  # no more requests at once than connections\n"
                "        return await overview(project_id, db)\n\n\n"
                "async def overview(project_id: int, db: AsyncSession):\n",
            ),
        ],
        {"p95"},
        "or a queue of the app's own",
        "a semaphore of 5 is the pool's queue again, in the app",
    ),
    # --- the connection still held ------------------------------------------------------------------------
    "12_flush_before_call": Case(
        "12",
        "solutions",
        [(CLOSE, "    await db.flush()  # send what is pending before the slow call\n")],
        {"no_failures", "p95"},
        "pool timeout",
        "a flush sends pending writes but keeps the transaction, and its connection, open",
    ),
    "12_rollback_before_call": Case(
        "12",
        "solutions",
        [(CLOSE, "    await db.rollback()  # nothing to keep: end the transaction, free the connection\n")],
        {"correct", "no_failures"},
        "greenlet_spawn has not been called",
        "a rollback frees the connection but expires every loaded object: reading project.id afterwards "
        "loads it again, lazily, in async code (HTTP 500)",
    ),
    "12_gather_with_the_session_open": Case(
        "12",
        "exercises",
        [
            ("import httpx\n", "import asyncio\n\nimport httpx\n"),
            (
                COUNTS + "\n" + CALL,
                "    async def count_tasks() -> dict:\n"
                "        counted = await db.execute(\n"
                "            select(Task.status, func.count(Task.id))\n"
                "            .where(Task.project_id == project.id)\n"
                "            .group_by(Task.status)\n"
                "        )\n"
                "        return dict.fromkeys(STATUSES, 0) | dict(counted.all())\n\n"
                "    tasks, usage = await asyncio.gather(count_tasks(), fetch_usage(org.id))\n",
            ),
        ],
        {"no_failures", "p95"},
        "each request holds its connection from its first query until it ends",
        "the call overlaps the counts, but the session stays open until the request ends",
    ),
    "12_reads_in_a_dependency": Case(
        "12",
        "exercises",
        [
            (
                "@app.get",
                "async def project_rows(project_id: int, db: AsyncSession = Depends(get_db)):\n"
                + READS
                + "    return project, org, tasks\n\n\n@app.get",
            ),
            (
                "async def get_project_overview(project_id: int, db: AsyncSession = Depends(get_db)):\n" + READS,
                "async def get_project_overview(rows: tuple = Depends(project_rows)):\n"
                "    project, org, tasks = rows\n",
            ),
        ],
        {"no_failures", "p95"},
        "pool timeout",
        "the reads moved into a dependency: get_db's session still lives until the request ends",
    ),
    # --- less work: the call or the reads dropped -------------------------------------------------------------
    "12_dropped_call": Case(
        "12",
        "solutions",
        [(CALL, "    usage = {}  # the analytics figures can wait\n")],
        {"correct", "every_call_made"},
        "made 0 analytics calls (no call), expected exactly one",
        "fast by dropping the partner call",
    ),
    "12_cached_usage": Case(
        "12",
        "solutions",
        [
            ("STATUSES = (", "USAGE: dict[int, dict] = {}\nSTATUSES = ("),
            (
                CALL,
                "    if org.id not in USAGE:\n"
                "        USAGE[org.id] = await fetch_usage(org.id)\n"
                "    usage = USAGE[org.id]  # the figures change slowly anyway\n",
            ),
        ],
        {"every_call_made", "work_under_load"},
        "made 0 analytics calls (no call), expected exactly one",
        "the partner's answer kept per organization: stale when it changes",
    ),
    "12_rows_kept_by_the_process": Case(
        "12",
        "solutions",
        [
            ("STATUSES = (", "KEPT: dict[int, tuple] = {}\nSTATUSES = ("),
            (
                READS + CLOSE,
                "    if project_id not in KEPT:\n"
                + indented(READS)
                + "        KEPT[project_id] = (project, org, tasks)\n"
                + "    await db.close()\n"
                + "    project, org, tasks = KEPT[project_id]\n",
            ),
        ],
        {"fresh_data", "work_under_load"},
        "read fewer than 2 rows",
        "the rows read once per project and kept: stale after any write",
    ),
    # --- hiding the pool's error ----------------------------------------------------------------------------
    "12_partial_answer_when_busy": Case(
        "12",
        "exercises",
        [
            ("from sqlalchemy import func, select\n", "from sqlalchemy import exc, func, select\n"),
            (
                READS,
                "    try:\n"
                + indented(READS)
                + "    except exc.TimeoutError:  # the pool is busy: answer what we can\n"
                "        usage = await fetch_usage(0)\n"
                '        return {"project": {"id": project_id, "name": None}, "organization": None, '
                '"tasks": dict.fromkeys(STATUSES, 0), "open_tasks": 0, "usage": usage}\n',
            ),
        ],
        {"no_failures"},
        "wrong answer",
        "catching the pool's TimeoutError and answering 200 with what is known: wrong answers",
    ),
    "12_last_page_when_busy": Case(
        "12",
        "exercises",
        [
            ("from sqlalchemy import func, select\n", "from sqlalchemy import exc, func, select\n"),
            (POOL, "configure_pool(pool_size=5, max_overflow=0, pool_timeout=0.01)"),
            ("STATUSES = (", "LAST: dict[int, dict] = {}\nSTATUSES = ("),
            (
                READS,
                "    try:\n"
                + indented(READS)
                + "    except exc.TimeoutError:\n"
                + "        if project_id in LAST:\n"
                + "            return LAST[project_id]  # busy: the page as it was a moment ago\n"
                + "        raise\n",
            ),
            ("    return {\n", "    LAST[project_id] = {\n"),
            ('        "usage": usage,\n    }\n', '        "usage": usage,\n    }\n    return LAST[project_id]\n'),
        ],
        {"work_under_load"},
        "read fewer than 2 rows",
        "a short pool timeout, and the last page served when it runs out: answers without their reads or calls",
    ),
    "12_503_when_busy": Case(
        "12",
        "exercises",
        [
            ("from sqlalchemy import func, select\n", "from sqlalchemy import exc, func, select\n"),
            (POOL, "configure_pool(pool_size=5, max_overflow=0, pool_timeout=0.05)"),
            (
                READS,
                "    try:\n"
                + indented(READS)
                + "    except exc.TimeoutError:\n"
                + '        raise HTTPException(status_code=503, detail="Busy, try again") from None\n',
            ),
        ],
        {"no_failures"},
        "HTTP 503",
        "shedding load with a 503: fast failures are still failures",
    ),
}
