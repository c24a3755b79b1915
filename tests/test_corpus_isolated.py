"""The whole submission corpus through `kata grade`'s isolation: zero false passes on the real path.

Each case in its own supervised world process, two at a time; one test per exercise, so
parallel test workers share the load. The endless loops get 8 s of real time, the rest 60 s.
It takes minutes, so it runs in `make test-platforms` (CI runs it); `make test` grades every
case in process (tests/test_meta.py), with the app in app hosts as here.
"""

from concurrent.futures import ThreadPoolExecutor

import corpus
import pytest
from corpus import assert_verdict

from harness import catalog
from harness.engine import checks, isolation


@pytest.mark.parametrize("exercise", sorted({case.exercise for case in corpus.CASES.values()}))
def test_submission_corpus_isolated(exercise, tmp_path):
    def grade(name: str) -> tuple[str, checks.Report]:
        case = corpus.CASES[name]
        tree = corpus.build(name, tmp_path / name)
        limits = isolation.Limits(wall_seconds=8 if case.isolated_only else 60)
        return name, isolation.grade_isolated(catalog.find(case.exercise), tree, checks.DEFAULT_HIDDEN_SEED, limits)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for name, report in pool.map(grade, sorted(n for n, c in corpus.CASES.items() if c.exercise == exercise)):
            assert_verdict(name, report)
