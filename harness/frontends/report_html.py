"""`kata compare --html`: one self-contained page (inline CSS and SVG, no network, no JavaScript).

The table fits 1,400 px with every column shown: a column per exercise (status,
points, improvement, figures, and the first failing check's reason) and the
total. Below it: the class per exercise (pass rate), the histogram of total
scores, and per exercise the modeled time and queries of every submission.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from harness.catalog import Exercise
from harness.engine.checks import profile_scale
from harness.frontends.compare import Cell, Rows, histogram, pass_rates, total
from harness.words import count

PASS, FAIL, PARTIAL, MISSING = "#2e7d32", "#c62828", "#ef6c00", "#9e9e9e"
REASON_CHARS = 100
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #222; max-width: 1360px; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table.grades { border-collapse: collapse; margin: 1rem 0; width: 100%; table-layout: fixed; font-size: 12px; }
.grades th, .grades td { border: 1px solid #ddd; padding: .3rem .35rem; vertical-align: top; overflow-wrap: anywhere; }
.grades th { background: #f5f5f5; text-align: left; font-size: 11px; }
.grades th.name, .grades td.name { width: 9rem; font-weight: 600; }
.grades th.total, .grades td.total { width: 4.5rem; text-align: right; }
.grades tr.rate td { background: #fafafa; color: #555; }
td.pass { background: #e8f5e9; } td.fail { background: #ffebee; } td.missing { color: #9e9e9e; }
.figures { color: #555; } .reason { color: #8e2424; font-size: 11px; display: block; margin-top: .2rem; }
.small { color: #666; font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 2rem; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: .3rem; }
"""


def _bar_chart(
    title: str,
    rows: Sequence[tuple[str, float | None, str]],
    unit: str,
    reference: float | None = None,
    reference_label: str = "",
    maximum: float | None = None,
    unit_of_one: str | None = None,
) -> str:
    """Horizontal bars: (label, value, colour); a dashed line marks the reference (``unit_of_one``: the unit
    after a value of exactly 1, "1 submission")."""
    label_w, bar_w = 170, 360
    row_h = 24 if len(rows) <= 12 else 16
    values = [v for _, v, _ in rows if v is not None] + ([reference] if reference else [])
    top = maximum or (max(values) if values else 1.0)
    height = row_h * len(rows) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">'
    ]
    for i, (label, value, colour) in enumerate(rows):
        y = i * row_h + 4
        text_y = y + row_h * 0.62
        parts.append(
            f'<text x="{label_w - 6}" y="{text_y:.0f}" text-anchor="end" font-size="12">{escape(label[:26])}</text>'
        )
        if value is None:
            parts.append(f'<text x="{label_w + 4}" y="{text_y:.0f}" font-size="12" fill="{MISSING}">n/a</text>')
            continue
        width = max(1.0, bar_w * value / top) if top else 1.0
        parts.append(f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{row_h - 6}" fill="{colour}"/>')
        shown = f"{value:,.4g} {unit_of_one if value == 1 and unit_of_one else unit}"
        parts.append(f'<text x="{label_w + width + 4}" y="{text_y:.0f}" font-size="12">{shown}</text>')
    if reference:
        x = label_w + bar_w * reference / top
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 22}" stroke="#555" stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" font-size="11" text-anchor="middle" fill="#555">'
            f"{escape(reference_label)}</text>"
        )
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(parts)}</figure>"


def _colour(cell: Cell) -> str:
    return {"pass": PASS, "fail": FAIL}.get(cell.status, MISSING)


def _cell(cell: Cell) -> str:
    if cell.status == "missing":
        return f'<td class="missing" title="{escape(cell.reason)}">missing</td>'
    m = cell.metrics
    ratio = f" · {cell.ratio:g}x" if cell.ratio is not None else ""
    figures = (
        f'<span class="figures">{m.get("queries", "?")} q · {m.get("total_ms", 0):,.1f} ms · '
        f"{m.get('response_bytes', 0):,} B</span>"
        if m
        else ""
    )
    reason = cell.reason
    shown = reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"
    why = f'<span class="reason">{escape(shown)}</span>' if reason else ""
    return (
        f'<td class="{cell.status}" title="{escape(reason)}"><b>{cell.status}</b> '
        f"{cell.score:g}/{cell.max_score:g}{ratio}<br>{figures}{why}</td>"
    )


def _grades(rows: Rows, exercises: list[Exercise]) -> str:
    # a long name breaks at its underscores, never inside a word
    head = "".join(f'<th title="{escape(e.title)}">{escape(e.name).replace("_", "_<wbr>")}</th>' for e in exercises)
    body = []
    for name, row in rows.items():
        score, maximum = total(row)
        cells = "".join(_cell(row[e.name]) for e in exercises)
        body.append(
            f'<tr><td class="name">{escape(name)}</td>{cells}<td class="total"><b>{score:g}</b>/{maximum:g}</td></tr>'
        )
    rates = pass_rates(rows, exercises)
    rate_cells = "".join(
        f"<td>{passed}/{graded} pass" + (f" ({100 * passed / graded:.0f} %)" if graded else "") + "</td>"
        for passed, graded in (rates[e.name] for e in exercises)
    )
    body.append(f'<tr class="rate"><td class="name">pass rate</td>{rate_cells}<td class="total"></td></tr>')
    return (
        f'<table class="grades"><tr><th class="name">submission</th>{head}<th class="total">total</th></tr>'
        f"{''.join(body)}</table>"
    )


def _class_charts(rows: Rows, exercises: list[Exercise]) -> str:
    rates = pass_rates(rows, exercises)
    rate_bars = [(e.name, 100 * p / g if g else None, PASS) for e in exercises for p, g in [rates[e.name]]]
    buckets = histogram(rows)
    histogram_bars = [(f"{label} points", float(n), PARTIAL) for label, n in buckets]
    return (
        '<div class="charts">'
        + _bar_chart("Pass rate per exercise (every check passes)", rate_bars, "%", maximum=100.0)
        + _bar_chart(
            f"Total scores of the {count(len(rows), 'submission')}",
            histogram_bars,
            "submissions",
            unit_of_one="submission",
        )
        + "</div>"
    )


def render(rows: Rows, exercises: list[Exercise], seed: int) -> str:
    sections = []
    for exercise in exercises:
        cells = [(name, row[exercise.name]) for name, row in rows.items()]
        scale = profile_scale(exercise)
        baseline = exercise.spec.baseline.get(scale, {})
        times = [(n, c.metrics.get("total_ms"), _colour(c)) for n, c in cells]
        queries = [(n, c.metrics.get("queries"), _colour(c)) for n, c in cells]
        sections.append(
            f"<h2>{escape(exercise.name)}: {escape(exercise.title)}</h2>"
            f'<p class="small">{escape(exercise.spec.endpoint)} at scale {scale}; '
            "green: passes every check, red: fails one; dashed: the starter's recorded baseline.</p>"
            '<div class="charts">'
            + _bar_chart("Modeled total time per request", times, "ms", baseline.get("total_ms"), "starter")
            + _bar_chart("SQL queries per request", queries, "", baseline.get("queries"), "starter")
            + "</div>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Kata comparison</title><style>{STYLE}</style></head><body>"
        "<h1>FastAPI Performance Kata: submissions compared</h1>"
        f'<p class="small">{len(rows)} submissions. Modeled (virtual) time, identical on every machine. '
        f"Hidden seed {seed}. Each cell: status, points, improvement over the starter (modeled total), queries, "
        "total, bytes, and the first failing check with its reason (hover for all of it).</p>"
        + _grades(rows, exercises)
        + "<h2>The class</h2>"
        + _class_charts(rows, exercises)
        + "".join(sections)
        + "</body></html>"
    )
