"""Tests for the dashboard. Your job: make them fail if the N+1 ever comes back.

Run them:  .venv/bin/pytest exercises/08_query_budget_tests
Grade:     kata check 08   (runs these tests against the fixed app and against broken versions of it)

The fixtures ``kata_client`` (a client into app.py, in a simulated world,
on the virtual clock), ``assert_max_queries`` and ``kata_constant_queries``
come from the kata's pytest plugin; see this exercise's README.
"""

DASHBOARD = "/organizations/1/dashboard"


def test_dashboard_answers(kata_client):
    response = kata_client.get(DASHBOARD)
    assert response.status_code == 200
