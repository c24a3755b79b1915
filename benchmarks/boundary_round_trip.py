"""Real time per SQL statement: the app in the world's process vs. in an app host across the socket.

.venv/bin/python benchmarks/boundary_round_trip.py [--statements 2000] [--runs 5]

Modeled time is the same on both paths (each statement costs its 5 ms round
trip on the virtual clock); this measures what the boundary costs the
grader in wall time: a frame each way and the world running the statement.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from harness.apphost.loader import load_app  # noqa: E402
from harness.world import clock  # noqa: E402
from harness.world.hosts import Zygote  # noqa: E402
from harness.world.world import World  # noqa: E402

APP = textwrap.dedent("""
    from fastapi import Depends, FastAPI
    from sqlalchemy import text
    from harness.db import get_db

    app = FastAPI()

    @app.get("/statements/{count}")
    async def statements(count: int, db=Depends(get_db)):
        for _ in range(count):
            await db.execute(text("SELECT 1"))
        return {"ran": count}
""")


def per_statement(app_file: Path, count: int, hosted: Zygote | None) -> tuple[float, int]:
    """Real seconds per statement of one request running ``count`` statements, and how many the world saw."""

    async def run() -> tuple[float, int]:
        async with World() as world:
            serving = world.serve_hosted(hosted, app_file) if hosted else world.serve(load_app(app_file))
            async with serving as client:
                await client.get("/statements/1")  # warm: a pooled connection, compiled statement
                start = time.monotonic()  # real time: perf_counter is the virtual clock here
                exchange = await client.get(f"/statements/{count}")
                return (time.monotonic() - start) / count, len(exchange.metrics.queries)

    return clock.run(run())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--statements", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app_file = Path(tmp) / "app.py"
        app_file.write_text(APP)
        zygote = Zygote()
        try:
            rows = []
            for name, hosted in (("in process", None), ("app host", zygote)):
                samples = [per_statement(app_file, args.statements, hosted) for _ in range(args.runs)]
                assert all(seen == args.statements for _, seen in samples)
                rows.append((name, statistics.median(s for s, _ in samples)))
        finally:
            zygote.close()
    for name, seconds in rows:
        print(f"{name:11} {seconds * 1e6:8.1f} µs per statement (median of {args.runs}, {args.statements} statements)")
    print(f"the boundary adds {(rows[1][1] - rows[0][1]) * 1e6:.1f} µs per statement")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
