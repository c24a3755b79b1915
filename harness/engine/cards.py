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
from dataclasses import dataclass, field

from harness.world.load import LoadRun, Sample
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


@dataclass
class Comparison:
    before: LoadRun
    after: LoadRun
    diff: list[str] = field(default_factory=list)


def _by_name(run: LoadRun) -> dict[tuple[str, str], list[Sample]]:
    groups: dict[tuple[str, str], list[Sample]] = {}
    for sample in run.samples:
        groups.setdefault((sample.method, sample.name), []).append(sample)
    return groups


def _median(samples: Sequence[Sample], value: Callable[[Sample], float]) -> float:
    ok = [value(s) for s in samples if not s.failure] or [value(s) for s in samples]
    return float(statistics.median(ok)) if ok else 0.0


def _summary(samples: Sequence[Sample]) -> dict[str, float]:
    times = sorted(s.response_ms for s in samples)
    return {
        "p95_ms": percentile(times, 0.95),
        "failures": float(sum(1 for s in samples if s.failure)),
        "requests": float(len(samples)),
        "queries": _median(samples, lambda s: s.queries),
    }


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
    code = [line for line in diff if not line[2:].startswith(("#", '"""'))]
    chosen = [line for line in code if line.startswith("+") and any(w in line for w in words)]
    chosen += [line for line in code if line.startswith("-") and any(w in line for w in words)]
    return (chosen or [line for line in code if line.startswith("+")])[:limit]


def _percent(before: float, after: float) -> str:
    return f"{(before - after) / before:.0%}" if before > 0 else "n/a"


def cards(comparison: Comparison) -> list[Card]:
    """Every measured improvement of the submission over the starter, one card per kind and endpoint."""
    found: list[Card] = []
    before_groups, after_groups = _by_name(comparison.before), _by_name(comparison.after)
    for key in sorted(set(before_groups) & set(after_groups), key=lambda k: (k[1], k[0])):
        old, new = before_groups[key], after_groups[key]
        name = f"{key[0]} {key[1]}"
        b, a = _summary(old), _summary(new)
        impact = f"{_percent(b['p95_ms'], a['p95_ms'])} p95 reduction ({b['p95_ms']:.0f} -> {a['p95_ms']:.0f} ms)"

        measured: list[tuple[str, str, str, str]] = []  # kind, title, problem, impact beyond p95

        queries_b, queries_a = b["queries"], a["queries"]
        if queries_b >= 2 * max(queries_a, 1) and queries_b - queries_a >= 3:
            measured.append(
                (
                    "queries",
                    f"fewer queries in {name}",
                    f"{queries_b:g} DB queries per request on {name} (median), {queries_a:g} after",
                    f"; {queries_b:g} -> {queries_a:g} queries per request",
                )
            )
        ext_b, ext_a = _median(old, lambda s: s.external_ms), _median(new, lambda s: s.external_ms)
        if ext_b >= 1.3 * ext_a and ext_b - ext_a >= 50:
            measured.append(
                (
                    "external",
                    f"partner calls at once in {name}",
                    f"{ext_b:.0f} ms per request waiting for partner APIs on {name}, {ext_a:.0f} ms after",
                    "",
                )
            )
        bytes_b, bytes_a = _median(old, lambda s: s.response_bytes), _median(new, lambda s: s.response_bytes)
        if bytes_b >= 2 * max(bytes_a, 1) and bytes_b - bytes_a >= 1000:
            measured.append(
                (
                    "bytes",
                    f"smaller responses from {name}",
                    f"{bytes_b:,.0f} bytes per response on {name}, {bytes_a:,.0f} after",
                    f"; {_percent(bytes_b, bytes_a)} fewer bytes",
                )
            )
        rows_b, rows_a = _median(old, lambda s: s.rows_examined), _median(new, lambda s: s.rows_examined)
        if rows_b >= 10 * max(rows_a, 1) and rows_b - rows_a >= 1000:
            measured.append(
                (
                    "rows",
                    f"an index for {name}",
                    f"{rows_b:,.0f} rows examined per request on {name} (a full scan), {rows_a:,.0f} after",
                    "",
                )
            )
        wait_b = percentile(sorted(s.waiting_ms for s in old), 0.95)
        wait_a = percentile(sorted(s.waiting_ms for s in new), 0.95)
        if wait_b >= 50 and wait_b >= 2 * wait_a:
            measured.append(
                (
                    "waiting",
                    f"no more queueing in {name}",
                    f"p95 of {wait_b:.0f} ms per request on {name} in no query, call or transfer: waiting for a "
                    f"blocked event loop or a connection; {wait_a:.0f} ms after",
                    "",
                )
            )
        if b["failures"] > a["failures"]:
            causes = ", ".join(f"{c} {n}" for c, n in failures_by_cause(old).items())
            measured.append(
                (
                    "failures",
                    f"failures gone from {name}" if not a["failures"] else f"fewer failures in {name}",
                    f"{b['failures']:.0f} of {b['requests']:.0f} requests to {name} failed under load ({causes})",
                    f"; failures {b['failures']:.0f} -> {a['failures']:.0f}",
                )
            )
        for kind, title, problem, extra in measured:
            found.append(Card(kind, name, title, problem, fix_lines(kind, comparison.diff), b, a, impact + extra))
    return found


def markdown(comparison: Comparison, found: Sequence[Card], title: str) -> str:
    options = comparison.after.options
    lines = [
        f"# {title}",
        "",
        f"Both runs: {options.users} users, {options.duration:g} modeled seconds, seed {options.seed}, the same "
        "scenario. Before: the pristine starter. After: the submission.",
        "",
        "| | requests | failures | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, run in (("before", comparison.before), ("after", comparison.after)):
        times = sorted(s.response_ms for s in run.samples)
        lines.append(
            f"| {label} | {len(run.samples)} | {sum(1 for s in run.samples if s.failure)} | "
            f"{percentile(times, 0.5):.0f} | {percentile(times, 0.95):.0f} | {percentile(times, 0.99):.0f} |"
        )
    lines.append("")
    if not found:
        lines.append("No measured improvement yet: the submission's numbers match the starter's.")
    for number, item in enumerate(found, start=1):
        lines.append(item.markdown(number))
    return "\n".join(lines) + "\n"
