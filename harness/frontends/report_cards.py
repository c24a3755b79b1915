"""`kata report NN`: optimization cards from two load runs, the pristine starter's and yours (markdown, HTML).

Both runs use the exercise's scenario with the same users, seed and modeled
duration, each app in an app host of its own.
"""

from __future__ import annotations

import tempfile
from html import escape
from pathlib import Path

from harness import catalog
from harness.catalog import Exercise
from harness.engine.cards import TOTAL, Card, Comparison, Figures, cards, diff_lines, figures, recorded
from harness.frontends import loading, starters
from harness.world.load import LoadOptions


def starter_figures(exercise: Exercise, options: LoadOptions, scale: str) -> dict[str, Figures]:
    """The pristine starter under this load: as exercise.toml records it when the load is the exercise's own
    (``[baseline.load]``, re-measured by the kata's tests), else measured now."""
    table = exercise.spec.baseline.get("load")
    if table is not None and options == loading.default_options(exercise) and scale == loading.default_scale(exercise):
        return recorded(table)
    return measure_starter(exercise, options, scale)


def measure_starter(exercise: Exercise, options: LoadOptions, scale: str) -> dict[str, Figures]:
    """The pristine starter under this load, measured now (in an app host, with the exercise's scenario)."""
    scenario, trusted = loading.scenario_file(exercise, catalog.CATALOG_DIR, None)
    starter = Path(tempfile.mkdtemp(prefix="kata-starter-")) / "app.py"
    starter.write_bytes(starters.pristine(exercise))
    return figures(loading.run(exercise, starter, options, scale, scenario, trusted))


def compare(
    exercise: Exercise, submission_app: Path, options: LoadOptions, scale: str
) -> tuple[Comparison, list[Card]]:
    """The starter and the submission under the same load; their cards."""
    scenario, trusted = loading.scenario_file(exercise, submission_app.parent.parent, None)
    before = starter_figures(exercise, options, scale)
    after = figures(loading.run(exercise, submission_app, options, scale, scenario, trusted))
    diff = diff_lines(starters.pristine(exercise).decode(), submission_app.read_text())
    comparison = Comparison(before, after, diff, options)
    return comparison, cards(comparison)


_STYLE = """
body { font: 14px/1.5 system-ui, sans-serif; margin: 1.5rem; color: #222; max-width: 900px; }
h1 { font-size: 1.35rem; } .card { border: 2px solid #333; border-radius: 6px; padding: .8rem 1rem; margin: 1rem 0; }
.card h2 { font-size: 1.05rem; margin: 0 0 .5rem; } pre { background: #f6f6f6; padding: .4rem; overflow-x: auto; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: .25rem .6rem; text-align: right; }
.impact { font-weight: 600; color: #2e7d32; } .small { color: #666; font-size: 12px; }
"""


def html(comparison: Comparison, found: list[Card], title: str) -> str:
    rows = []
    for label, side in (("before (starter)", comparison.before), ("after (yours)", comparison.after)):
        total = side[TOTAL]
        rows.append(
            f"<tr><th>{label}</th><td>{total.requests}</td><td>{total.failures}</td>"
            f"<td>{total.p50_ms:.0f}</td><td>{total.p95_ms:.0f}</td><td>{total.p99_ms:.0f}</td></tr>"
        )
    blocks = []
    for number, card in enumerate(found, start=1):
        fix = escape("\n".join(card.fix) or "(no changed lines of that kind)")
        blocks.append(
            f'<div class="card"><h2>OPTIMIZATION #{number}: {escape(card.title)}</h2>'
            f"<p><b>Problem:</b> {escape(card.problem)}</p><p><b>Fix</b> (from your diff):</p><pre>{fix}</pre>"
            f"<p><b>Before:</b> p95={card.before['p95_ms']:.0f}ms, {card.before['failures']:.0f} failures/"
            f"{card.before['requests']:.0f} requests, {card.before['queries']:g} queries/request<br>"
            f"<b>After:</b> p95={card.after['p95_ms']:.0f}ms, {card.after['failures']:.0f} failures/"
            f"{card.after['requests']:.0f} requests, {card.after['queries']:g} queries/request</p>"
            f'<p class="impact">Impact: {escape(card.impact)}</p></div>'
        )
    options = comparison.options or LoadOptions()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{_STYLE}</style></head>
<body><h1>{escape(title)}</h1>
<p class="small">Both runs: {options.users} users, {options.duration:g} modeled seconds, seed {options.seed}, the same
scenario. Modeled time: the same numbers on every machine.</p>
<table><tr><th></th><th>requests</th><th>failures</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th></tr>
{"".join(rows)}</table>
{"".join(blocks) or "<p>No measured improvement yet.</p>"}
</body></html>
"""
