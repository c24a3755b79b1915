"""No forgery earns more than the plain starter when course staff grade a class of them (`kata grade`).

Every forgery of ``tests/forgery.py`` and ``tests/forgeries/`` is one student of the class. In
`make test-platforms`: thirty isolated gradings take two minutes of both cores.
"""

from __future__ import annotations

import json

import forgery
from conftest import run_kata
from test_forgery import FORGERIES, SECRET, _digests


def test_kata_grade_gives_a_class_of_forgeries_no_more_than_the_starter(tmp_path):
    roster = tmp_path / "class"
    for name in forgery.ATTACKS:
        forgery.build(name, roster / name)
    for app in FORGERIES:
        (roster / app.stem / forgery.EXERCISE.name).mkdir(parents=True)
        (roster / app.stem / forgery.EXERCISE.name / "app.py").write_text(app.read_text())
    (roster / "plain" / forgery.EXERCISE.name).mkdir(parents=True)
    (roster / "plain" / forgery.EXERCISE.name / "app.py").write_text((forgery.EXERCISE.folder / "app.py").read_text())
    before = _digests()
    proc = run_kata(
        "grade", str(roster), "--out", str(tmp_path / "results"), "-e", "01", "--jobs", "2", timeout=600, env=SECRET
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _digests() == before
    graded = json.loads((tmp_path / "results" / "class.json").read_text())
    scores = {entry["name"]: entry["score"] for entry in graded["students"]}
    assert set(scores) == {*forgery.ATTACKS, *(app.stem for app in FORGERIES), "plain"}, scores
    beaten = {name: score for name, score in scores.items() if score > scores["plain"]}
    assert not beaten, f"these forgeries score more than the starter's {scores['plain']}: {beaten}"
    assert len(FORGERIES) >= 20
