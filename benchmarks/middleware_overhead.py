"""CPU cost per request of the observability solutions' middleware stack (05 + 06 + 07) vs the bare app.

    .venv/bin/python benchmarks/middleware_overhead.py [--requests 3000]

Both apps serve the same one-query route in the same simulated world with the
query latency set to 0, on a normal event loop; requests alternate between the
two apps in blocks, and the CPU time of the whole process (time.process_time,
worker threads included) is divided by the number of requests. Log output of
the middleware goes to /dev/null (its formatting is still paid for).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import sys
import time
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from harness.db import get_db  # noqa: E402
from harness.models import Organization  # noqa: E402
from harness.settings import QueryLatency  # noqa: E402
from harness.world.world import World  # noqa: E402

SOLUTIONS = [ROOT / "solutions"]  # searched in order; --solutions puts another tree first


def solution(name: str):  # type: ignore[no-untyped-def]
    path = next(tree / name / "app.py" for tree in SOLUTIONS if (tree / name / "app.py").is_file())
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_app(instrumented: bool) -> FastAPI:
    timing, server_timing, profiler = (
        solution(n) for n in ("05_timing_middleware", "06_server_timing", "07_query_profiler")
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with AsyncExitStack() as stack:
            if instrumented:  # their cursor listeners (and 06's shared client)
                await stack.enter_async_context(server_timing.lifespan(app))
                await stack.enter_async_context(profiler.lifespan(app))
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/organizations/{org_id}")
    async def get_organization(org_id: int, db: AsyncSession = Depends(get_db)):
        org = await db.get(Organization, org_id)
        if not org:
            raise HTTPException(status_code=404)
        return {"id": org.id, "name": org.name, "city": org.city}

    if instrumented:  # the very middleware each solution registered, whichever way it did
        for module in (profiler, server_timing, timing):
            app.user_middleware[0:0] = module.app.user_middleware
    return app


async def measure(requests: int, block: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"bare": [], "instrumented": []}
    async with World(latency=QueryLatency(0)) as world:
        async with AsyncExitStack() as stack:
            clients = {
                kind: await stack.enter_async_context(world.serve(make_app(kind == "instrumented"))) for kind in samples
            }
            for client in clients.values():  # warm up
                for _ in range(50):
                    await client.get("/organizations/1")
            for _ in range(requests // block):
                for kind, client in clients.items():
                    start = time.process_time()
                    for _ in range(block):
                        response = (await client.get("/organizations/1")).response
                    samples[kind].append((time.process_time() - start) / block * 1e6)
                    assert response.status_code == 200
            assert "x-query-count" in response.headers or kind == "bare"
    return samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--solutions", type=Path, help="a tree with other NN_slug/app.py to measure instead")
    args = parser.parse_args()
    if args.solutions:
        SOLUTIONS.insert(0, args.solutions.resolve())
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # the middleware's JSON log lines
    try:
        samples = asyncio.run(measure(args.requests, args.block))
    finally:
        os.dup2(saved, 2)
    bare, instrumented = (statistics.median(samples[k]) for k in ("bare", "instrumented"))
    print(f"CPU per request, median of {len(samples['bare'])} blocks of {args.block}:")
    print(f"  bare app                        {bare:8.1f} us")
    print(f"  with 05 + 06 + 07 middleware    {instrumented:8.1f} us")
    print(f"  overhead                        {instrumented / bare - 1:8.1%}  (goal: <= 10 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
