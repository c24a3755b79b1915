"""Small wording helpers shared by messages and tables."""

from __future__ import annotations


def count(n: int, one: str, many: str | None = None) -> str:
    """``count(1, "query", "queries")`` -> "1 query"; ``count(92, ...)`` -> "92 queries"."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def n_queries(n: int) -> str:
    """ "1 query", "92 queries"."""
    return count(n, "query", "queries")
