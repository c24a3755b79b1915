"""Plan-dependent query cost: a full scan of a large table is paid by the row.

Before a statement that touches a large table runs, the harness asks the
database for its plan (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN
(FORMAT JSON)``) and turns each step into SQLite's words: ``SCAN customers``
or ``SEARCH customers USING INDEX ix_customers_email (email=?)``. A SCAN of a
table with at least ``large_table_rows`` rows costs its row count times
``scan_us_per_row``; a SEARCH costs ``search_ms``. Row counts are read once,
when the world opens, so the cost is deterministic.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# FROM customers / JOIN customers AS c / FROM "orders" o: alias -> table.
_FROM = re.compile(
    r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?(\w+)"?(?:\s+(?:AS\s+)?"?(?!(?:WHERE|JOIN|ON|LEFT|INNER|ORDER|GROUP|LIMIT|SET)\b)(\w+)"?)?',
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PlanStep:
    """One access of a table: ``SCAN`` (every row) or ``SEARCH`` (through an index)."""

    kind: str
    table: str
    detail: str


def mentions(statement: str, tables: set[str]) -> bool:
    """Whether a statement names one of these tables (worth asking for its plan)."""
    return any(re.search(rf"\b{re.escape(t)}\b", statement, re.IGNORECASE) for t in tables)


# A FROM clause up to what ends it; its items are split on commas and JOINs.
_FROM_CLAUSE = re.compile(r"\bFROM\b(.*?)(?=\bWHERE\b|\bGROUP\b|\bORDER\b|\bLIMIT\b|\bHAVING\b|\)|;|$)", re.I | re.S)
_JOIN_WORDS = {"LEFT", "RIGHT", "INNER", "OUTER", "CROSS", "FULL", "NATURAL", "AS"}


def aliases(statement: str) -> dict[str, str]:
    """``{"c": "customers", "customers": "customers"}`` for the tables a statement names."""
    found: dict[str, str] = {}
    for match in _FROM.finditer(statement):
        table, alias = match.group(1), match.group(2)
        found[table] = table
        if alias:
            found[alias] = table
    # FROM customers AS c, orders AS o (implicit joins): every item, not only the first.
    for clause in _FROM_CLAUSE.finditer(statement):
        for item in re.split(r",|\bJOIN\b", clause.group(1), flags=re.I):
            words = [w.strip('"') for w in re.split(r"\bON\b", item, flags=re.I)[0].split()]
            words = [w for w in words if w.upper() not in _JOIN_WORDS]
            if words and re.fullmatch(r"\w+", words[0]):
                found.setdefault(words[0], words[0])
                if len(words) > 1 and re.fullmatch(r"\w+", words[1]):
                    found[words[1]] = words[0]
    return found


def read_plan(dbapi_connection: Any, dialect: str, statement: str, parameters: Any) -> list[PlanStep]:
    """The plan of one statement, asked on the connection that will run it."""
    cursor = dbapi_connection.cursor()
    try:
        if dialect == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            details = [row[3] for row in cursor.fetchall()]
        elif dialect == "postgresql":
            # Inside the request's transaction: a failing EXPLAIN (a typo in the query) must
            # not abort it, or the statement itself would report "transaction is aborted".
            cursor.execute("SAVEPOINT kata_plan")
            try:
                cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
                document = cursor.fetchall()[0][0]
                document = json.loads(document) if isinstance(document, str) else document

                def leading_key(index: str) -> str:
                    cursor.execute(
                        "SELECT pg_get_indexdef(c.oid, 1, true) FROM pg_class c WHERE c.relname = $1", (index,)
                    )
                    row = cursor.fetchone()
                    return str(row[0]) if row else ""

                details = list(_postgres_steps(document, leading_key))
            except Exception:
                cursor.execute("ROLLBACK TO SAVEPOINT kata_plan")
                raise
            finally:
                cursor.execute("RELEASE SAVEPOINT kata_plan")
        else:
            return []
    finally:
        cursor.close()
    return parse_details(details, aliases(statement))


def parse_details(details: list[str], names: dict[str, str]) -> list[PlanStep]:
    """SQLite's plan lines (``SCAN c``, ``SEARCH c USING INDEX ...``) as steps on real table names."""
    steps = []
    for detail in details:
        words = detail.split()
        if len(words) < 2 or words[0] not in ("SCAN", "SEARCH"):
            continue  # USE TEMP B-TREE, subquery headers...
        table = names.get(words[1], words[1])
        steps.append(PlanStep(words[0], table, " ".join([words[0], table, *words[2:]])))
    return steps


# Words of an index key definition that are not columns: lower(email::text).
_NOT_COLUMNS = {"lower", "upper", "text", "varchar", "character", "varying", "integer", "bigint", "date"}


def _searches(condition: str | None, index: str, leading_key: Any) -> bool:
    """Whether an index access narrows by the index's first key (else it walks the whole index).

    SQLite says SCAN ... USING INDEX for such a walk; PostgreSQL (15 has no
    skip scan) shows an Index Scan whose condition is only a Filter, or is on
    a later column of the index.
    """
    if not condition:
        return False
    columns = set(re.findall(r"[a-z_]\w*", leading_key(index).lower())) - _NOT_COLUMNS
    return any(re.search(rf"\b{re.escape(column)}\b", condition.lower()) for column in columns)


def _postgres_steps(document: list[dict], leading_key: Any) -> Any:
    """PostgreSQL's plan nodes in SQLite's words."""

    def walk(node: dict) -> Any:
        kind = node.get("Node Type", "")
        relation = node.get("Relation Name")
        if kind == "Seq Scan" and relation:
            yield f"SCAN {relation}"
        elif kind in ("Index Scan", "Index Only Scan") and relation:
            covering = "COVERING INDEX" if kind == "Index Only Scan" else "INDEX"
            index = node.get("Index Name", "?")
            verb = "SEARCH" if _searches(node.get("Index Cond"), index, leading_key) else "SCAN"
            yield f"{verb} {relation} USING {covering} {index}"
        elif kind == "Bitmap Heap Scan" and relation:
            children = [child for child in node.get("Plans", []) if child.get("Index Name")]
            indexes = "+".join(child["Index Name"] for child in children) or "?"
            narrowed = children and all(
                _searches(child.get("Index Cond"), child["Index Name"], leading_key) for child in children
            )
            yield f"{'SEARCH' if narrowed else 'SCAN'} {relation} USING INDEX {indexes}"
            return  # its Bitmap Index Scan children are this same access
        for child in node.get("Plans", []):
            yield from walk(child)

    for entry in document:
        yield from walk(entry["Plan"])
