"""assert_max_queries / assert_constant_queries: they fail on the N+1 and say where."""

import pytest

from harness import catalog
from harness.apphost import loader
from harness.query_budget import assert_constant_queries, assert_max_queries
from harness.world import clock
from harness.world.world import World

STARTER = catalog.find("01").app_file(catalog.CATALOG_DIR)
SOLUTION = catalog.find("01").app_file(catalog.SOLUTIONS_DIR)
PATH = "/organizations/1/dashboard"


def within_budget(app_file, budget):
    async def main():
        async with World(scale="10x8") as world:
            async with world.serve(loader.load_app(app_file)) as client:
                with assert_max_queries(budget) as log:
                    await client.get(PATH)
                return len(log)

    return clock.run(main())


def test_max_queries_passes_within_budget_and_counts():
    assert within_budget(SOLUTION, 4) == 4


def test_max_queries_fails_listing_the_repeated_query_and_its_line():
    with pytest.raises(AssertionError) as failure:
        within_budget(STARTER, 4)
    message = str(failure.value)
    assert message.startswith("92 queries (budget 4); repeated 80x: SELECT users WHERE users.id = ? from app.py:39")
    assert "80x SELECT users WHERE users.id = ?  (app.py:39)" in message and "... and 72 more" in message


def test_constant_queries_passes_on_the_fix_and_fails_on_the_n_plus_one():
    fixed = loader.load_app(SOLUTION)
    assert clock.run(assert_constant_queries(fixed, PATH)) == {"5x4": 4, "50x20": 4}
    with pytest.raises(AssertionError, match=r"27 at 5x4, 1052 at 50x20: the count grows with the data"):
        clock.run(assert_constant_queries(loader.load_app(STARTER), PATH))


def test_fixtures_are_offered_to_any_test(assert_max_queries, assert_constant_queries):
    assert callable(assert_max_queries) and callable(assert_constant_queries)
