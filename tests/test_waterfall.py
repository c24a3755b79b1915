"""The waterfall of `kata profile`: merged rows say what they hold, durations are never cut."""

import io

from rich.console import Console

from harness import catalog
from harness.frontends import waterfall
from harness.frontends.profiling import profile


def _text(metrics, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(waterfall.render(metrics, width))
    return console.export_text()


def test_merged_rows_name_every_shape_they_hold():
    exercise = catalog.find("01")
    result = profile(exercise, exercise.app_file(catalog.resolve_target("exercises")), "50x20")
    rows = waterfall.rows_of(result.metrics)
    assert len(rows) <= waterfall.MAX_ROWS
    db_rows = [row for row in rows if row.kind == "db"]
    assert sum(row.count for row in db_rows) == len(result.metrics.queries) == 1052
    mixed = [row for row in db_rows if len(row.shapes) > 1]
    assert mixed, "at 50x20 the staircase needs rows that hold several shapes"
    for row in mixed:
        title = row.title()
        for shape, n in row.shapes.items():
            table = shape.split()[1]
            assert f"{table} ×{n}" in title, (title, row.shapes)
    text = _text(result.metrics, 200)
    assert "SELECT users ×40, tasks ×1" in text


def test_a_long_duration_is_shown_whole():
    exercise = catalog.find("03")
    result = profile(exercise, exercise.app_file(catalog.resolve_target("exercises")), faults={"weather": "hang"})
    cancelled = next(c for c in result.metrics.calls if c.outcome == "cancelled")
    duration = f"{(cancelled.end - cancelled.start) * 1000:,.1f}"
    assert len(duration) > 7  # e.g. 119,715.0: wider than the column used to be
    for width in (80, 120):
        text = _text(result.metrics, width)
        assert duration in text
        assert all(len(line.rstrip()) <= width for line in text.splitlines())
