"""`kata compare --html`: one self-contained page (inline CSS and SVG, no network, no JavaScript)."""

from __future__ import annotations

from html import escape

from harness.catalog import Exercise
from harness.checks import profile_scale
from harness.compare import Cell

PASS, FAIL, MISSING = "#2e7d32", "#c62828", "#9e9e9e"
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ddd; padding: .35rem .6rem; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td.pass { background: #e8f5e9; } td.fail { background: #ffebee; } td.missing { color: #9e9e9e; }
.small { color: #666; font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 2rem; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: .3rem; }
"""


def _bar_chart(title: str, rows: list[tuple[str, float | None, str]], unit: str,
               reference: float | None = None, reference_label: str = "") -> str:
    """Horizontal bars: (label, value, colour); a dashed line marks the reference."""
    label_w, bar_w, row_h = 170, 360, 24
    values = [v for _, v, _ in rows if v is not None] + ([reference] if reference else [])
    top = max(values) if values else 1.0
    height = row_h * len(rows) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" height="{height}" '
             f'role="img" aria-label="{escape(title)}">']
    for i, (label, value, colour) in enumerate(rows):
        y = i * row_h + 4
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{label_w + 4}" y="{y + 15}" font-size="12" fill="{MISSING}">n/a</text>')
            continue
        width = max(1.0, bar_w * value / top) if top else 1.0
        parts.append(f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{row_h - 6}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + width + 4}" y="{y + 15}" font-size="12">{value:,.4g} {unit}</text>')
    if reference:
        x = label_w + bar_w * reference / top
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 22}" stroke="#555" '
                     f'stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" font-size="11" text-anchor="middle" fill="#555">'
                     f'{escape(reference_label)}</text>')
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(parts)}</figure>"


def _colour(cell: Cell) -> str:
    return {"pass": PASS, "fail": FAIL}.get(cell.status, MISSING)


def render(table: dict[str, dict[str, Cell]], exercises: list[Exercise], seed: int) -> str:
    head = "".join(f"<th>{escape(e.name)}</th>" for e in exercises)
    body = []
    for name, row in table.items():
        cells = []
        for exercise in exercises:
            cell = row[exercise.name]
            if cell.graded is None:
                cells.append('<td class="missing">missing</td>')
                continue
            m, g = cell.metrics, cell.graded
            ratio = f" · {cell.ratio:g}x" if cell.ratio is not None else ""
            detail = (f"{m.get('queries', '?')} q · {m.get('total_ms', 0):,.1f} ms · {m.get('response_bytes', 0):,} B"
                      if m else escape(cell.reason[:80]))
            cells.append(f'<td class="{cell.status}" title="{escape(cell.reason)}"><b>{cell.status}</b> '
                         f'{g.score:g}/{g.max_score:g}{ratio}<br><span class="small">{detail}</span></td>')
        body.append(f"<tr><td>{escape(name)}</td>{''.join(cells)}</tr>")
    sections = []
    for exercise in exercises:
        cells = [(name, row[exercise.name]) for name, row in table.items()]
        scale = profile_scale(exercise)
        baseline = exercise.meta.get("baseline", {}).get(scale, {})
        times = [(n, c.metrics.get("total_ms"), _colour(c)) for n, c in cells]
        queries = [(n, c.metrics.get("queries"), _colour(c)) for n, c in cells]
        sections.append(
            f"<h2>{escape(exercise.name)}: {escape(exercise.title)}</h2>"
            f'<p class="small">{escape(exercise.meta.get("endpoint", ""))} at scale {scale}; '
            "green: passes every check, red: fails one; dashed: the starter's recorded baseline.</p>"
            '<div class="charts">'
            + _bar_chart("Modeled total time per request", times, "ms", baseline.get("total_ms"), "starter")
            + _bar_chart("SQL queries per request", queries, "", baseline.get("queries"), "starter")
            + "</div>"
        )
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Kata comparison</title><style>{STYLE}</style></head><body>"
        "<h1>FastAPI Performance Kata: submissions compared</h1>"
        f'<p class="small">Modeled (virtual) time, identical on every machine. Hidden seed {seed}. '
        "Each cell: status, score, improvement over the starter (modeled total), queries, total, bytes.</p>"
        f"<table><tr><th>submission</th>{head}</tr>{''.join(body)}</table>"
        + "".join(sections)
        + "</body></html>"
    )
