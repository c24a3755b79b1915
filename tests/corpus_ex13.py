"""Submissions of exercise 13 (locust scenario), as edits of the solution's locustfile."""

from corpus import Case

MEMBER_LOGIN = (
    '        self.headers = {"Authorization": f"Bearer {response.json()[\'access_token\']}"}\n\n    @task(5)\n'
)
VIEW_TASK = '        self.client.get(f"/tasks/{task_id}", headers=self.headers, name="/tasks/{id}")\n'

CASES = {
    "13_client_headers": Case(
        "13",
        "solutions",
        [
            (
                MEMBER_LOGIN,
                '        self.client.headers["Authorization"] = f"Bearer {response.json()[\'access_token\']}"\n'
                "        self.headers = {}\n\n"
                "    @task(5)\n",
            )
        ],
        set(),
        why="the token on the session (self.client.headers) instead of on each request: a correct choice",
        file="locustfile.py",
    ),
    "13_wait_as_lambda": Case(
        "13",
        "solutions",
        [("    wait_time = between(2, 5)\n", "    wait_time = lambda self: random.uniform(2, 5)  # noqa: E731\n")],
        set(),
        why="a wait time written by hand, in the same range: Locust calls any wait_time(self)",
        file="locustfile.py",
    ),
    "13_ids_by_choice": Case(
        "13",
        "solutions",
        [("        task_id = random.randint(1, 98)\n", "        task_id = random.choice(range(1, 99))\n")],
        set(),
        why="ids drawn another way, within the data",
        file="locustfile.py",
    ),
    "13_login_per_task": Case(
        "13",
        "solutions",
        [
            (
                VIEW_TASK,
                '        token = self.client.post("/auth/login", json={"email": "member1@example.com", '
                '"password": "testpass123"}).json()["access_token"]\n'
                '        self.client.get(f"/tasks/{task_id}", headers={"Authorization": f"Bearer {token}"}, '
                'name="/tasks/{id}")\n',
            )
        ],
        {"one_login_per_user", "think_time"},
        "the scenario's users log in once each",
        "a fresh login inside a task: every task pays for a login",
        file="locustfile.py",
    ),
    "13_no_think_time": Case(
        "13",
        "solutions",
        [("    wait_time = between(2, 5)\n", "")],
        {"think_time", "one_login_per_user"},
        "your users never pause",
        "members without a wait_time: Locust's default is no pause at all",
        file="locustfile.py",
    ),
    "13_ids_in_names": Case(
        "13",
        "solutions",
        [(VIEW_TASK, '        self.client.get(f"/tasks/{task_id}", headers=self.headers)\n')],
        {"grouped_names"},
        "has an id in it",
        "no name=: one stats line per task id",
        file="locustfile.py",
    ),
    "13_equal_user_weights": Case(
        "13",
        "solutions",
        [("    weight = 4\n", "    weight = 1\n")],
        {"user_mix"},
        "expected 80% members",
        "members and admins in equal numbers",
        file="locustfile.py",
    ),
    "13_task_weights_ignored": Case(
        "13",
        "solutions",
        [("    @task(5)\n", "    @task\n"), ("    @task(3)\n    def view_task", "    @task\n    def view_task")],
        {"task_mix"},
        "requests went to /projects/{id}/tasks",
        "the members' tasks picked half and half",
        file="locustfile.py",
    ),
    "13_ids_outside_the_data": Case(
        "13",
        "solutions",
        [("        task_id = random.randint(1, 98)\n", "        task_id = random.randint(1, 200)\n")],
        {"no_failures"},
        "HTTP 404",
        "task ids past the seeded data: half the detail requests are 404s",
        file="locustfile.py",
    ),
    "13_same_task_every_time": Case(
        "13",
        "solutions",
        [("        task_id = random.randint(1, 98)\n", "        task_id = 7\n")],
        {"varied_data"},
        "read only one task id each",
        "one row over and over: every read is a cache hit in a real system",
        file="locustfile.py",
    ),
    "13_two_requests_per_task": Case(
        "13",
        "solutions",
        [
            (
                VIEW_TASK,
                VIEW_TASK + '        self.client.get(f"/projects/{random.randint(1, 17)}/tasks", '
                'headers=self.headers, name="/projects/{id}/tasks")\n',
            )
        ],
        {"think_time", "task_mix"},
        "pauses between an answer and the next request",
        "a task with two requests: the second goes out the moment the first is answered",
        file="locustfile.py",
    ),
}

CASES["13_only_runs_in_the_kata"] = Case(
    "13",
    "solutions",
    [
        (
            '        email = f"member{random.randint(1, 50)}@example.com"\n',
            '        email = f"member{self.kata_random.randint(1, 50)}@example.com"  # the kata runner\'s own\n',
        ),
        (
            '        response = self.client.post("/auth/login", json={"email": "admin@example.com", '
            '"password": "adminpass123"})\n',
            "        self.kata_random.random()\n"
            '        response = self.client.post("/auth/login", json={"email": "admin@example.com", '
            '"password": "adminpass123"})\n',
        ),
    ],
    {"real_locust"},
    "answered no request",
    "leans on an attribute of the kata's runner that real Locust's users do not have: every user fails on_start "
    "in Locust",
    file="locustfile.py",
)
