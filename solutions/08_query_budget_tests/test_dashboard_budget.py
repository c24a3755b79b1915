"""Query budget tests for the dashboard: they fail if the N+1 comes back.

Counting happens here, in the test's own scope, around one request:
``assert_max_queries`` lists the queries by shape, with the line of app.py
that ran them, when the budget is exceeded.
"""

DASHBOARD = "/organizations/1/dashboard"


def test_dashboard_stays_within_its_query_budget(kata_client, assert_max_queries):
    with assert_max_queries(4):
        response = kata_client.get(DASHBOARD)
    assert response.status_code == 200
    assert response.json()["projects"], "the budget only means something if the dashboard has data"


def test_dashboard_query_count_does_not_grow_with_the_data(kata_constant_queries):
    counts = kata_constant_queries(DASHBOARD, scales=("5x4", "50x20"))
    assert set(counts.values()) == {4}


def test_an_unknown_organization_is_a_404(kata_client):
    assert kata_client.get("/organizations/999/dashboard").status_code == 404
