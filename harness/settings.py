"""The kata's settings in one place: the latency model, and what reaches the processes it starts.

The model: a statement's round trip, the plan cost of a statement on a large
table, a Redis command's round trip, and the network's bandwidth; each can be
changed by an environment variable, checked with an error that names it.
The environment: which variables a grading process (the world) and an app
host receive; nothing else of the grader's environment reaches them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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


def environment(names: Iterable[str], **extra: str) -> dict[str, str]:
    """The variables ``names`` of this process's environment that are set, plus ``extra``."""
    return {**{k: os.environ[k] for k in names if k in os.environ}, **extra}


# What a grading process (the world) receives: the model's settings and the real back-ends.
WORLD_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "KATA_HOME",
    "KATA_QUERY_LATENCY_MS",
    "KATA_BANDWIDTH_MBIT",
    "KATA_SCAN_US_PER_ROW",
    "KATA_CACHE_LATENCY_MS",
    "KATA_DATABASE_URL",
    "KATA_REDIS_URL",
)
# What an app host receives: nothing of the world's (no server URL, no seed).
HOST_ENV = ("PATH", "LANG", "LC_ALL")
# What a student's own test run receives (exercise 08): the kata and the model, in process.
TEST_RUN_ENV = ("PATH", "LANG", "LC_ALL", "KATA_HOME", "KATA_QUERY_LATENCY_MS", "KATA_BANDWIDTH_MBIT")


# --- the latency model ---------------------------------------------------------

DEFAULT_QUERY_LATENCY_MS = 5.0


@dataclass(frozen=True)
class QueryLatency:
    """Modeled cost of one statement: a fixed round trip."""

    per_statement_ms: float = DEFAULT_QUERY_LATENCY_MS

    def seconds(self, statement: str) -> float:
        return self.per_statement_ms / 1000

    @classmethod
    def from_env(cls) -> QueryLatency:
        return cls(env_number("KATA_QUERY_LATENCY_MS", DEFAULT_QUERY_LATENCY_MS, "ms"))


# Each statement of a varied world costs the base latency times the next of these factors, in turn:
# statements do not all cost the same, as in a real database.
VARIED_FACTORS = (1.0, 0.6, 1.5, 0.8, 1.3, 0.7)


@dataclass(frozen=True)
class VariedLatency(QueryLatency):
    """``per_statement_ms`` times the next factor of ``factors``, statement after statement.

    A check of an app's own timing uses it: no estimate from the query count
    (times 5 ms, or times any one number) matches the time the statements
    took, only timing each one does.
    """

    factors: tuple[float, ...] = VARIED_FACTORS
    _next: list[int] = field(default_factory=lambda: [0], compare=False, repr=False)

    @classmethod
    def rotated(cls, per_statement_ms: float, rotation: int) -> VariedLatency:
        """The factors starting at ``rotation`` (from a hidden seed: the order differs between gradings)."""
        start = rotation % len(VARIED_FACTORS)
        return cls(per_statement_ms, factors=VARIED_FACTORS[start:] + VARIED_FACTORS[:start])

    def seconds(self, statement: str) -> float:
        index = self._next[0]
        self._next[0] += 1
        return self.per_statement_ms * self.factors[index % len(self.factors)] / 1000


@dataclass(frozen=True)
class PlanCost:
    """What plan steps cost, on top of the statement's round trip."""

    scan_us_per_row: float = 2.0
    search_ms: float = 0.2
    large_table_rows: int = 10_000

    @classmethod
    def from_env(cls) -> PlanCost:
        return cls(scan_us_per_row=env_number("KATA_SCAN_US_PER_ROW", 2.0, "µs"))

    def seconds(self, steps: Iterable[Any], rows: Mapping[str, int]) -> float:
        total = 0.0
        for step in steps:
            if rows.get(step.table, 0) < self.large_table_rows:
                continue  # small tables live in memory: the round trip covers them
            if step.kind == "SCAN":
                total += rows[step.table] * self.scan_us_per_row / 1_000_000
            else:
                total += self.search_ms / 1000
        return total


DEFAULT_BANDWIDTH_MBIT = 10.0


@dataclass(frozen=True)
class Network:
    """A link of fixed bandwidth; transfer time is bytes * 8 / bits-per-second."""

    bandwidth_mbit: float = DEFAULT_BANDWIDTH_MBIT

    def transfer_seconds(self, nbytes: int) -> float:
        return nbytes * 8 / (self.bandwidth_mbit * 1_000_000)

    @classmethod
    def from_env(cls) -> Network:
        return cls(env_number("KATA_BANDWIDTH_MBIT", DEFAULT_BANDWIDTH_MBIT, "Mbit/s", allow_zero=False))


DEFAULT_CACHE_LATENCY_MS = 0.5


def cache_latency_ms_from_env() -> float:
    return env_number("KATA_CACHE_LATENCY_MS", DEFAULT_CACHE_LATENCY_MS, "ms")
