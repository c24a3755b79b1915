"""Measure the pristine starter under its exercise's load and print the `[baseline.load]` tables of exercise.toml.

.venv/bin/python scripts/record_load_baseline.py NN

`kata report NN` and the optimization cards compare a submission with these figures instead of running the
starter again (minutes for the capstone); tests/test_load_baseline.py re-measures them.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import catalog  # noqa: E402
from harness.engine.cards import to_record  # noqa: E402
from harness.frontends import loading  # noqa: E402
from harness.frontends.report_cards import measure_starter  # noqa: E402


def measure(number: str) -> dict[str, dict[str, object]]:
    exercise = catalog.find(number)
    options, scale = loading.default_options(exercise), loading.default_scale(exercise)
    return to_record(measure_starter(exercise, options, scale))


def toml(record: dict[str, dict[str, object]]) -> str:
    lines = []
    for name, row in record.items():
        lines.append(f'[baseline.load."{name}"]')
        for key, value in row.items():
            if isinstance(value, dict):
                inner = ", ".join(f'"{k}" = {v}' for k, v in value.items())
                lines.append(f"{key} = {{ {inner} }}")
            else:
                lines.append(f"{key} = {value}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(toml(measure(sys.argv[1])))
