"""The starters' recorded load runs (`[baseline.load]`, what `kata report` and the optimization cards compare
with) are what the pristine starters do under their exercise's load today."""

import sys
from pathlib import Path

import pytest

from harness import catalog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from record_load_baseline import measure  # noqa: E402

RECORDED = [e for e in catalog.exercises() if "load" in e.spec.baseline]


def test_an_exercise_records_its_starter_under_load():
    assert [e.number for e in RECORDED] == ["14"]


@pytest.mark.parametrize("exercise", RECORDED, ids=lambda e: e.name)
def test_the_recorded_load_run_matches_the_pristine_starter(exercise):
    from harness.engine.cards import recorded, to_record

    assert to_record(recorded(exercise.spec.baseline["load"])) == measure(exercise.number)
