"""The virtual clock: modeled time is exact and independent of the CPU."""

import asyncio
import concurrent.futures
import threading
import time

import aiosqlite

from harness import clock as app_clock
from harness.world import clock
from harness.world.world import World


def test_gather_costs_the_slowest_sleep():
    async def main():
        start = app_clock.now()
        await asyncio.gather(asyncio.sleep(0.28), asyncio.sleep(0.32))
        return app_clock.now() - start

    assert round(clock.run(main()), 9) == 0.32


def test_sequential_sleeps_add_up_and_cost_no_real_time():
    async def main():
        start = app_clock.now()
        await asyncio.sleep(0.28)
        await asyncio.sleep(0.32)
        await asyncio.sleep(3600)
        return app_clock.now() - start

    wall = time.perf_counter()
    assert round(clock.run(main()), 9) == 3600.6
    assert time.perf_counter() - wall < 5


def test_worker_thread_does_not_let_the_clock_jump():
    """A virtual timer must not fire while thread work (0.2 s real) is in flight."""

    async def main():
        order = []

        async def timer():
            await asyncio.sleep(0.001)
            order.append(("timer", app_clock.now()))

        def slow_work():
            time.sleep(0.2)
            return threading.get_ident()

        task = asyncio.create_task(timer())
        await asyncio.sleep(0)  # let the timer start waiting
        await asyncio.get_running_loop().run_in_executor(None, slow_work)
        order.append(("thread", app_clock.now()))
        await task
        return order

    order = clock.run(main())
    assert order[0] == ("thread", 0.0)
    assert order[1][0] == "timer"


class _LateResults(concurrent.futures.ThreadPoolExecutor):
    """A pool whose threads hand their results over a moment after the work returns."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        def late(*inner):  # type: ignore[no-untyped-def]
            result = fn(*inner, **kwargs)
            time.sleep(0.1)
            return result

        return super().submit(late, *args)


def test_the_clock_waits_for_a_threads_result_not_only_its_return():
    """Between a thread's work returning and its result reaching the loop the clock stands still
    (it once counted the work done when it returned: a timer could fire first, on a busy machine)."""

    async def main():
        order = []

        async def timer():
            await asyncio.sleep(0.001)
            order.append("timer")

        task = asyncio.create_task(timer())
        await asyncio.sleep(0)
        with _LateResults(max_workers=1) as pool:
            await asyncio.get_running_loop().run_in_executor(pool, time.sleep, 0.01)
        order.append("thread")
        await task
        return order

    assert clock.run(main()) == ["thread", "timer"]


def test_aiosqlite_statements_take_no_virtual_time_and_do_not_hang():
    async def main():
        async with aiosqlite.connect(":memory:") as db:
            for _ in range(50):
                await db.execute("SELECT 1")
        return app_clock.now()

    assert clock.run(main()) == 0.0


def test_blocking_call_holds_the_clock_for_everyone():
    async def main():
        async def other():
            await asyncio.sleep(0.01)
            return app_clock.now()

        task = asyncio.create_task(other())
        await asyncio.sleep(0)
        app_clock.block(0.5)  # the loop is held: the other task cannot run earlier
        return await task

    assert round(clock.run(main()), 9) == 0.5


def test_the_apps_cpu_work_takes_no_time_in_process_in_a_world_that_says_so():
    async def main():
        async with World() as world:
            start = app_clock.now()
            app_clock.block(0.5)
            world.app_cpu = 0.0
            app_clock.block(0.5)
            return app_clock.now() - start

    assert round(clock.run(main()), 9) == 0.5
