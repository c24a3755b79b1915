"""Statistics of a load run, from every sample: exact percentiles, failures by cause, throughput, time series.

Percentiles are nearest-rank values of the sorted response times: always one
of the measured times, so p99 never exceeds the max. (Locust rounds each time
into a bucket first, so its p99 can: its issues #331, #777, #1563.)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.world.load import LoadRun, Sample

# The percentiles Locust reports, and ours.
PERCENTILES = (0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0)


def percentile(sorted_ms: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest measured time with at least ``fraction`` of all at or below it."""
    if not sorted_ms:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_ms) - 1e-9))
    return float(sorted_ms[min(rank, len(sorted_ms)) - 1])


@dataclass(frozen=True)
class EntryStats:
    method: str
    name: str
    requests: int
    failures: int
    average_ms: float
    min_ms: float
    max_ms: float
    average_bytes: float
    rps: float
    failures_per_s: float
    percentiles: dict[float, float]

    @property
    def median_ms(self) -> float:
        return self.percentiles[0.5]

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "failures": self.failures,
            "rps": round(self.rps, 3),
            "p50_ms": self.percentiles[0.5],
            "p95_ms": self.percentiles[0.95],
            "p99_ms": self.percentiles[0.99],
            "max_ms": self.max_ms,
        }


def entry_stats(method: str, name: str, samples: Iterable[Sample], seconds: float) -> EntryStats:
    chosen = list(samples)
    times = sorted(s.response_ms for s in chosen)
    failures = sum(1 for s in chosen if s.failure)
    n = len(times)
    return EntryStats(
        method=method,
        name=name,
        requests=n,
        failures=failures,
        average_ms=round(sum(times) / n, 3) if n else 0.0,
        min_ms=times[0] if n else 0.0,
        max_ms=times[-1] if n else 0.0,
        average_bytes=round(sum(s.response_bytes for s in chosen) / n, 1) if n else 0.0,
        rps=n / seconds if seconds > 0 else 0.0,
        failures_per_s=failures / seconds if seconds > 0 else 0.0,
        percentiles={p: percentile(times, p) for p in PERCENTILES},
    )


def entries(run: LoadRun) -> list[EntryStats]:
    """One line per (method, name), sorted as Locust sorts its table (by name, then method)."""
    groups: dict[tuple[str, str], list[Sample]] = {}
    for sample in run.samples:
        groups.setdefault((sample.method, sample.name), []).append(sample)
    seconds = run.options.duration
    return [entry_stats(m, n, groups[(m, n)], seconds) for m, n in sorted(groups, key=lambda k: (k[1], k[0]))]


def total(run: LoadRun) -> EntryStats:
    return entry_stats("", "Aggregated", run.samples, run.options.duration)


def failures_by_cause(samples: Iterable[Sample]) -> dict[str, int]:
    counted = Counter(s.failure for s in samples if s.failure)
    return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


@dataclass(frozen=True)
class FailureLine:
    """One line of Locust's failures table: a request name and an error, how often, first and last seen."""

    method: str
    name: str
    error: str
    occurrences: int
    first_seen: float  # modeled seconds since the run began
    last_seen: float


def failures_by_request(samples: Iterable[Sample]) -> list[FailureLine]:
    """The failures grouped as Locust's failures table groups them, most frequent first."""
    groups: dict[tuple[str, str, str], list[Sample]] = {}
    for s in samples:
        if s.failure:
            groups.setdefault((s.method, s.name, s.failure + (f": {s.detail}" if s.detail else "")), []).append(s)
    lines = [
        FailureLine(m, n, e, len(found), min(f.time for f in found), max(f.time for f in found))
        for (m, n, e), found in groups.items()
    ]
    return sorted(lines, key=lambda line: (-line.occurrences, line.method, line.name, line.error))


@dataclass(frozen=True)
class Window:
    """One modeled second of the run: users then, requests that finished in it, their percentiles."""

    time: float
    users: int
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    total_requests: int
    total_failures: int


def time_series(run: LoadRun) -> list[Window]:
    """Per modeled second: the requests that finished in it (their p50/p95) and the users then running."""
    by_second: dict[int, list[Sample]] = {}
    for sample in run.samples:
        by_second.setdefault(max(1, math.ceil(sample.end - 1e-9)), []).append(sample)
    users = {int(t.time): t.users for t in run.ticks}
    windows, requests, failures = [], 0, 0
    last = max([int(math.ceil(run.end)), *by_second]) if by_second else int(run.options.duration)
    for second in range(1, last + 1):
        chosen = by_second.get(second, [])
        times = sorted(s.response_ms for s in chosen)
        failed = sum(1 for s in chosen if s.failure)
        requests += len(chosen)
        failures += failed
        windows.append(
            Window(
                float(second),
                users.get(second, 0),
                len(chosen),
                failed,
                percentile(times, 0.5),
                percentile(times, 0.95),
                requests,
                failures,
            )
        )
    return windows


def summary(run: LoadRun, exercise: str = "") -> dict[str, Any]:
    """The run as one JSON object (``kata load --json``)."""
    return {
        "exercise": exercise,
        "model": run.options.model,
        "users": run.options.users if run.options.rate is None else None,
        "rate": run.options.rate,
        "duration_s": run.options.duration,
        "total": total(run).as_json(),
        "entries": [{"name": e.name, "method": e.method, **e.as_json()} for e in entries(run)],
        "failures_by_cause": failures_by_cause(run.samples),
    }
