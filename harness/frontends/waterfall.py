"""A request as a waterfall: one bar per query, call and transfer, on modeled time.

An N+1 shows as a staircase: the same query again and again, each starting
where the last ended.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.table import Table
from rich.text import Text

from harness.world.fingerprint import short
from harness.world.measure import RequestMetrics

MAX_ROWS = 48
LABEL_WIDTH = 34
MS_WIDTH = 7  # the narrowest "ms" column; wider when a row needs it (a call cancelled after 120 s)
STYLES = {"db": "cyan", "ext": "magenta", "net": "green", "fail": "red"}


@dataclass
class Row:
    kind: str
    label: str
    site: str
    start: float  # ms from the request's start
    end: float
    shapes: Counter[str] = field(default_factory=Counter)  # a merged row: each query shape and how often

    @property
    def count(self) -> int:
        return sum(self.shapes.values()) or 1

    def title(self) -> str:
        """What the row stands for: one shape ("x80 SELECT users ..."), or every shape a merged row holds."""
        if len(self.shapes) <= 1:
            return f"x{self.count} {self.label}" if self.count > 1 else self.label
        parts, verb = [], ""
        for shape, n in sorted(self.shapes.items(), key=lambda item: (-item[1], item[0])):
            shape_verb, _, rest = shape.partition(" ")
            table = rest.split(" ", 1)[0]
            parts.append(f"{table} ×{n}" if shape_verb == verb else f"{shape_verb} {table} ×{n}")
            verb = shape_verb
        return ", ".join(parts)  # "SELECT users ×40, tasks ×1"


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
            last.end = row.end
            last.shapes.update(row.shapes or {row.label: 1})
            members[-1] += 1
        else:
            merged.append(Row(row.kind, row.label, row.site, row.start, row.end, Counter(row.shapes or {row.label: 1})))
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
    rows = rows_of(metrics)
    durations = [f"{row.end - row.start:,.1f}" for row in rows]
    ms_width = max([MS_WIDTH, *map(len, durations)])
    # Labels get more room on a wide console, so a merged row can name every shape it holds.
    label_width = max(LABEL_WIDTH, min(max(len(row.title()) for row in rows), console_width * 2 // 5))
    width = max(20, console_width - label_width - ms_width - 4)
    total = metrics.total_ms
    table = Table(
        title=f"Waterfall: modeled time, 0 to {total:,.1f} ms", title_justify="left", box=None, pad_edge=False
    )
    end_label = f"{total:,.0f} ms"
    table.add_column("what", no_wrap=True, width=label_width, overflow="ellipsis")
    table.add_column("ms", justify="right", no_wrap=True, width=ms_width)
    table.add_column(f"0 {'─' * max(1, width - 3 - len(end_label))} {end_label}", no_wrap=True, width=width)
    for row, duration in zip(rows, durations, strict=True):
        table.add_row(Text(row.title(), style=STYLES[row.kind]), duration, _bar(row, total, width))
    return table
