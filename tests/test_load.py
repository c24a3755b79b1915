"""The load runner: users on the virtual clock, queueing from real mechanisms, exact statistics."""

import random
import textwrap
from pathlib import Path

import pytest

from harness.frontends import load_report
from harness.frontends.locust_real import bucket, bucket_percentile
from harness.world import clock
from harness.world.load import LoadOptions, assign_classes, run_load
from harness.world.loadstats import PERCENTILES, entries, failures_by_cause, percentile, summary, total
from harness.world.locustfile import LocustfileError
from harness.world.locustfile import load as load_locustfile
from harness.world.swarm import run_hosted_load
from harness.world.world import World

APP = Path(__file__).with_name("load_app.py")


def locustfile(tmp_path: Path, body: str, name: str = "locustfile.py") -> Path:
    path = tmp_path / name
    path.write_text("from locust import HttpUser, between, constant, task\n\n" + textwrap.dedent(body))
    return path


def one_endpoint(tmp_path: Path, path: str, wait: str = "between(1, 3)", name: str = "users.py") -> Path:
    return locustfile(
        tmp_path,
        f"""
        class Visitor(HttpUser):
            wait_time = {wait}

            @task
            def visit(self):
                self.client.get("{path}")
        """,
        name,
    )


def run(hosts, file: Path, options: LoadOptions, hosted: bool = False, configure=None, **world):
    async def main():
        async with World(**world) as w:
            if configure:
                configure(w)
            async with w.serve_hosted(hosts, APP) as client:
                if hosted:
                    return await run_hosted_load(w, hosts, file, client, options)
                return await run_load(client, load_locustfile(file), options)

    return clock.run(main())


# --- statistics --------------------------------------------------------------------


def test_exact_percentiles_never_exceed_the_max_where_locusts_buckets_do():
    rng = random.Random(7)
    exceeded = 0
    for _ in range(300):
        times = sorted(rng.uniform(5, 3000) for _ in range(rng.randint(1, 60)))
        for p in PERCENTILES:
            assert percentile(times, p) <= times[-1]
            assert percentile(times, p) in times  # one of the measured times, not an interpolation
        buckets: dict[int, int] = {}
        for t in times:
            buckets[bucket(t)] = buckets.get(bucket(t), 0) + 1
        exceeded += bucket_percentile(buckets, len(times), 0.99) > times[-1]
    assert exceeded > 0  # Locust's rounding does put its p99 above the max (its issues #331, #777, #1563)


def test_nearest_rank_percentiles():
    times = [float(t) for t in range(1, 101)]
    assert [percentile(times, p) for p in (0.5, 0.95, 0.99, 1.0)] == [50.0, 95.0, 99.0, 100.0]
    assert percentile([], 0.95) == 0.0


def test_users_are_split_by_weight_in_a_fixed_order(tmp_path):
    scenario = load_locustfile(
        locustfile(
            tmp_path,
            """
            class Member(HttpUser):
                weight = 4
                @task
                def a(self):
                    pass

            class Admin(HttpUser):
                weight = 1
                @task
                def b(self):
                    pass
            """,
        )
    )
    order = [u.name for u in assign_classes(scenario.users, 10)]
    assert order.count("Member") == 8 and order.count("Admin") == 2
    assert order[:5].count("Admin") == 1  # interleaved: any prefix is near the mix


def test_a_locustfile_without_users_says_so(tmp_path):
    with pytest.raises(LocustfileError, match="no user class"):
        load_locustfile(locustfile(tmp_path, "X = 1\n"))
    with pytest.raises(LocustfileError, match="no tasks"):
        load_locustfile(locustfile(tmp_path, "class U(HttpUser):\n    pass\n"))


# --- the closed model, and what it hides ------------------------------------------------


def test_a_closed_model_run_is_the_same_every_time_and_as_locust_reports_it(hosts, tmp_path):
    file = locustfile(
        tmp_path,
        """
        class Reader(HttpUser):
            wait_time = between(1, 3)

            def on_start(self):
                self.client.headers["Authorization"] = "Bearer reader"

            @task(3)
            def read_task(self):
                import random
                self.client.get(f"/tasks/{random.randint(1, 98)}", name="/tasks/{id}")

            @task(1)
            def fast(self):
                with self.client.get("/fast", catch_response=True) as response:
                    if "name" not in response.json():
                        response.failure("no name")
        """,
    )
    options = LoadOptions(users=10, spawn_rate=5, duration=20)
    first, second = (run(hosts, file, options) for _ in range(2))
    assert first.samples == second.samples
    assert {e.name for e in entries(first)} == {"/tasks/{id}", "/fast"}
    names = [s.name for s in first.samples]
    assert 2.2 < names.count("/tasks/{id}") / names.count("/fast") < 4  # weights 3:1
    assert all(s.authorization == "Bearer reader" for s in first.samples)
    assert first.logins == 10 and not first.errors
    data = summary(first, "test")
    assert set(data) >= {"exercise", "model", "users", "duration_s", "total", "entries", "failures_by_cause"}
    assert set(data["total"]) == {"requests", "failures", "rps", "p50_ms", "p95_ms", "p99_ms", "max_ms"}
    assert data["total"]["requests"] == len(first.samples) and data["total"]["p99_ms"] <= data["total"]["max_ms"]


def test_a_locustfile_that_is_a_submission_runs_in_its_own_host_with_the_same_requests(hosts, tmp_path):
    file = one_endpoint(tmp_path, "/fast")
    options = LoadOptions(users=5, spawn_rate=5, duration=10)
    in_world = run(hosts, file, options)
    hosted = run(hosts, file, options, hosted=True)
    assert [(s.time, s.path, s.response_ms) for s in hosted.samples] == [
        (s.time, s.path, s.response_ms) for s in in_world.samples
    ]


def test_a_blocked_loop_holds_every_user_and_the_open_model_shows_what_the_closed_one_hides(hosts, tmp_path):
    file = locustfile(
        tmp_path,
        """
        class Mixed(HttpUser):
            wait_time = between(0.5, 1.5)

            @task(1)
            def blocking(self):
                self.client.get("/blocking")

            @task(3)
            def fast(self):
                self.client.get("/fast")
        """,
    )
    closed = run(hosts, file, LoadOptions(users=20, spawn_rate=20, duration=20))
    fast = next(e for e in entries(closed) if e.name == "/fast")
    assert fast.percentiles[0.95] > 100  # 5 ms of work, held behind 200 ms blocks of another endpoint
    opened = run(hosts, file, LoadOptions(users=0, duration=20, rate=20.0))
    assert len(opened.samples) == 400  # arrivals keep coming whatever the app does
    assert total(opened).percentiles[0.95] > 2 * total(closed).percentiles[0.95]  # the queue the closed run hid


# --- queueing from the real mechanisms --------------------------------------------------


def test_a_pool_held_across_a_partner_call_times_out_under_load(hosts, tmp_path):
    run_ = run(hosts, one_endpoint(tmp_path, "/holds-connection", "constant(0.2)"), LoadOptions(10, 10, 10))
    causes = failures_by_cause(run_.samples)
    assert causes.get("pool timeout", 0) > 0, causes  # pool_size=2, timeout 0.5 s, 10 users: SQLAlchemy's own pool


def test_the_database_refuses_connections_past_its_limit(hosts, tmp_path):
    file = locustfile(
        tmp_path,
        """
        class Crowd(HttpUser):
            wait_time = constant(0.1)

            @task
            def hold(self):
                self.client.get("/holds-connection")
        """,
    )
    run_ = run(hosts, file, LoadOptions(6, 6, 5), max_connections=1)
    assert "database refused a connection" in failures_by_cause(run_.samples)


def test_a_partner_at_its_capacity_makes_calls_wait(hosts, tmp_path):
    file = one_endpoint(tmp_path, "/billing", "constant(0)")
    free = run(hosts, file, LoadOptions(4, 4, 3))
    limited = run(hosts, file, LoadOptions(4, 4, 3), configure=lambda w: w.services["billing"].limit(1))
    assert total(free).percentiles[0.95] < 200 < total(limited).percentiles[0.95]


# --- Locust's formats -------------------------------------------------------------------


def test_csv_and_html_files(hosts, tmp_path):
    run_ = run(hosts, one_endpoint(tmp_path, "/fast"), LoadOptions(5, 5, 10))
    files = load_report.write_csv(run_, tmp_path / "out" / "run")
    parts = ["stats", "stats_history", "failures", "exceptions"]
    assert [f.name for f in files] == [f"run_{part}.csv" for part in parts]
    stats = files[0].read_text().splitlines()
    assert stats[0].split(",") == load_report.STATS_COLUMNS and stats[-1].startswith(",Aggregated,")
    assert len(files[1].read_text().splitlines()) == 11  # a header and one line per modeled second
    page = load_report.write_html(run_, tmp_path / "run.html", "test").read_text()
    assert page.count("<svg") == 4 and "Latency over time" in page
    table = "\n".join(load_report.stats_table(run_))
    assert "Aggregated" in table and "req/s" in table
