"""Settings from environment variables, with errors that name the variable."""

from __future__ import annotations

import os
import re

from harness.catalog import KataError


def env_number(name: str, default: float, unit: str, *, allow_zero: bool = True) -> float:
    """A non-negative (or, with allow_zero=False, positive) number from ``name``."""
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise KataError(f"{name} must be a number of {unit}, got {raw!r}") from None
    if value < 0 or (value == 0 and not allow_zero):
        raise KataError(f"{name} must be {'zero or more' if allow_zero else 'more than zero'}, got {raw!r}")
    return value


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise KataError(f"{name} must be a whole number, got {raw!r}") from None


def without_password(url: str | None) -> str:
    """A server URL fit for a message (results reach students): ``redis://user:***@host/0``."""
    return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url or "")
