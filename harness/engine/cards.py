"""Optimization cards (lecture 5.4, step 5): what was measured, the fix, before and after, the impact.

Both runs are the same scenario under the same load (users, seed, modeled
time): the pristine starter's and the submission's. A card comes from a
measured difference on one endpoint, never from what the code claims:

- queries per request (an N+1 removed),
- partner time per request (calls made concurrently),
- bytes per response (compression),
- rows examined per request (an index instead of a full scan),
- time in no query, call or transfer (queueing: a blocked event loop, a pool),
- failures (pool timeouts, refused connections...).

The fix is the part of the submission's diff against the starter that such a
change is made of (``selectinload``, ``gather``, ``GZipMiddleware``...), or
the first changed lines when no known words are there.
"""

from __future__ import annotations

import difflib
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.world.load import LoadOptions, LoadRun, Sample
from harness.world.loadstats import failures_by_cause, percentile

# Words a fix of each kind is usually made of, to pick its lines out of the diff.
FIX_WORDS: dict[str, tuple[str, ...]] = {
    "queries": ("selectinload", "joinedload", "subqueryload", "contains_eager", "options(", "join(", "in_("),
    "external": ("gather", "TaskGroup", "create_task", "AsyncClient", "as_completed"),
    "bytes": ("GZip", "gzip", "compress", "minimum_size"),
    "rows": ("Index", "index", "CREATE INDEX", "create_all"),
    "waiting": ("def ", "run_in_threadpool", "to_thread", "AsyncClient", "await ", "commit", "close", "pool"),
    "failures": ("commit", "close", "pool", "session", "async with", "timeout"),
}


@dataclass(frozen=True)
class Card:
    kind: str  # queries, external, bytes, rows, waiting, failures
    endpoint: str
    title: str
    problem: str
    fix: list[str]
    before: dict[str, float]
    after: dict[str, float]
    impact: str

    def markdown(self, number: int) -> str:
        fix = "\n".join(self.fix) if self.fix else "(no changed lines of that kind)"
        return (
            f"### Optimization #{number}: {self.title}\n\n"
            f"- **Problem:** {self.problem}\n"
            f"- **Fix** (from the diff against the starter):\n\n```diff\n{fix}\n```\n\n"
            f"- **Before:** {_figures(self.before)}\n"
            f"- **After:** {_figures(self.after)}\n"
            f"- **Impact:** {self.impact}\n"
        )


def _figures(values: dict[str, float]) -> str:
    return (
        f"p95={values['p95_ms']:.0f}ms, {values['failures']:.0f} failures/{values['requests']:.0f} requests, "
        f"{values['queries']:g} queries/request"
    )


@dataclass(frozen=True)
class Figures:
    """One endpoint (or ``Aggregated``) of a load run, as much as a card needs: recordable in exercise.toml."""

    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    queries: float  # the median request's
    external_ms: float
    response_bytes: float
    rows_examined: float
    waiting_p95_ms: float  # time in no query, call or transfer
    causes: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        return {"p95_ms": self.p95_ms, "failures": self.failures, "requests": self.requests, "queries": self.queries}


TOTAL = "Aggregated"


def _median(samples: Sequence[Sample], value: Callable[[Sample], float]) -> float:
    ok = [value(s) for s in samples if not s.failure] or [value(s) for s in samples]
    return float(statistics.median(ok)) if ok else 0.0


def figures(run: LoadRun) -> dict[str, Figures]:
    """Per endpoint ("GET /name") and in all (``Aggregated``): what the cards compare."""
    groups: dict[str, list[Sample]] = {}
    for sample in run.samples:
        groups.setdefault(f"{sample.method} {sample.name}", []).append(sample)
    groups[TOTAL] = list(run.samples)
    found = {}
    for name, samples in groups.items():
        times = sorted(s.response_ms for s in samples)
        found[name] = Figures(
            requests=len(samples),
            failures=sum(1 for s in samples if s.failure),
            p50_ms=percentile(times, 0.5),
            p95_ms=percentile(times, 0.95),
            p99_ms=percentile(times, 0.99),
            queries=_median(samples, lambda s: s.queries),
            external_ms=_median(samples, lambda s: s.external_ms),
            response_bytes=_median(samples, lambda s: s.response_bytes),
            rows_examined=_median(samples, lambda s: s.rows_examined),
            waiting_p95_ms=percentile(sorted(s.waiting_ms for s in samples), 0.95),
            causes=failures_by_cause(samples),
        )
    return found


def recorded(table: Any) -> dict[str, Figures]:
    """Figures as exercise.toml records them (``[baseline.load."GET /name"]``)."""
    found = {}
    for name, row in dict(table).items():
        values = dict(row)
        values["causes"] = dict(values.get("causes", {}))
        found[str(name)] = Figures(**values)
    return found


def to_record(found: dict[str, Figures]) -> dict[str, dict[str, Any]]:
    """Figures as plain values, for exercise.toml."""
    return {
        name: {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(f).items()}
        for name, f in found.items()
    }


@dataclass
class Comparison:
    before: dict[str, Figures]
    after: dict[str, Figures]
    diff: list[str] = field(default_factory=list)
    options: LoadOptions | None = None


def diff_lines(starter: str, submission: str) -> list[str]:
    """The submission's added and removed lines against the starter (``+ line`` / ``- line``)."""
    out = []
    for line in difflib.unified_diff(starter.splitlines(), submission.splitlines(), lineterm="", n=0):
        if line.startswith(("+++", "---", "@@")):
            continue
        if line[1:].strip():
            out.append(f"{line[0]} {line[1:].strip()}")
    return out


def fix_lines(kind: str, diff: Sequence[str], limit: int = 4) -> list[str]:
    """The diff lines a fix of this kind is made of (added lines first), or the first changed lines."""
    words = FIX_WORDS.get(kind, ())
    # Code, not prose: a comment or a docstring's sentence names the fix without being it.
    code = [
        line
        for line in diff
        if not line[2:].startswith(("#", '"""')) and any(mark in line for mark in ("(", "=", "import "))
    ]
    chosen = [line for line in code if line.startswith("+") and any(w in line for w in words)]
    chosen += [line for line in code if line.startswith("-") and any(w in line for w in words)]
    return (chosen or [line for line in code if line.startswith("+")])[:limit]


def _percent(before: float, after: float) -> str:
    return f"{(before - after) / before:.0%}" if before > 0 else "n/a"


def cards(comparison: Comparison) -> list[Card]:
    """Every measured improvement of the submission over the starter, one card per kind and endpoint."""
    found: list[Card] = []
    for name in sorted(set(comparison.before) & set(comparison.after) - {TOTAL}):
        old, new = comparison.before[name], comparison.after[name]
        impact = f"{_percent(old.p95_ms, new.p95_ms)} p95 reduction ({old.p95_ms:.0f} -> {new.p95_ms:.0f} ms)"
        measured: list[tuple[str, str, str, str]] = []  # kind, title, problem, impact beyond p95
        if old.queries >= 2 * max(new.queries, 1) and old.queries - new.queries >= 3:
            measured.append(
                (
                    "queries",
                    f"fewer queries in {name}",
                    f"{old.queries:g} DB queries per request on {name} (median), {new.queries:g} after",
                    f"; {old.queries:g} -> {new.queries:g} queries per request",
                )
            )
        if old.external_ms >= 1.3 * new.external_ms and old.external_ms - new.external_ms >= 50:
            measured.append(
                (
                    "external",
                    f"partner calls at once in {name}",
                    f"{old.external_ms:.0f} ms per request waiting for partner APIs on {name}, "
                    f"{new.external_ms:.0f} ms after",
                    "",
                )
            )
        if old.response_bytes >= 2 * max(new.response_bytes, 1) and old.response_bytes - new.response_bytes >= 1000:
            measured.append(
                (
                    "bytes",
                    f"smaller responses from {name}",
                    f"{old.response_bytes:,.0f} bytes per response on {name}, {new.response_bytes:,.0f} after",
                    f"; {_percent(old.response_bytes, new.response_bytes)} fewer bytes",
                )
            )
        if old.rows_examined >= 10 * max(new.rows_examined, 1) and old.rows_examined - new.rows_examined >= 1000:
            measured.append(
                (
                    "rows",
                    f"an index for {name}",
                    f"{old.rows_examined:,.0f} rows examined per request on {name} (a full scan), "
                    f"{new.rows_examined:,.0f} after",
                    "",
                )
            )
        if old.waiting_p95_ms >= 50 and old.waiting_p95_ms >= 2 * new.waiting_p95_ms:
            measured.append(
                (
                    "waiting",
                    f"no more queueing in {name}",
                    f"p95 of {old.waiting_p95_ms:.0f} ms per request on {name} in no query, call or transfer: "
                    f"waiting for a blocked event loop or a connection; {new.waiting_p95_ms:.0f} ms after",
                    "",
                )
            )
        if old.failures > new.failures:
            causes = ", ".join(f"{c} {n}" for c, n in old.causes.items())
            measured.append(
                (
                    "failures",
                    f"failures gone from {name}" if not new.failures else f"fewer failures in {name}",
                    f"{old.failures} of {old.requests} requests to {name} failed under load ({causes})",
                    f"; failures {old.failures} -> {new.failures}",
                )
            )
        for kind, title, problem, extra in measured:
            card = Card(
                kind,
                name,
                title,
                problem,
                fix_lines(kind, comparison.diff),
                old.summary(),
                new.summary(),
                impact + extra,
            )
            found.append(card)
    return found


def markdown(comparison: Comparison, found: Sequence[Card], title: str) -> str:
    options = comparison.options
    load = (
        f"{options.users} users, {options.duration:g} modeled seconds, seed {options.seed}, the same scenario"
        if options is not None
        else "the same scenario"
    )
    lines = [
        f"# {title}",
        "",
        f"Both runs: {load}. Before: the pristine starter. After: the submission.",
        "",
        "| | requests | failures | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, side in (("before", comparison.before), ("after", comparison.after)):
        total = side[TOTAL]
        lines.append(
            f"| {label} | {total.requests} | {total.failures} | {total.p50_ms:.0f} | {total.p95_ms:.0f} | "
            f"{total.p99_ms:.0f} |"
        )
    lines.append("")
    if not found:
        lines.append("No measured improvement yet: the submission's numbers match the starter's.")
    for number, item in enumerate(found, start=1):
        lines.append(item.markdown(number))
    return "\n".join(lines) + "\n"
