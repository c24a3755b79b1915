"""Corpus cases of exercise 08: tests that let the N+1 back in, or that fail on good code."""

from corpus import Case

CASES = {
    "08_asserts_nothing": Case(
        "08",
        "solutions",
        [
            (
                "    with assert_max_queries(4):\n        response = kata_client.get(DASHBOARD)\n"
                "    assert response.status_code == 200\n"
                '    assert response.json()["projects"], "the budget only means something if the dashboard has data"\n',
                "    assert True\n",
            ),
            (
                '    counts = kata_constant_queries(DASHBOARD, scales=("5x4", "50x20"))\n'
                "    assert set(counts.values()) == {4}\n",
                "    pass\n",
            ),
        ],
        {"fails_on_n_plus_one", "fails_on_hidden_mutants"},
        "they do not pin the query budget",
        "tests that cannot fail",
    ),
    "08_budget_too_tight": Case(
        "08",
        "solutions",
        [("assert_max_queries(4)", "assert_max_queries(2)")],
        {"passes_on_fixed"},
        "your tests fail on the app as shipped",
        "a budget the correct app cannot meet",
    ),
    "08_only_constant_counts": Case(
        "08",
        "solutions",
        [
            (
                "    with assert_max_queries(4):\n        response = kata_client.get(DASHBOARD)\n"
                "    assert response.status_code == 200\n"
                '    assert response.json()["projects"], "the budget only means something if the dashboard has data"\n',
                "    pass\n",
            ),
            ('    assert kata_client.get("/organizations/999/dashboard").status_code == 404\n', "    pass\n"),
            ("    assert set(counts.values()) == {4}\n", "    assert len(set(counts.values())) == 1\n"),
        ],
        {"fails_on_hidden_mutants"},
        "forgets to load the assignees",
        "constant counts but no status check: an app that fails early looks constant too",
    ),
}
