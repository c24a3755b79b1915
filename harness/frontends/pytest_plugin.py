"""pytest plugin: options of the grading suite, and query-budget fixtures.

`--kata-target`, `--kata-seed` and `--kata-time-limit` for `pytest grading/`;
the fixtures `assert_max_queries` and `assert_constant_queries` for anyone's
tests (see harness/query_budget.py).

Registered through the ``pytest11`` entry point, so plain ``pytest grading/``
works from anywhere the kata is installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness import catalog

if TYPE_CHECKING:  # the grading engine is imported where it is used: students' test processes never need it
    from harness.engine import checks


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kata", "FastAPI Performance Kata")
    group.addoption(
        "--kata-target",
        default="exercises",
        metavar="DIR",
        help="submission tree to grade, holding NN_slug/app.py (default: exercises; or solutions, or any path)",
    )
    group.addoption(
        "--kata-seed",
        type=int,
        default=None,
        metavar="N",
        help="seed of the hidden dataset for correctness checks (default: KATA_HIDDEN_SEED or the built-in one)",
    )
    group.addoption(
        "--kata-time-limit",
        type=float,
        default=60.0,
        metavar="S",
        help="real seconds one exercise's grading process may take (default: 60)",
    )


@pytest.fixture(scope="session")
def kata_target(request: pytest.FixtureRequest) -> Path:
    """The folder holding NN_slug/: found in a repository, its exercises/, or one folder deeper, as `kata grade`
    finds it."""
    from harness.engine import submissions

    try:
        return submissions.locate(catalog.resolve_target(request.config.getoption("kata_target")))
    except catalog.KataError as error:
        raise pytest.UsageError(f"--kata-target: {error}") from None


@pytest.fixture(scope="session")
def kata_report(request: pytest.FixtureRequest, kata_target: Path) -> Callable[[str], checks.Report]:
    """Grade an exercise once per session, in its own supervised process; every check's test reads the report."""
    from harness.engine import checks, isolation

    reports: dict[str, checks.Report] = {}
    seed = request.config.getoption("kata_seed")
    seed = seed if seed is not None else checks.hidden_seed_from_env()
    limits = isolation.Limits(wall_seconds=request.config.getoption("kata_time_limit"))

    def report(name: str) -> checks.Report:
        if name not in reports:
            reports[name] = isolation.grade_isolated(catalog.find(name), kata_target, seed, limits)
        return reports[name]

    return report


@pytest.fixture
def assert_max_queries():  # type: ignore[no-untyped-def]
    """``with assert_max_queries(4): ...`` fails listing the queries when the block runs more."""
    from harness.query_budget import assert_max_queries as context

    return context


@pytest.fixture
def assert_constant_queries():  # type: ignore[no-untyped-def]
    """``await assert_constant_queries(app, path, scales=("5x4", "50x20"))`` fails when the count grows."""
    from harness.query_budget import assert_constant_queries as check

    return check


@pytest.fixture
def kata_app_file(request: pytest.FixtureRequest) -> Path:
    """The app under test: ``KATA_APP_UNDER_TEST`` (set by the grader), else app.py beside the test file,
    else the app of the kata's exercise folder of the same name (for solutions/)."""
    chosen = os.environ.get("KATA_APP_UNDER_TEST")
    if chosen:
        return Path(chosen)
    folder = Path(request.path).parent
    beside = folder / "app.py"
    return beside if beside.is_file() else catalog.CATALOG_DIR / folder.name / "app.py"


@pytest.fixture
def kata_client(kata_app_file: Path):  # type: ignore[no-untyped-def]
    """A sync client into the app under test, in a simulated world at scale 10x8, on the virtual clock."""
    from harness.frontends.testing import WorldClient

    client = WorldClient(kata_app_file)
    yield client
    client.close()


@pytest.fixture
def kata_constant_queries(kata_app_file: Path):  # type: ignore[no-untyped-def]
    """``kata_constant_queries(path, scales=("5x4", "50x20"))``: the app under test, one fresh world per scale."""
    from harness.apphost import loader
    from harness.query_budget import assert_constant_queries
    from harness.world import clock

    def check(path: str, scales: tuple[str, ...] = ("5x4", "50x20")) -> dict[str, int]:
        return clock.run(assert_constant_queries(loader.load_app(kata_app_file), path, scales))

    return check
