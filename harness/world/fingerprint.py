"""Normalised SQL shapes: the same query with other values has one fingerprint."""

from __future__ import annotations

import re

_WS = re.compile(r"\s+")
_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?\b")
_DOLLAR_PARAM = re.compile(r"\$(?:\d+|\?)(?:::[A-Z_]+(?:\[\])?)?")  # asyncpg's $1, $2 ... and SQLAlchemy's $1::INTEGER
_NAMED_PARAM = re.compile(r"%\(\w+\)s|:\w+\b")
_IN_LIST = re.compile(r"\bIN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", re.IGNORECASE)
_POSTCOMPILE = re.compile(r"\(\s*__\[POSTCOMPILE_\w+\]\s*\)")
_SELECT_LIST = re.compile(r"^SELECT\s+(?:DISTINCT\s+)?.+?\s+FROM\s+", re.IGNORECASE | re.DOTALL)


def fingerprint(sql: str) -> str:
    """SQL with literals and parameters as ``?`` and IN-lists collapsed to ``IN (...)``."""
    text = _WS.sub(" ", sql).strip()
    text = _STRING.sub("?", text)
    text = _DOLLAR_PARAM.sub("?", text)
    text = _NAMED_PARAM.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _POSTCOMPILE.sub("(?)", text)
    text = _IN_LIST.sub("IN (...)", text)
    return text


def short(sql_fingerprint: str) -> str:
    """A readable form: the column list of a SELECT dropped.

    ``SELECT users.id, users.name FROM users WHERE users.id = ?`` ->
    ``SELECT users WHERE users.id = ?``
    """
    return _SELECT_LIST.sub("SELECT ", sql_fingerprint, count=1)
