"""A request as a waterfall: one bar per query, call and transfer, on modeled time.

An N+1 shows as a staircase: the same query again and again, each starting
where the last ended.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from harness.fingerprint import short
from harness.measure import RequestMetrics

MAX_ROWS = 48
LABEL_WIDTH = 34
STYLES = {"db": "cyan", "ext": "magenta", "net": "green", "fail": "red"}


@dataclass
class Row:
    kind: str
    label: str
    site: str
    start: float  # ms from the request's start
    end: float
    count: int = 1


def rows_of(metrics: RequestMetrics) -> list[Row]:
    t0 = metrics.start
    rows = [
        Row(
            "fail" if q.error else "db",
            short(q.fingerprint),
            q.call_site,
            (q.start - t0) * 1000,
            (q.end - t0) * 1000,
        )
        for q in metrics.queries
    ]
    rows += [
        Row(
            "ext" if c.outcome == "200" else "fail",
            f"{c.service} ({c.outcome})",
            c.url,
            (c.start - t0) * 1000,
            (c.end - t0) * 1000,
        )
        for c in metrics.calls
    ]
    if metrics.transfer_start is not None and metrics.response_bytes:
        start = (metrics.transfer_start - t0) * 1000
        rows.append(
            Row(
                "net",
                f"transfer {metrics.response_bytes:,} bytes",
                "network",
                start,
                start + metrics.transfer_ms,
            )
        )
    rows.sort(key=lambda r: (r.start, r.end))
    return _bucket(rows)


def _bucket(rows: list[Row]) -> list[Row]:
    """Merge query rows until at most MAX_ROWS remain, keeping the staircase.

    First runs of the same query from the same line become one row ("x80");
    if that is still too many, neighbouring query rows are merged in groups.
    """
    if len(rows) <= MAX_ROWS:
        return rows
    rows = _merge(rows, lambda a, b: (a.label, a.site) == (b.label, b.site), limit=None)
    queries = sum(1 for r in rows if r.kind == "db")
    if len(rows) > MAX_ROWS and queries:
        size = math.ceil(queries / (MAX_ROWS - (len(rows) - queries)))
        rows = _merge(rows, lambda a, b: True, limit=size)
    return rows


def _merge(rows: list[Row], same: Callable[[Row, Row], bool], limit: int | None) -> list[Row]:
    merged: list[Row] = []
    members: list[int] = []  # rows folded into each merged row
    for row in rows:
        last = merged[-1] if merged else None
        if last and last.kind == row.kind == "db" and same(last, row) and (limit is None or members[-1] < limit):
            if last.label != row.label and not last.label.endswith("…"):
                last.label += " …"
            last.end, last.count, members[-1] = row.end, last.count + row.count, members[-1] + 1
        else:
            merged.append(Row(row.kind, row.label, row.site, row.start, row.end, row.count))
            members.append(1)
    return merged


def _bar(row: Row, total: float, width: int) -> Text:
    scale = width / total if total > 0 else 0
    first = min(width - 1, int(row.start * scale))
    last = max(first + 1, min(width, math.ceil(row.end * scale)))
    text = Text(" " * first)
    text.append("█" * (last - first), style=STYLES[row.kind])
    return text


def render(metrics: RequestMetrics, console_width: int = 100) -> Table:
    """The waterfall as a table whose bars fill what the console leaves free."""
    width = max(20, console_width - LABEL_WIDTH - 7 - 4)
    total = metrics.total_ms
    table = Table(
        title=f"Waterfall: modeled time, 0 to {total:,.1f} ms", title_justify="left", box=None, pad_edge=False
    )
    end_label = f"{total:,.0f} ms"
    table.add_column("what", no_wrap=True, width=LABEL_WIDTH, overflow="ellipsis")
    table.add_column("ms", justify="right", no_wrap=True, width=7)
    table.add_column(f"0 {'─' * max(1, width - 3 - len(end_label))} {end_label}", no_wrap=True, width=width)
    for row in rows_of(metrics):
        label = f"x{row.count} {row.label}" if row.count > 1 else row.label
        table.add_row(Text(label, style=STYLES[row.kind]), f"{row.end - row.start:,.1f}", _bar(row, total, width))
    return table
