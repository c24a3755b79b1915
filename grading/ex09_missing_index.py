"""09 missing-index: the lookup's queries find their rows through indexes, not full scans.

The database charges each statement by its plan (``harness.world.plans``): a full
SCAN of customers (20,000 rows) or orders (60,000 rows) costs every row, an
index SEARCH a small constant. The checks read the plans the harness recorded
for the profile request (``QueryEvent.plan``) and its modeled DB time.

What a fix may change: the indexes and how they come to exist (statements in
``MIGRATIONS``, raw DDL in the lifespan, ``Index`` objects built at startup with
``if_not_exists`` or ``checkfirst``; an expression index, a plain one on the
bare column, COLLATE NOCASE, UNIQUE, one or two columns on orders); the query's
shape, as long as the index serves it and it returns the same rows (compare
the bare column with the lower-cased input, a join, the order of statements).
What it may not change: the answer (public and hidden data, mixed-case input,
the order of the orders, the 404: ``correct``); the answer after rows are
written to the database while the app runs: a new customer, a newer order, a
changed name and address (``after_writes``: no copy of the table taken at
startup, no answer kept from an earlier request); the rows the database
returns for one lookup, the customer and its 10 newest orders, never all of
its orders cut in Python (``rows_read``); the work outside any request: the
startup builds indexes, it does not read the tables (``startup_work``). And it
must make the plans searches in the world's database (``uses_index``): an
index declared in Python but never built there is no index.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.exc import SQLAlchemyError

from harness.engine.checks import Check, CheckFailed, Grading, assert_same_response
from harness.models import Customer, Order
from harness.words import count, n_queries
from harness.world.fingerprint import short
from harness.world.measure import QueryEvent, RequestMetrics
from harness.world.seed import CUSTOMERS, ORDERS, PUBLIC_SEED, Dataset, dataset
from harness.world.world import Client, Exchange, RequestHung, World

SCALE = "10x8"
LARGE_TABLES = {"customers": CUSTOMERS, "orders": ORDERS}
RECENT = 10
UNKNOWN_EMAIL = "nobody.at.all@example.com"


def lookup_path(email: str) -> str:
    return "/customers/lookup?" + urlencode({"email": email}, safe="@")


def mixed_case(email: str) -> str:
    """``Sophie.Ritchie.15175@Example.com``: how people type their address."""
    local, domain = email.split("@")
    return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.capitalize()


def reference(data: Dataset, email: str) -> tuple[int, Any]:
    """The lookup as the pristine starter answers it, computed from the seeded rows."""
    return answer(data.customers, data.orders, email)


def answer(customers: list[dict], all_orders: list[dict], email: str) -> tuple[int, Any]:
    """The lookup as the pristine starter answers it, from these rows (the seeded ones, or those after writes)."""
    wanted = email.lower()
    customer = next((c for c in customers if c["email"].lower() == wanted), None)
    if customer is None:
        return 404, None
    orders = [o for o in all_orders if o["customer_id"] == customer["id"]]
    orders.sort(key=lambda o: (o["placed_on"], o["id"]), reverse=True)
    return 200, {
        "customer": {k: customer[k] for k in ("id", "name", "email", "country")},
        "recent_orders": [
            {
                "id": o["id"],
                "placed_on": o["placed_on"].isoformat(),
                "status": o["status"],
                "total_cents": o["total_cents"],
            }
            for o in orders[:RECENT]
        ],
    }


def notable(data: Dataset) -> tuple[Counter[int], int, int, int]:
    """Orders per customer, and three customers: the busiest, one with two orders on one day, one without."""
    counts = Counter(o["customer_id"] for o in data.orders)
    busiest = min(counts, key=lambda cid: (-counts[cid], cid))
    same_day = Counter((o["customer_id"], o["placed_on"]) for o in data.orders)
    tied = min(cid for (cid, _), n in same_day.items() if n > 1 and counts[cid] <= RECENT)
    no_orders = min(c["id"] for c in data.customers if c["id"] not in counts)
    return counts, busiest, tied, no_orders


def lookups(data: Dataset) -> list[tuple[str, str]]:
    """(email as typed, what it tests) for one dataset: chosen from its rows, so they differ per seed."""
    counts, busiest, tied, no_orders = notable(data)
    by_id = {c["id"]: c for c in data.customers}
    return [
        (by_id[busiest]["email"], f"the customer with the most orders, {counts[busiest]}: only the {RECENT} newest"),
        (mixed_case(by_id[busiest]["email"]), "the same address typed in mixed case"),
        (mixed_case(by_id[tied]["email"]), "a customer with two orders on one day: newest first, then the higher id"),
        (by_id[no_orders]["email"].upper(), "a customer without orders, address in upper case"),
        (UNKNOWN_EMAIL, "an address nobody has: 404"),
    ]


async def correct(g: Grading) -> str:
    count = 0
    for seed in g.seeds:
        data = dataset(SCALE, seed)
        kind = "public" if seed == PUBLIC_SEED else "hidden"
        async with g.serve(SCALE, seed) as client:
            for email, what in lookups(data):
                path = lookup_path(email)
                status, body = reference(data, email)
                exchange = await client.get(path)
                assert_same_response(exchange, status, body, f"GET {path} ({kind} data; {what})")
                count += 1
    return (
        f"{count // 2} lookups per dataset (mixed and upper case, the busiest customer, one without orders, a 404) "
        "match the reference on public and hidden data"
    )


# --- after writes: fresh answers, rows read, work outside requests --------------------------

NEWCOMER_EMAIL = "nora.newcomer@example.net"  # lower-case, as every stored address
NEWCOMER_ORDERS = 40  # many more than RECENT: reading them all shows in the rows


@dataclass
class Lookup:
    path: str
    what: str
    expected: tuple[int, Any]
    exchange: Exchange


@dataclass
class AfterWrites:
    """One world on the hidden data: lookups before and after rows are written to its database directly."""

    lookups: list[Lookup]
    background: RequestMetrics | None  # what the app read outside any request: its startup, its own tasks
    indexes: dict[str, list[str]]  # per large table: its indexes in the world's database, as "name (key)"


def newcomer_orders(customer_id: int) -> list[dict]:
    """Orders of a customer added after startup: dates out of id order, some on the same day."""
    return [
        {
            "customer_id": customer_id,
            "placed_on": date(2026, 1, 1) + timedelta(days=(i * 7) % 31),
            "status": ("paid", "shipped", "delivered")[i % 3],
            "total_cents": 1_000 + 137 * i,
        }
        for i in range(NEWCOMER_ORDERS)
    ]


async def write_rows(world: World, data: Dataset, busiest: int, renamed: int) -> tuple[list[dict], list[dict]]:
    """Write to the world's database behind the app's back (as another service or an admin would): a new
    customer with many orders, a newer order for the busiest customer, a new name and address for another.
    Returns the customers and orders as they are now."""
    assert world.database is not None
    newest = max(o["placed_on"] for o in data.orders) + timedelta(days=1)
    async with world.database.sessionmaker() as session:
        newcomer = Customer(name="Nora Newcomer", email=NEWCOMER_EMAIL, country="NZ", signed_up=date(2025, 12, 1))
        session.add(newcomer)
        await session.flush()
        added = [Order(**row) for row in newcomer_orders(newcomer.id)]
        added.append(Order(customer_id=busiest, placed_on=newest, status="paid", total_cents=4_242))
        session.add_all(added)
        changed = await session.get(Customer, renamed)
        assert changed is not None
        changed.name, changed.email = "Renata Renamed", f"renata.renamed.{renamed}@example.net"
        await session.commit()
        row = {k: getattr(changed, k) for k in ("id", "name", "email", "country")}
        new_customer = {k: getattr(newcomer, k) for k in ("id", "name", "email", "country")}
        new_orders = [
            {k: getattr(o, k) for k in ("id", "customer_id", "placed_on", "status", "total_cents")} for o in added
        ]
    customers = [row if c["id"] == renamed else c for c in data.customers] + [new_customer]
    return customers, data.orders + new_orders


async def indexes_in(world: World) -> dict[str, list[str]]:
    """The indexes on customers and orders that exist in the world's database, as "name (key)"."""
    assert world.database is not None
    if world.database.engine.dialect.name == "postgresql":
        sql = (
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename IN ('customers', 'orders') "
            "ORDER BY indexname"
        )
    else:
        sql = (
            "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('customers', 'orders') ORDER BY name"
        )
    async with world.database.engine.connect() as conn:
        rows = (await conn.exec_driver_sql(sql)).all()
    found: dict[str, list[str]] = {table: [] for table in LARGE_TABLES}
    for table, name, definition in (tuple(row) for row in rows):
        if str(name).endswith("_pkey"):  # PostgreSQL's primary key: there before any fix
            continue
        key = re.search(r"\bON\b[^(]*(\(.*)$", str(definition), flags=re.IGNORECASE | re.DOTALL)
        found[str(table)].append(f"{name} {key.group(1).strip()}" if key else str(name))
    return found


async def run_after_writes(g: Grading) -> AfterWrites:
    data = dataset(SCALE, g.hidden_seed)
    counts, busiest, renamed, _ = notable(data)
    by_id = {c["id"]: c for c in data.customers}
    busy_email = mixed_case(by_id[busiest]["email"])
    old_email = by_id[renamed]["email"]
    newcomer = mixed_case(NEWCOMER_EMAIL)  # spelled the same before and after: an answer kept by address is seen
    done: list[Lookup] = []

    async def look(client: Client, customers: list[dict], orders: list[dict], email: str, what: str) -> None:
        path = lookup_path(email)
        done.append(Lookup(path, what, answer(customers, orders, email), await client.get(path)))

    async with g.serve(SCALE, g.hidden_seed) as client:
        assert client.world is not None
        before = (data.customers, data.orders)
        await look(client, *before, busy_email, f"before the writes: the busiest customer, {counts[busiest]} orders")
        await look(client, *before, old_email, "before the writes: the customer whose name and address change")
        await look(client, *before, newcomer, "before the writes: an address nobody has yet, 404")
        try:
            customers, orders = await write_rows(client.world, data, busiest, renamed)
        except SQLAlchemyError as error:
            raise CheckFailed(
                f"rows could not be written to the database while the app ran ({type(error).__name__}: "
                f"{str(error).splitlines()[0]}): does the app keep a transaction open between requests?"
            ) from None
        new_email = next(c["email"] for c in customers if c["id"] == renamed)
        await look(
            client,
            customers,
            orders,
            newcomer,
            f"a customer added to the database after the app started, with {NEWCOMER_ORDERS} orders",
        )
        await look(client, customers, orders, busy_email, "the busiest customer again, after a newer order was added")
        await look(client, customers, orders, new_email.upper(), "a customer's new name and address, after the change")
        await look(client, customers, orders, old_email, "that customer's old address, no longer anyone's: 404")
        indexes = await indexes_in(client.world)
        return AfterWrites(done, client.background, indexes)


async def after_writes_session(g: Grading) -> AfterWrites:
    """The session, run once per grading (three checks read it); its failure is every reader's failure."""

    async def run() -> AfterWrites | CheckFailed | RequestHung:
        try:
            return await run_after_writes(g)
        except (CheckFailed, RequestHung) as failed:
            return failed

    session = await g.once("after_writes", run)
    if isinstance(session, CheckFailed | RequestHung):
        raise session
    return session


async def after_writes(g: Grading) -> str:
    session = await after_writes_session(g)
    for lookup in session.lookups:
        status, body = lookup.expected
        try:
            assert_same_response(lookup.exchange, status, body, f"GET {lookup.path} ({lookup.what})")
        except CheckFailed as wrong:
            raise CheckFailed(
                f"{wrong}: rows were written to the database while the app ran (a new customer with "
                f"{NEWCOMER_ORDERS} orders, a newer order for the busiest customer, another's new name and address), "
                "and an answer must show the database as it is when the request comes in, as the starter's does: "
                "rows kept from an earlier read (at startup, or for an earlier request) go stale"
            ) from None
    return (
        f"{len(session.lookups)} lookups before and after writes to the database (a new customer with "
        f"{NEWCOMER_ORDERS} orders, a newer order, a changed name and address) match the reference"
    )


async def rows_read(g: Grading) -> str:
    budget = g.budget("max_rows_per_lookup")
    session = await after_writes_session(g)
    read = []
    for lookup in session.lookups:
        metrics = lookup.exchange.metrics
        read.append(metrics.rows_read)
        if metrics.rows_read > budget:
            raise CheckFailed(
                f"GET {lookup.path} ({lookup.what}) read {count(metrics.rows_read, 'row')} from the database "
                f"(budget {budget:g}: a lookup shows one customer and at most {RECENT} orders); the rows came from "
                f"{metrics.most_rows()}: rows sorted, cut or searched in Python were still read, one by one; "
                "the query itself must narrow them to what the answer shows"
            )
    return f"at most {count(max(read), 'row')} read per lookup, over {len(read)} lookups (budget {budget:g})"


async def startup_work(g: Grading) -> str:
    budget = g.budget("max_startup_rows")
    session = await after_writes_session(g)
    background = session.background
    if background is None:  # an app run in process: its startup is not measured apart
        return "the app's work outside requests is not measured here"
    if background.rows_read > budget:
        raise CheckFailed(
            f"the app read {count(background.rows_read, 'row')} from the database outside any request (its startup, "
            f"or tasks of its own between requests; budget {budget:,}): {background.most_rows()}. A copy of the "
            "table read at startup costs a full read at every start and is stale after the next write; a lookup "
            "reads what it shows when it is asked"
        )
    statements = count(len(background.queries), "statement")
    return (
        f"{count(background.rows_read, 'row')} read outside any request ({statements}, {background.db_ms:g} ms: "
        f"the app's startup; budget {budget:,} rows)"
    )


# --- plans --------------------------------------------------------------------


def large_steps(query: QueryEvent) -> list[str]:
    """The plan steps of a query that read customers or orders."""
    return [step for step in query.plan if len(step.split()) > 1 and step.split()[1] in LARGE_TABLES]


def why_scan(query: QueryEvent, step: str) -> str:
    """Why this step reads every row: what the query compares, and which index does not serve it."""
    words = step.split()
    table = words[1]
    where = query.sql.split("WHERE", 1)[1] if "WHERE" in query.sql.upper() else ""
    where = re.split(r"\b(?:ORDER BY|GROUP BY|LIMIT)\b", where, flags=re.IGNORECASE)[0]
    columns = sorted(set(re.findall(rf"\b{table}\.(\w+)\s*(?:=|IN\b|<|>)", where, flags=re.IGNORECASE)))
    filters = (
        f"no index on {table} starts with {', '.join(columns)}, the column{'s' * (len(columns) > 1)} it filters on"
        if columns
        else ""
    )
    if "INDEX" in words:
        index = words[words.index("INDEX") + 1]
        walk = f"it walks the whole index {index} (in its order), which still visits every row"
        return f"{walk}: {filters}" if filters else walk
    if re.search(rf"\w+\(\s*{table}\.\w+", where):
        wrapped = re.search(rf"(\w+)\(\s*{table}\.(\w+)", where)
        func, column = wrapped.group(1), wrapped.group(2)  # type: ignore[union-attr]
        return f"{func}({column}) hides the column from an index on {column}"
    if filters:
        return filters
    return "it has no WHERE an index could serve"


async def indexes_found(g: Grading) -> str:
    """'. Indexes in the world's database once the app had started: customers: ...; orders: none': what the
    planner could choose from (an index declared only in the app's Python is not among them)."""
    try:
        indexes = (await after_writes_session(g)).indexes
    except (CheckFailed, RequestHung):
        return ""
    listed = "; ".join(f"{table}: {', '.join(found) or 'none'}" for table, found in indexes.items())
    return (
        f". Indexes in the world's database once the app had started: {listed}. An index declared in the app's "
        "Python counts only once a statement at startup has built it in the database"
    )


def describe(query: QueryEvent) -> str:
    plan = "; ".join(query.plan) or "-"
    return f"{short(query.fingerprint)} (at {query.call_site}), {query.cost * 1000:g} ms, plan: {plan}"


async def uses_index(g: Grading) -> str:
    metrics = await g.profile()
    planned = [q for q in metrics.queries if large_steps(q)]
    read = {step.split()[1] for q in planned for step in large_steps(q)}
    if read != set(LARGE_TABLES):
        missing = " and ".join(sorted(set(LARGE_TABLES) - read))
        raise CheckFailed(
            f"no query of the lookup read {missing}: the customer and their orders come from the database"
        )
    scans = []
    for query in planned:
        for step in large_steps(query):
            if not step.startswith("SEARCH"):
                table = step.split()[1]
                scans.append(
                    f"{short(query.fingerprint)} (at {query.call_site}) runs {step}, reading all "
                    f"{LARGE_TABLES[table]:,} rows: {why_scan(query, step)}"
                )
    if scans:
        raise CheckFailed(
            f"{len(scans)} full scan{'s' * (len(scans) > 1)} in the lookup: "
            + "; ".join(scans)
            + await indexes_found(g)
            + " (the app's indexes: MIGRATIONS in app.py)"
        )
    steps = "; ".join(step for q in planned for step in large_steps(q))
    return f"every query on customers and orders searches an index: {steps}"


async def db_time(g: Grading) -> str:
    budget = g.budget("max_db_ms")
    metrics = await g.profile()
    if metrics.db_ms > budget:
        queries = "; ".join(describe(q) for q in metrics.queries)
        raise CheckFailed(
            f"modeled DB time {metrics.db_ms:g} ms for one lookup (budget {budget:g} ms: two round trips of 5 ms and "
            f"two index searches, plus slack); {n_queries(len(metrics.queries))}: {queries}"
        )
    return (
        f"modeled DB time {metrics.db_ms:g} ms for one lookup, {n_queries(len(metrics.queries))} (budget {budget:g} ms)"
    )


CHECKS = [
    Check(
        "correct",
        "lookups (mixed case, the busiest customer, no orders, unknown: 404) equal the reference, public + hidden data",
        correct,
        guard=True,
    ),
    Check(
        "after_writes",
        "lookups after rows are written to the database (a new customer, a newer order, a new address) are fresh",
        after_writes,
        guard=True,
    ),
    Check("rows_read", "each lookup reads at most budget.max_rows_per_lookup rows", rows_read, guard=True),
    Check(
        "startup_work",
        "at most budget.max_startup_rows rows read outside any request (startup, tasks between requests)",
        startup_work,
        guard=True,
    ),
    Check("uses_index", "every query of the lookup on customers and orders is an index SEARCH, no SCAN", uses_index),
    Check("db_time", "modeled DB time of one lookup within budget.max_db_ms", db_time),
]
