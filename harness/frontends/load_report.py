"""A load run, shown as Locust shows one: its results tables, its three CSV files, and an HTML page of charts.

The tables and the CSV columns are Locust's (2.x), so tools and habits built on
Locust's output work on ours. The numbers differ in two ways, on purpose:
percentiles are exact (Locust rounds each time into a bucket first), and time
is modeled (the CSV's Timestamp is the modeled second of the run).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from html import escape
from pathlib import Path

from harness.frontends.locust_real import WHY_THEY_DIFFER, LocustEntry, LocustResult
from harness.world.load import LoadRun
from harness.world.loadstats import (
    PERCENTILES,
    EntryStats,
    entries,
    failures_by_cause,
    failures_by_request,
    percentile,
    time_series,
    total,
)

TYPE_WIDTH = 8
PERCENTILE_LABELS = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]

STATS_COLUMNS = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    *PERCENTILE_LABELS,
]
HISTORY_COLUMNS = [
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    *PERCENTILE_LABELS,
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
]
FAILURES_COLUMNS = ["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"]
EXCEPTIONS_COLUMNS = ["Count", "Message", "Traceback", "Nodes"]


def _ms(value: float) -> str:
    return f"{value:.0f}"


def _name_width(rows: Sequence[EntryStats]) -> int:
    return max(24, min(80, max((len(r.name) for r in rows), default=0) + 2))


def stats_table(run: LoadRun) -> list[str]:
    """Locust's results table (``print_stats``), with the run's totals."""
    rows = entries(run)
    width = _name_width(rows)
    line = "%-" + str(TYPE_WIDTH) + "s %-" + str(width) + "s %7s %12s |%7s %7s %7s%7s | %7s %11s"
    out = [line % ("Type", "Name", "# reqs", "# fails", "Avg", "Min", "Max", "Med", "req/s", "failures/s")]
    separator = (
        f"{'-' * TYPE_WIDTH}|{'-' * width}|{'-' * 7}|{'-' * 13}|{'-' * 7}|{'-' * 7}|{'-' * 7}|{'-' * 7}|"
        f"{'-' * 8}|{'-' * 11}"
    )
    out.append(separator)
    for r in [*rows, None, total(run)]:
        if r is None:
            out.append(separator)
            continue
        ratio = r.failures / r.requests * 100 if r.requests else 0.0
        out.append(
            ("%-" + str(TYPE_WIDTH) + "s %-" + str(width) + "s %7d %12s |%7s %7s %7s%7s | %7.2f %11.2f")
            % (
                r.method,
                r.name,
                r.requests,
                f"{r.failures}({ratio:.2f}%)",
                _ms(r.average_ms),
                _ms(r.min_ms),
                _ms(r.max_ms),
                _ms(r.median_ms),
                r.rps,
                r.failures_per_s,
            )
        )
    return out


def percentiles_table(run: LoadRun) -> list[str]:
    """Locust's "Response time percentiles" table; ours are exact, not approximated."""
    rows = entries(run)
    width = _name_width(rows)
    head = f"%-{TYPE_WIDTH}s %-{width}s " + " ".join(["%6s"] * len(PERCENTILES)) + " %8s"
    out = ["Response time percentiles (exact, modeled ms)", head % ("Type", "Name", *PERCENTILE_LABELS, "# reqs")]
    separator = f"{'-' * TYPE_WIDTH}|{'-' * width}|" + ("-" * 6 + "|") * len(PERCENTILES) + "-" * 8
    out.append(separator)
    row = f"%-{TYPE_WIDTH}s %-{width}s " + " ".join(["%6s"] * len(PERCENTILES)) + " %8d"
    for r in [*rows, None, total(run)]:
        if r is None:
            out.append(separator)
            continue
        if r.requests:
            out.append(row % (r.method, r.name, *(_ms(r.percentiles[p]) for p in PERCENTILES), r.requests))
    return out


def failures_table(run: LoadRun) -> list[str]:
    failures = failures_by_request(run.samples)
    if not failures:
        return []
    out = ["Error report", f"{'# occurrences':18} {'Error':100}", f"{'-' * 18}|{'-' * 80}"]
    out += [f"{f.occurrences:<18d} {f.method} {f.name}: {f.error}" for f in failures]
    out.append(f"{'-' * 18}|{'-' * 80}")
    causes = failures_by_cause(run.samples)
    out.append("Failures by cause: " + ", ".join(f"{cause} {n}" for cause, n in causes.items()))
    return out


def exceptions_table(run: LoadRun) -> list[str]:
    if not run.errors:
        return []
    out = ["Exceptions in the locustfile's tasks (no request was counted for them)"]
    out += [f"{count:<18d} {where}: {error}" for (where, error), count in run.errors.items()]
    return out


# --- CSV (--csv PREFIX) -------------------------------------------------------------


def _number(value: float) -> str:
    return f"{round(value, 3):g}" if value != int(value) else str(int(value))


def _stats_row(r: EntryStats) -> list[str]:
    return [
        r.method,
        r.name,
        str(r.requests),
        str(r.failures),
        _number(r.median_ms),
        _number(r.average_ms),
        _number(r.min_ms),
        _number(r.max_ms),
        _number(r.average_bytes),
        _number(round(r.rps, 6)),
        _number(round(r.failures_per_s, 6)),
        *(_number(r.percentiles[p]) for p in PERCENTILES),
    ]


def write_csv(run: LoadRun, prefix: str | Path) -> list[Path]:
    """PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv and PREFIX_exceptions.csv, with Locust's
    columns. The history has Locust's default rows (Aggregated, cumulative percentiles), one per modeled second;
    Timestamp, First Seen and Last Seen are modeled seconds since the run began."""
    prefix = str(prefix)
    written = []
    path = Path(f"{prefix}_stats.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(STATS_COLUMNS)
        for r in entries(run):
            writer.writerow(_stats_row(r))
        writer.writerow(_stats_row(total(run)))
    written.append(path)

    path = Path(f"{prefix}_stats_history.csv")
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HISTORY_COLUMNS)
        for window in time_series(run):
            done = [s for s in run.samples if s.end <= window.time + 1e-9]
            times = sorted(s.response_ms for s in done)
            writer.writerow(
                [
                    _number(window.time),
                    str(window.users),
                    "",
                    "Aggregated",
                    _number(window.requests),
                    _number(window.failures),
                    *(_number(percentile(times, p)) if times else "N/A" for p in PERCENTILES),
                    str(window.total_requests),
                    str(window.total_failures),
                    _number(percentile(times, 0.5)),
                    _number(round(sum(times) / len(times), 3)) if times else "0",
                    _number(times[0]) if times else "0",
                    _number(times[-1]) if times else "0",
                    _number(round(sum(s.response_bytes for s in done) / len(done), 1)) if done else "0",
                ]
            )
    written.append(path)

    path = Path(f"{prefix}_failures.csv")
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FAILURES_COLUMNS)
        for line in failures_by_request(run.samples):
            writer.writerow(
                [
                    line.method,
                    line.name,
                    line.error,
                    str(line.occurrences),
                    _number(line.first_seen),
                    _number(line.last_seen),
                ]
            )
    written.append(path)

    path = Path(f"{prefix}_exceptions.csv")
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(EXCEPTIONS_COLUMNS)
        for (where, error), count in run.errors.items():
            writer.writerow([str(count), error, where, "local"])
    written.append(path)
    return written


# --- HTML (--html FILE) -------------------------------------------------------------

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #222; max-width: 1100px; }
h1 { font-size: 1.35rem; } h2 { font-size: 1.1rem; margin-top: 1.8rem; }
table { border-collapse: collapse; font-size: 12px; } td, th { border: 1px solid #ddd; padding: .25rem .5rem; }
th { background: #f5f5f5; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.small { color: #666; font-size: 12px; } svg text { font: 11px system-ui, sans-serif; fill: #444; }
"""
W, H, PAD, TOP = 960, 270, 48, 26


def _scale(value: float, low: float, high: float, size: float) -> float:
    return 0.0 if high <= low else (value - low) / (high - low) * size


def _tick(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"


def _axes(x_max: float, y_max: float, x_label: str, y_label: str) -> list[str]:
    parts = [
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 10}" y2="{H - PAD}" stroke="#999"/>',
        f'<line x1="{PAD}" y1="{TOP}" x2="{PAD}" y2="{H - PAD}" stroke="#999"/>',
        f'<text x="{W / 2}" y="{H - 12}" text-anchor="middle">{escape(x_label)}</text>',
        f'<text x="12" y="{H / 2}" transform="rotate(-90 12 {H / 2})" text-anchor="middle">{escape(y_label)}</text>',
    ]
    for i in range(5):
        y_value = y_max * i / 4
        y = H - PAD - _scale(y_value, 0, y_max, H - PAD - TOP)
        parts.append(f'<text x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end">{_tick(y_value)}</text>')
        parts.append(f'<line x1="{PAD}" y1="{y:.1f}" x2="{W - 10}" y2="{y:.1f}" stroke="#eee"/>')
        x_value = x_max * i / 4
        x = PAD + _scale(x_value, 0, x_max, W - PAD - 10)
        parts.append(f'<text x="{x:.1f}" y="{H - PAD + 14}" text-anchor="middle">{_tick(x_value)}</text>')
    return parts


def _line_chart(series: dict[str, tuple[str, list[tuple[float, float]]]], x_label: str, y_label: str) -> str:
    points = [p for _, values in series.values() for p in values]
    x_max = max((x for x, _ in points), default=1.0) or 1.0
    y_max = max((y for _, y in points), default=1.0) * 1.1 or 1.0
    parts = _axes(x_max, y_max, x_label, y_label)
    for index, (label, (color, values)) in enumerate(series.items()):
        coords = " ".join(
            f"{PAD + _scale(x, 0, x_max, W - PAD - 10):.1f},{H - PAD - _scale(y, 0, y_max, H - PAD - TOP):.1f}"
            for x, y in values
        )
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<text x="{PAD + 10 + 120 * index}" y="14" style="fill:{color}">&#9632; {escape(label)}</text>')
    return f'<svg width="{W}" height="{H}" role="img">{"".join(parts)}</svg>'


def _bar_chart(bars: list[tuple[float, float, str]], width: float, x_max: float, x_label: str, y_label: str) -> str:
    """Bars from x to x + width (in the x axis' units), height y, colour."""
    y_max = max((y for _, y, _ in bars), default=1.0) * 1.1 or 1.0
    parts = _axes(x_max, y_max, x_label, y_label)
    unit = (W - PAD - 10) / max(x_max, 1e-9) * width
    for x, y, color in bars:
        height = _scale(y, 0, y_max, H - PAD - TOP)
        left = PAD + _scale(x, 0, x_max, W - PAD - 10)
        parts.append(
            f'<rect x="{left:.1f}" y="{H - PAD - height:.1f}" width="{max(unit - 1, 1):.1f}" '
            f'height="{height:.1f}" fill="{color}"/>'
        )
    return f'<svg width="{W}" height="{H}" role="img">{"".join(parts)}</svg>'


def histogram(times: Sequence[float], bins: int = 40) -> list[tuple[float, int]]:
    """(lower edge in ms, count) for ``bins`` equal bins from 0 to the max."""
    if not times:
        return []
    top = max(times) or 1.0
    width = top / bins
    counts = [0] * bins
    for t in times:
        counts[min(int(t / width), bins - 1)] += 1
    return [(i * width, c) for i, c in enumerate(counts)]


def html_page(run: LoadRun, title: str) -> str:
    """One self-contained page: the tables, latency over time (p50/p95), a histogram, failures over time."""
    windows = time_series(run)
    latency = _line_chart(
        {
            "p50": ("#1565c0", [(w.time, w.p50_ms) for w in windows if w.requests]),
            "p95": ("#c62828", [(w.time, w.p95_ms) for w in windows if w.requests]),
        },
        "modeled seconds",
        "ms (requests finished that second)",
    )
    times = [s.response_ms for s in run.samples]
    bins = histogram(times)
    width = bins[1][0] if len(bins) > 1 else 1.0
    hist = _bar_chart(
        [(low, float(c), "#5e35b1") for low, c in bins],
        width,
        max(times, default=1.0) or 1.0,
        f"response time (ms), in bins of {width:.0f} ms",
        "requests",
    )
    failures = _bar_chart(
        [(w.time - 1, float(w.failures), "#c62828") for w in windows],
        1.0,
        float(len(windows) or 1),
        "modeled seconds",
        "failures per second",
    )
    users = _line_chart(
        {
            "users": ("#2e7d32", [(float(t.time), float(t.users)) for t in run.ticks]),
            "requests/s": ("#ef6c00", [(w.time, float(w.requests)) for w in windows]),
        },
        "modeled seconds",
        "users, requests per second",
    )
    table = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"n" if i > 1 else ""}">{escape(str(v))}</td>'
            for i, v in enumerate(
                [
                    r.method,
                    r.name,
                    r.requests,
                    r.failures,
                    _ms(r.percentiles[0.5]),
                    _ms(r.percentiles[0.95]),
                    _ms(r.percentiles[0.99]),
                    _ms(r.max_ms),
                    f"{r.rps:.2f}",
                ]
            )
        )
        + "</tr>"
        for r in [*entries(run), total(run)]
    )
    causes = failures_by_cause(run.samples)
    cause_rows = "".join(f"<tr><td>{escape(c)}</td><td class='n'>{n}</td></tr>" for c, n in causes.items())
    options = run.options
    load = (
        f"{options.users} users, {options.spawn_rate:g} spawned per second"
        if options.rate is None
        else f"open model: {options.rate:g} users arriving per second"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{_STYLE}</style></head>
<body><h1>{escape(title)}</h1>
<p class="small">{escape(load)}, {options.duration:g} modeled seconds, seed {options.seed}.
Times are modeled (the world's virtual clock) and percentiles exact: the same run gives the same page.</p>
<table><tr><th>Type</th><th>Name</th><th># reqs</th><th># fails</th><th>p50 ms</th><th>p95 ms</th>
<th>p99 ms</th><th>max ms</th><th>req/s</th></tr>{table}</table>
<h2>Latency over time</h2>{latency}
<h2>Response time histogram</h2>{hist}
<h2>Failures over time</h2>{failures}
{f"<table><tr><th>cause</th><th>failures</th></tr>{cause_rows}</table>" if causes else "<p>No failures.</p>"}
<h2>Users and throughput</h2>{users}
</body></html>
"""


def write_html(run: LoadRun, path: Path, title: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html_page(run, title))
    return path


# --- next to real Locust (--locust) ---------------------------------------------------


def locust_json(real: LocustResult) -> dict[str, object]:
    def one(e: LocustEntry) -> dict[str, object]:
        return {
            "requests": e.requests,
            "failures": e.failures,
            "p50_ms": e.percentiles[0.5],
            "p95_ms": e.percentiles[0.95],
            "p99_ms": e.percentiles[0.99],
            "max_ms": round(e.max_ms, 3),
        }

    return {
        "workers": real.workers,
        "wall_s": round(real.wall_seconds, 2),
        "total": one(real.total),
        "entries": [{"name": e.name, "method": e.method, **one(e)} for e in real.entries],
    }


def side_by_side(run: LoadRun, real: LocustResult) -> list[str]:
    """Each line's requests and p50/p95/p99/max: the kata's run, then real Locust's."""
    ours = {(e.method, e.name): e for e in entries(run)}
    theirs = {(e.method, e.name): e for e in real.entries}
    keys = sorted(set(ours) | set(theirs), key=lambda k: (k[1], k[0]))
    width = max([24, *(len(f"{m} {n}") + 2 for m, n in keys)])
    mode = f"distributed, {real.workers} workers" if real.workers else "one process"
    out = [
        f"Side by side: the kata (modeled time) and real Locust ({mode}, {real.wall_seconds:.0f} s of real time)",
        f"{'':{width}} {'kata: reqs   p50   p95   p99   max':>38} | {'Locust: reqs   p50   p95   p99   max':>38}",
    ]

    def cells(requests: int, p: dict[float, float] | dict[float, int], top: float) -> str:
        return f"{requests:>10} {p[0.5]:>5.0f} {p[0.95]:>5.0f} {p[0.99]:>5.0f} {top:>5.0f}"

    for key in [*keys, ("", "Aggregated")]:
        mine = total(run) if key == ("", "Aggregated") else ours.get(key)
        other = real.total if key == ("", "Aggregated") else theirs.get(key)
        left = cells(mine.requests, mine.percentiles, mine.max_ms) if mine else f"{'-':>34}"
        right = cells(other.requests, other.percentiles, other.max_ms) if other else f"{'-':>34}"
        out.append(f"{(key[0] + ' ' + key[1]).strip():{width}} {left:>38} | {right:>38}")
    out.append(WHY_THEY_DIFFER)
    return out
