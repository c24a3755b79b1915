"""09 missing-index: the lookup's queries find their rows through indexes, not full scans.

The database charges each statement by its plan (``harness.world.plans``): a full
SCAN of customers (20,000 rows) or orders (60,000 rows) costs every row, an
index SEARCH a small constant. The world reads the plan of every statement
(``count_scans`` in exercise.toml): a SCAN of any table, one the app made
included, counts that table's rows (``QueryEvent.scanned``). The checks read the
plans and the modeled DB time of every lookup the grading sends: the profile
request, the lookups of ``correct`` (mixed and upper case, 404s) and those
around the writes.

What a fix may change: the indexes and how they come to exist (statements in
``MIGRATIONS``, raw DDL in the lifespan, ``Index`` objects built at startup with
``if_not_exists`` or ``checkfirst``; an expression index, a plain one on the
bare column, COLLATE NOCASE, UNIQUE, covering, one or more columns on orders,
in either direction); the query's shape, as long as an index serves it and it
returns the same rows (the bare column compared with the lower-cased input, a
join in one statement, raw SQL, its own session).
What it may not change:
- the answer (public and hidden data, mixed-case input, the order of the
  orders, the 404, an address with ``_`` or ``%`` in it matched as typed, not
  as a pattern: ``correct``);
- the answer after rows are written to the database while the app runs: a new
  customer, a newer order, a changed name and address; and the behaviour when
  the database fails: a lookup while the orders, then the customers table
  cannot be read is a 500 as the starter's, never a 404 or an empty list
  (``after_writes``: no copy of the table taken at startup, no answer kept
  from an earlier request, no try/except around a query);
- the rows the database goes through for one lookup, the customer and its 10
  newest orders: never all of its orders cut in Python, never a copy of a
  table read in full (``rows_read``, on rows examined: returned, or a whole
  scanned table that is not customers or orders, whose scans ``uses_index``
  judges);
- the work outside any request: the startup builds indexes, it does not read
  the tables, whole or packed into a few rows (``startup_work``, on rows
  examined);
- how every lookup finds its rows: through an index in the world's database,
  for every spelling and for unknown addresses too (``uses_index``: no SCAN of
  customers, orders, a view on them or a copy of them, in any lookup; an
  index declared in Python but never built there is no index; an exact match
  first and a scanning fallback for other spellings is a scan), each lookup
  within the DB time budget (``db_time``).
Known limit: a SEARCH is charged as a constant, whatever number of index entries it
walks, so a statement that reads all of a customer's orders through the index and
packs them into one row (``json_group_array``), cut to 10 in Python, is not seen.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.exc import SQLAlchemyError

from harness.engine.checks import Check, CheckFailed, Grading, assert_same_response, profile_request
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


def wildcards(email: str) -> tuple[str, str]:
    """Two spellings of a real address with LIKE's wildcards in them (``_`` for a dot, ``%`` for its end):
    nobody's address, so a 404, unless an address really is spelled so."""
    local, domain = email.split("@")
    return mixed_case(email).replace(".", "_", 1), local[:5] + "%@" + domain


def lookups(data: Dataset) -> list[tuple[str, str]]:
    """(email as typed, what it tests) for one dataset: chosen from its rows, so they differ per seed."""
    counts, busiest, tied, no_orders = notable(data)
    by_id = {c["id"]: c for c in data.customers}
    underscore, percent = wildcards(by_id[busiest]["email"])
    return [
        (by_id[busiest]["email"], f"the customer with the most orders, {counts[busiest]}: only the {RECENT} newest"),
        (mixed_case(by_id[busiest]["email"]), "the same address typed in mixed case"),
        (mixed_case(by_id[tied]["email"]), "a customer with two orders on one day: newest first, then the higher id"),
        (by_id[no_orders]["email"].upper(), "a customer without orders, address in upper case"),
        (UNKNOWN_EMAIL, "an address nobody has: 404"),
        (underscore, "that address with '_' for its first dot: nobody's, 404 ('_' is a character, no pattern)"),
        (percent, "the first letters of that address, then '%': nobody's, 404 ('%' is a character, no pattern)"),
    ]


@dataclass
class Lookup:
    path: str
    what: str
    expected: tuple[int, Any]
    exchange: Exchange


@dataclass
class Session:
    """Lookups sent to one or more worlds and what the grading saw there, kept up to a failure: a startup that
    failed, a request that hung, rows that could not be written. The guards fail with that failure; the plans
    and times of the lookups that were answered are judged all the same."""

    lookups: list[Lookup] = field(default_factory=list)
    backgrounds: list[RequestMetrics] = field(default_factory=list)  # the app's work outside requests, per world
    table_rows: dict[str, int] = field(default_factory=dict)  # every table's rows, as the worlds counted them
    indexes: dict[str, list[str]] = field(default_factory=dict)  # per large table: "name (key)" (after_writes)
    broken: list[tuple[str, Lookup]] = field(default_factory=list)  # (table made unreadable, the lookup then)
    failure: CheckFailed | RequestHung | None = None

    def succeeded(self) -> Session:
        if self.failure is not None:
            raise self.failure
        return self

    def saw(self, client: Client) -> None:
        """What a world knew when its lookups were done: the app's background work, every table's size."""
        if client.background is not None:
            self.backgrounds.append(client.background)
        if client.world is not None and client.world.database is not None:
            for table, rows in client.world.database.table_rows.items():
                self.table_rows[table] = max(rows, self.table_rows.get(table, 0))


async def run_correct(g: Grading, session: Session) -> None:
    for seed in g.seeds:
        data = dataset(SCALE, seed)
        kind = "public" if seed == PUBLIC_SEED else "hidden"
        async with g.serve(SCALE, seed) as client:
            for email, what in lookups(data):
                path = lookup_path(email)
                session.lookups.append(
                    Lookup(path, f"{kind} data; {what}", reference(data, email), await client.get(path))
                )
            session.saw(client)


async def correct_session(g: Grading) -> Session:
    """The lookups of ``correct``, on public and hidden data, sent once per grading (``uses_index``, ``db_time``,
    ``rows_read`` and ``startup_work`` read them too)."""

    async def run() -> Session:
        session = Session()
        try:
            await run_correct(g, session)
        except (CheckFailed, RequestHung) as failed:
            session.failure = failed
        return session

    session: Session = await g.once("correct", run)
    return session


async def correct(g: Grading) -> str:
    session = (await correct_session(g)).succeeded()
    for lookup in session.lookups:
        status, body = lookup.expected
        assert_same_response(lookup.exchange, status, body, f"GET {lookup.path} ({lookup.what})")
    return (
        f"{len(session.lookups) // 2} lookups per dataset (mixed and upper case, the busiest customer, one without "
        "orders, a 404, wildcard characters) match the reference on public and hidden data"
    )


# --- after writes: fresh answers, errors, rows read, work outside requests ---------------------

NEWCOMER_EMAIL = "nora.newcomer@example.net"  # lower-case, as every stored address
NEWCOMER_ORDERS = 40  # many more than RECENT: reading them all shows in the rows


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


async def run_after_writes(g: Grading, session: Session) -> None:
    data = dataset(SCALE, g.hidden_seed)
    counts, busiest, renamed, _ = notable(data)
    by_id = {c["id"]: c for c in data.customers}
    busy_email = mixed_case(by_id[busiest]["email"])
    old_email = by_id[renamed]["email"]
    newcomer = mixed_case(NEWCOMER_EMAIL)  # spelled the same before and after: an answer kept by address is seen

    async def look(client: Client, customers: list[dict], orders: list[dict], email: str, what: str) -> None:
        path = lookup_path(email)
        session.lookups.append(Lookup(path, what, answer(customers, orders, email), await client.get(path)))

    async with g.serve(SCALE, g.hidden_seed) as client:
        assert client.world is not None and client.world.database is not None
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
        await look(
            client,
            customers,
            orders,
            newcomer.replace(".", "_", 1),
            "the new customer's address with '_' for its dot: nobody's, 404 ('_' is a character, no pattern)",
        )
        session.indexes = await indexes_in(client.world)
        session.saw(client)
        # Last, the database fails: a table the lookup reads is gone. The starter answers 500. Dropped, not
        # renamed: a view on the table follows a rename and would still answer.
        cascade = " CASCADE" if client.world.database.engine.dialect.name == "postgresql" else ""
        for table in ("orders", "customers"):
            try:
                async with client.world.database.engine.begin() as conn:
                    await conn.exec_driver_sql(f"DROP TABLE {table}{cascade}")
            except SQLAlchemyError as error:
                raise CheckFailed(
                    f"the {table} table could not be dropped while the app ran ({type(error).__name__}: "
                    f"{str(error).splitlines()[0]}): does the app keep a transaction open between requests?"
                ) from None
            path = lookup_path(busy_email)
            lookup = Lookup(path, f"the {table} table unreadable", (500, None), await client.get(path))
            session.broken.append((table, lookup))


async def after_writes_session(g: Grading) -> Session:
    """One world on the hidden data: lookups before and after rows are written to its database directly, then
    with a table gone. Run once per grading (``after_writes``, ``rows_read``, ``startup_work``, ``uses_index`` and
    ``db_time`` read it)."""

    async def run() -> Session:
        session = Session()
        try:
            await run_after_writes(g, session)
        except (CheckFailed, RequestHung) as failed:
            session.failure = failed
        return session

    session: Session = await g.once("after_writes", run)
    return session


async def after_writes(g: Grading) -> str:
    session = (await after_writes_session(g)).succeeded()
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
    for table, broken in session.broken:
        if broken.exchange.response.status_code != 500:
            raise CheckFailed(
                f"GET {broken.path} returned HTTP {broken.exchange.response.status_code} while the {table} table "
                "could not be read (dropped by the grader), expected 500 as the starter gives: a try/except around "
                "a query turns the database's error into a wrong answer (a customer who is there looks unknown, "
                "a customer with orders looks like one without); let errors be errors"
            )
    return (
        f"{len(session.lookups)} lookups before and after writes to the database (a new customer with "
        f"{NEWCOMER_ORDERS} orders, a newer order, a changed name and address) match the reference; with the orders, "
        "then the customers table unreadable, a lookup is a 500"
    )


async def every_lookup(g: Grading) -> tuple[list[Lookup], dict[str, int]]:
    """The lookups of both sessions that were answered (the writes' first: where the biggest differences are),
    and every table's size."""
    sessions = [await after_writes_session(g), await correct_session(g)]
    sizes: dict[str, int] = {}
    for session in sessions:
        sizes.update(session.table_rows)
    return [lookup for session in sessions for lookup in session.lookups], sizes


def examined(query: QueryEvent, sizes: dict[str, int], originals: bool = True) -> int:
    """Rows a statement went through: those it returned or, where it scanned a whole table, that table's rows
    (``originals=False``: not counting a full scan of customers or orders themselves, the starter's slowness that
    ``uses_index`` judges)."""
    scanned = sum(rows for step, rows in full_scans(query, sizes) if originals or step.split()[1] not in LARGE_TABLES)
    return max(query.rows, scanned)


def heaviest(metrics: RequestMetrics, sizes: dict[str, int], originals: bool = True) -> str:
    """'SELECT customers ... 20000 rows from app.py:40, ...': the statements that went through the most rows."""
    rows: Counter[tuple[str, str]] = Counter()
    for query in metrics.queries:
        rows[(query.fingerprint, query.call_site)] += examined(query, sizes, originals)
    top = [(key, n) for key, n in rows.most_common(2) if n]
    return ", ".join(f"{short(fingerprint)} {n:,} rows from {site}" for (fingerprint, site), n in top) or "-"


async def rows_read(g: Grading) -> str:
    budget = g.budget("max_rows_per_lookup")
    (await after_writes_session(g)).succeeded()
    done, sizes = await every_lookup(g)

    def read(lookup: Lookup) -> int:
        return sum(examined(query, sizes, originals=False) for query in lookup.exchange.metrics.queries)

    worst = max(done, key=read)
    if read(worst) > budget:
        raise CheckFailed(
            f"GET {worst.path} ({worst.what}) read {count(read(worst), 'row')} from the database "
            f"(budget {budget:g}: a lookup shows one customer and at most {RECENT} orders); the rows came from "
            f"{heaviest(worst.exchange.metrics, sizes, originals=False)}: rows sorted, cut or searched in Python "
            "were still read, one by one, and a copy of a table read in full was read row by row even where one "
            "row came back; the query itself must narrow them to what the answer shows"
        )
    return f"at most {count(read(worst), 'row')} read per lookup, over {len(done)} lookups (budget {budget:g})"


async def startup_work(g: Grading) -> str:
    budget = g.budget("max_startup_rows")
    backgrounds = (await after_writes_session(g)).succeeded().backgrounds + (await correct_session(g)).backgrounds
    if not backgrounds:  # an app run in process: its startup is not measured apart
        return "the app's work outside requests is not measured here"
    _, sizes = await every_lookup(g)

    def read(metrics: RequestMetrics) -> int:
        return sum(examined(query, sizes) for query in metrics.queries)

    background = max(backgrounds, key=read)
    if read(background) > budget:
        raise CheckFailed(
            f"the app read {count(read(background), 'row')} from the database outside any request (its "
            f"startup, or tasks of its own between requests; budget {budget:,}): {heaviest(background, sizes)}. A "
            "copy of the table read at startup, whole or packed into a few rows, costs a full read at every start "
            "and is stale after the next write; a lookup reads what it shows when it is asked"
        )
    statements = count(len(background.queries), "statement")
    return (
        f"{count(read(background), 'row')} read outside any request ({statements}, {background.db_ms:g} ms: "
        f"the app's startup; budget {budget:,} rows)"
    )


# --- plans --------------------------------------------------------------------

SCANNED_TABLE_ROWS = 1_000  # a SCAN of a table this large reads far more than a lookup shows


def table_size(table: str, sizes: dict[str, int]) -> int:
    return LARGE_TABLES.get(table) or sizes.get(table, 0)


def full_scans(query: QueryEvent, sizes: dict[str, int]) -> list[tuple[str, int]]:
    """(step, rows of its table) for each step of the query's plan that reads a whole large table: customers,
    orders, or any table the app made (a copy of them) or reads through a view."""
    found = []
    steps = [step for step in query.plan if step.startswith("SCAN ") and len(step.split()) > 1]
    for step in steps:
        table = step.split()[1]
        if table.startswith(("sqlite_", "pg_")):
            continue  # the database's own catalog (a schema check at startup), not the shop's rows
        rows = table_size(table, sizes) or (query.scanned if len(steps) == 1 else 0)
        if rows >= SCANNED_TABLE_ROWS:
            found.append((step, rows))
    return found


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
    if table not in LARGE_TABLES:
        own = (
            f"{table} is not one of the shop's tables (customers, orders) but one the app made, a copy kept beside "
            "them: reading it in full costs what reading the original does"
        )
        return f"{own}; {filters}" if filters else own
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
    if re.search(r"\w+\(\s*\w+\s*\)\s*(?:=|LIKE\b)", where, flags=re.IGNORECASE):
        wrapped = re.search(r"(\w+)\(\s*(\w+)\s*\)\s*(?:=|LIKE\b)", where, flags=re.IGNORECASE)
        func, column = wrapped.group(1), wrapped.group(2)  # type: ignore[union-attr]
        return f"{func}({column}) hides the column from an index on {column}"
    return "no index serves what it compares" if where else "it has no WHERE an index could serve"


async def indexes_found(g: Grading) -> str:
    """'. Indexes in the world's database once the app had started: customers: ...; orders: none': what the
    planner could choose from (an index declared only in the app's Python is not among them)."""
    indexes = (await after_writes_session(g)).indexes
    if not indexes:
        return ""
    listed = "; ".join(f"{table}: {', '.join(found) or 'none'}" for table, found in indexes.items())
    return (
        f". Indexes in the world's database once the app had started: {listed}. An index declared in the app's "
        "Python counts only once a statement at startup has built it in the database"
    )


def describe(query: QueryEvent) -> str:
    plan = "; ".join(query.plan) or "-"
    return f"{short(query.fingerprint)} (at {query.call_site}), {query.cost * 1000:g} ms, plan: {plan}"


async def measured_lookups(g: Grading) -> tuple[list[tuple[str, RequestMetrics]], dict[str, int]]:
    """Every lookup the grading sent that the app answered ("GET path (what it tests)", its metrics): the
    profile request, the lookups of ``correct`` and those around the writes; and every table's size."""
    profile = await g.profile()
    sessions = [await correct_session(g), await after_writes_session(g)]
    sizes: dict[str, int] = {}
    for session in sessions:
        sizes.update(session.table_rows)
    _, path, _ = profile_request(g.exercise)
    done = [(f"GET {path} (the profile request)", profile)]
    done += [(f"GET {lookup.path} ({lookup.what})", lookup.exchange.metrics) for s in sessions for lookup in s.lookups]
    return done, sizes


async def uses_index(g: Grading) -> str:
    profile = await g.profile()
    read = {step.split()[1] for q in profile.queries for step in large_steps(q)}
    if read != set(LARGE_TABLES):
        missing = " and ".join(sorted(set(LARGE_TABLES) - read))
        raise CheckFailed(
            f"no query of the lookup read {missing}: the customer and their orders come from the database"
        )
    done, sizes = await measured_lookups(g)
    scans: dict[tuple[str, str, str], list[str]] = {}  # (statement, call site, step) -> the lookups it ran in
    found: dict[tuple[str, str, str], str] = {}
    for what, metrics in done:
        for query in metrics.queries:
            for step, rows in full_scans(query, sizes):
                key = (query.fingerprint, query.call_site, step)
                scans.setdefault(key, []).append(what)
                found.setdefault(
                    key,
                    f"{short(query.fingerprint)} (at {query.call_site}) runs {step}, reading all {rows:,} rows: "
                    f"{why_scan(query, step)}",
                )
    if scans:
        listed = "; ".join(
            f"{found[key]} (in {len(where)} of the {len(done)} lookups, first {where[0]})"
            for key, where in scans.items()
        )
        raise CheckFailed(
            f"{len(scans)} full scan{'s' * (len(scans) > 1)} in the lookups: "
            + listed
            + await indexes_found(g)
            + " (the app's indexes: MIGRATIONS in app.py)"
        )
    steps = "; ".join(dict.fromkeys(step for q in profile.queries for step in large_steps(q)))
    return f"every query of {len(done)} lookups searches an index, none reads a whole table: {steps}"


async def db_time(g: Grading) -> str:
    budget = g.budget("max_db_ms")
    done, _ = await measured_lookups(g)
    what, metrics = max(done, key=lambda lookup: lookup[1].db_ms)
    if metrics.db_ms > budget:
        queries = "; ".join(describe(q) for q in metrics.queries)
        raise CheckFailed(
            f"modeled DB time {metrics.db_ms:g} ms for {what} (budget {budget:g} ms for every lookup: two round "
            f"trips of 5 ms and two index searches, plus slack); {n_queries(len(metrics.queries))}: {queries}"
        )
    return (
        f"modeled DB time at most {metrics.db_ms:g} ms per lookup over {len(done)} lookups, "
        f"{n_queries(len(metrics.queries))} in the slowest (budget {budget:g} ms)"
    )


CHECKS = [
    Check(
        "correct",
        "lookups (mixed case, the busiest customer, no orders, unknown, '_' and '%' in the address: 404) equal the "
        "reference, public + hidden data",
        correct,
        guard=True,
    ),
    Check(
        "after_writes",
        "lookups after rows are written to the database (a new customer, a newer order, a new address) are fresh; "
        "with a table unreadable, a 500",
        after_writes,
        guard=True,
    ),
    Check("rows_read", "each lookup examines at most budget.max_rows_per_lookup rows", rows_read, guard=True),
    Check(
        "startup_work",
        "at most budget.max_startup_rows rows examined outside any request (startup, tasks between requests)",
        startup_work,
        guard=True,
    ),
    Check(
        "uses_index",
        "every query of every lookup finds its rows through an index: no SCAN of customers, orders or a copy",
        uses_index,
    ),
    Check("db_time", "modeled DB time of every lookup within budget.max_db_ms", db_time),
]
