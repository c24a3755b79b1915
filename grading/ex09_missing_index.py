"""09 missing-index: the lookup's queries find their rows through indexes, not full scans.

The database charges each statement by its plan (``harness.world.plans``): a full
SCAN of customers (20,000 rows) or orders (60,000 rows) costs every row, an
index SEARCH a small constant. The checks read the plans the harness recorded
for the profile request (``QueryEvent.plan``) and its modeled DB time.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from urllib.parse import urlencode

from harness.engine.checks import Check, CheckFailed, Grading, assert_same_response
from harness.words import n_queries
from harness.world.fingerprint import short
from harness.world.measure import QueryEvent
from harness.world.seed import CUSTOMERS, ORDERS, PUBLIC_SEED, Dataset, dataset

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
    wanted = email.lower()
    customer = next((c for c in data.customers if c["email"].lower() == wanted), None)
    if customer is None:
        return 404, None
    orders = [o for o in data.orders if o["customer_id"] == customer["id"]]
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


def lookups(data: Dataset) -> list[tuple[str, str]]:
    """(email as typed, what it tests) for one dataset: chosen from its rows, so they differ per seed."""
    counts = Counter(o["customer_id"] for o in data.orders)
    by_id = {c["id"]: c for c in data.customers}
    busiest = min(counts, key=lambda cid: (-counts[cid], cid))
    same_day = Counter((o["customer_id"], o["placed_on"]) for o in data.orders)
    tied = min(cid for (cid, _), n in same_day.items() if n > 1 and counts[cid] <= RECENT)
    no_orders = min(cid for cid in by_id if cid not in counts)
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
    Check("uses_index", "every query of the lookup on customers and orders is an index SEARCH, no SCAN", uses_index),
    Check("db_time", "modeled DB time of one lookup within budget.max_db_ms", db_time),
]
