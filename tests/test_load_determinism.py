"""A load run is the same in every run while every core is busy (a blocking endpoint and a pool held across
a partner call, 50 users). It takes half a minute: `make test-platforms`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from load import CpuLoad  # noqa: E402


def test_a_load_run_is_identical_across_runs_while_every_core_is_busy(hosts, tmp_path):
    """50 users for 30 modeled seconds on a blocking endpoint and a pool held across a partner call: every
    sample (when, how long, why it failed) is the same in each run."""
    from test_load import locustfile, run

    from harness.world.load import LoadOptions

    file = locustfile(
        tmp_path,
        """
        class Mixed(HttpUser):
            wait_time = between(0.5, 2)

            @task(3)
            def fast(self):
                self.client.get("/fast")

            @task(1)
            def blocking(self):
                self.client.get("/blocking")

            @task(1)
            def holds(self):
                self.client.get("/holds-connection")
        """,
    )
    with CpuLoad(seconds=120):
        runs = [run(hosts, file, LoadOptions(50, 10, 30)) for _ in range(2)]
    assert runs[0].samples == runs[1].samples
    assert any(s.failure == "pool timeout" for s in runs[0].samples)
