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

# The starter's one test, replaced whole by the cases below that write their tests from scratch.
STARTER_TEST = (
    "def test_dashboard_answers(kata_client):\n"
    "    response = kata_client.get(DASHBOARD)\n"
    "    assert response.status_code == 200\n"
)


def _tests(code: str) -> list[tuple[str, str]]:
    return [(STARTER_TEST, code)]


_WITHOUT_BUDGET = (
    "    with assert_max_queries(4):\n        response = kata_client.get(DASHBOARD)\n"
    "    assert response.status_code == 200\n"
)
_CONSTANT_TEST = (
    "def test_dashboard_query_count_does_not_grow_with_the_data(kata_constant_queries):\n"
    '    counts = kata_constant_queries(DASHBOARD, scales=("5x4", "50x20"))\n'
    "    assert set(counts.values()) == {4}\n"
)

CASES.update(
    {
        # Wrong: tests of the source text, not of the behaviour.
        "08_reads_source_for_the_option": Case(
            "08",
            "exercises",
            _tests(
                "def test_dashboard_answers(kata_client):\n"
                "    assert kata_client.get(DASHBOARD).status_code == 200\n\n\n"
                "def test_assignees_are_loaded_eagerly(kata_app_file):\n"
                '    assert ".selectinload(Task.assignee)" in kata_app_file.read_text()\n'
            ),
            {"passes_on_fixed", "fails_on_hidden_mutants"},
            "they test how app.py is written, not what it does",
            "a test of app.py's text: the same app written differently fails it, the eager option kept but not "
            "applied passes it",
        ),
        "08_reads_source_ast": Case(
            "08",
            "exercises",
            _tests(
                "import ast\n\n\n"
                "def _calls(tree, name):\n"
                "    return [\n"
                "        node\n"
                "        for node in ast.walk(tree)\n"
                "        if isinstance(node, ast.Call)\n"
                "        and getattr(node.func, 'attr', getattr(node.func, 'id', '')) == name\n"
                "    ]\n\n\n"
                "def test_the_route_uses_the_eager_loader(kata_client, kata_app_file):\n"
                "    assert kata_client.get(DASHBOARD).status_code == 200\n"
                "    tree = ast.parse(kata_app_file.read_text())\n"
                "    assert len(_calls(tree, 'load_projects_legacy')) == 1\n"
                "    eager = [ast.unparse(call.args[0]) for call in _calls(tree, 'selectinload')]\n"
                "    assert 'Task.assignee' in eager\n"
            ),
            {"passes_on_fixed", "fails_on_hidden_mutants"},
            "written differently (the same 4 queries and the same answers",
            "an AST check for the eager-load call: still a test of the text",
        ),
        "08_app_must_equal_the_shipped_one": Case(
            "08",
            "exercises",
            _tests(
                "from harness import catalog\n\n\n"
                "def test_app_is_the_shipped_one(kata_client, kata_app_file):\n"
                "    assert kata_client.get(DASHBOARD).status_code == 200\n"
                "    shipped = catalog.find('08').folder / 'app.py'\n"
                "    assert kata_app_file.read_text() == shipped.read_text()\n"
            ),
            {"passes_on_fixed"},
            "they test how app.py is written, not what it does",
            "a snapshot of app.py's text: catches every broken version, and fails the same app written differently",
        ),
        # Wrong: tests that do not pin the query count tightly enough.
        "08_response_only": Case(
            "08",
            "exercises",
            _tests(
                "def test_dashboard_matches_the_reference(kata_client):\n"
                "    response = kata_client.get(DASHBOARD)\n"
                "    assert response.status_code == 200\n"
                "    assert response.json()['projects']\n"
                "    assert response.json() == kata_client.get(DASHBOARD + '/legacy').json()\n\n\n"
                "def test_unknown_organization(kata_client):\n"
                "    assert kata_client.get('/organizations/999/dashboard').status_code == 404\n"
            ),
            {"fails_on_n_plus_one", "fails_on_hidden_mutants"},
            "they do not pin the query budget",
            "the response only: every N+1 version answers the same data",
        ),
        "08_loose_budget": Case(
            "08",
            "solutions",
            [("assert_max_queries(4)", "assert_max_queries(20)"), (_CONSTANT_TEST, "")],
            {"fails_on_hidden_mutants"},
            "one extra query per project",
            "a budget of 20 at 10x8: catches the full N+1 (92) and a per-task query (83), not a per-project one (14)",
        ),
        "08_fewer_than_legacy": Case(
            "08",
            "exercises",
            _tests(
                "def test_dashboard_beats_the_legacy_route(kata_client, assert_max_queries):\n"
                "    with assert_max_queries(10_000) as fixed:\n"
                "        response = kata_client.get(DASHBOARD)\n"
                "    with assert_max_queries(10_000) as legacy:\n"
                "        kata_client.get(DASHBOARD + '/legacy')\n"
                "    assert response.status_code == 200\n"
                "    assert len(fixed) < len(legacy)\n"
            ),
            {"fails_on_hidden_mutants"},
            "one query per task, and its source still contains the eager-load option",
            "fewer queries than the legacy route is not a budget: any N+1 a little smaller passes",
        ),
        # Correct tests written differently: they must pass everything.
        "08_own_event_listener": Case(
            "08",
            "exercises",
            _tests(
                "from sqlalchemy import event\n\n"
                "from harness import db\n\n"
                "QUERY_BUDGET = 4\n\n\n"
                "def test_dashboard_runs_four_statements(kata_client):\n"
                "    seen = []\n\n"
                "    def remember(conn, cursor, statement, parameters, context, executemany):\n"
                "        seen.append(statement)\n\n"
                "    engine = db.engine().sync_engine\n"
                "    event.listen(engine, 'after_cursor_execute', remember)\n"
                "    try:\n"
                "        response = kata_client.get(DASHBOARD)\n"
                "    finally:\n"
                "        event.remove(engine, 'after_cursor_execute', remember)\n"
                "    assert response.status_code == 200\n"
                "    assert all(project['tasks'] for project in response.json()['projects'])\n"
                "    assert len(seen) == QUERY_BUDGET, seen\n"
            ),
            set(),
            why="counts with its own SQLAlchemy listener on the app's engine, an exact budget as a constant",
        ),
        "08_parametrised_scales": Case(
            "08",
            "exercises",
            _tests(
                "import pytest\n\n"
                "from harness.frontends.testing import WorldClient\n\n\n"
                "@pytest.mark.parametrize('scale', ['5x4', '10x8', '50x20'])\n"
                "def test_four_queries_at_every_scale(scale, kata_app_file, assert_max_queries):\n"
                "    client = WorldClient(kata_app_file, scale=scale)\n"
                "    try:\n"
                "        with assert_max_queries(5) as log:\n"
                "            response = client.get(DASHBOARD)\n"
                "    finally:\n"
                "        client.close()\n"
                "    assert response.status_code == 200, response.text\n"
                "    assert len(response.json()['projects']) == int(scale.split('x')[0])\n"
                "    assert len(log) >= 1\n"
            ),
            set(),
            why="parametrised over scales, its own worlds, a budget with one spare query",
        ),
        "08_compares_scales": Case(
            "08",
            "exercises",
            _tests(
                "from harness.frontends.testing import WorldClient\n"
                "from harness.query_budget import capture_queries\n\n\n"
                "def _count(app_file, scale):\n"
                "    client = WorldClient(app_file, scale=scale)\n"
                "    try:\n"
                "        with capture_queries(client.world.database.engine) as log:\n"
                "            response = client.get(DASHBOARD)\n"
                "    finally:\n"
                "        client.close()\n"
                "    assert response.status_code == 200\n"
                "    assert response.json()['projects']\n"
                "    return len(log)\n\n\n"
                "def test_the_count_does_not_grow_with_the_data(kata_app_file):\n"
                "    assert _count(kata_app_file, '5x4') == _count(kata_app_file, '50x20')\n"
            ),
            set(),
            why="no number at all: the same count at two scales, with the status and the data checked",
        ),
        "08_own_world_beside_the_test": Case(
            "08",
            "solutions",
            [
                (
                    'DASHBOARD = "/organizations/1/dashboard"\n',
                    "from pathlib import Path\n\nimport pytest\n\nfrom harness.db import engine\n"
                    "from harness.frontends.testing import WorldClient\n"
                    "from harness.query_budget import assert_max_queries as max_queries\n\n"
                    'DASHBOARD = "/organizations/1/dashboard"\nAPP = Path(__file__).with_name("app.py")\n\n\n'
                    '@pytest.fixture(params=["5x4", "50x20"])\n'
                    "def big_client(request):\n"
                    "    client = WorldClient(APP, scale=request.param)\n"
                    "    yield client\n"
                    "    client.close()\n\n\n"
                    "def test_budget_holds_at_every_scale(big_client):\n"
                    "    with max_queries(4, engine=engine()):\n"
                    "        response = big_client.get(DASHBOARD)\n"
                    "    assert response.status_code == 200\n"
                    '    assert response.json()["projects"]\n',
                )
            ],
            set(),
            why="its own worlds, with the app found beside the test file as in the exercise's folder: passes",
        ),
        "08_limits_two_tables_only": Case(
            "08",
            "solutions",
            [
                (
                    "    with assert_max_queries(4):\n        response = kata_client.get(DASHBOARD)\n",
                    "    from sqlalchemy import event\n\n    from harness.db import engine\n\n"
                    "    seen = []\n\n"
                    "    def count(conn, cursor, statement, *args):\n"
                    "        seen.append(statement)\n\n"
                    '    event.listen(engine().sync_engine, "before_cursor_execute", count)\n'
                    "    response = kata_client.get(DASHBOARD)\n"
                    '    event.remove(engine().sync_engine, "before_cursor_execute", count)\n'
                    '    assert sum("FROM tasks" in s for s in seen) <= 1\n'
                    '    assert sum("FROM users" in s for s in seen) <= 1\n',
                ),
                (
                    '    counts = kata_constant_queries(DASHBOARD, scales=("5x4", "50x20"))\n'
                    "    assert set(counts.values()) == {4}\n",
                    "    pass\n",
                ),
            ],
            {"fails_on_hidden_mutants"},
            "your tests pass against 1 of 3 broken",
            "only the tasks and users statements are limited: a query per project on another table gets through",
        ),
    }
)
