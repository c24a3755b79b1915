"""08 query-budget-tests: the student's tests must pass on the fixed app and fail on broken versions.

Mutation grading: the student's test file runs (in its own pytest process,
without any conftest.py) against the app as shipped and against versions with
the N+1 put back in three ways. A test that asserts nothing, or only the
status code, lets the regressions through and fails here.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import settings
from harness.engine.checks import Check, CheckFailed, Grading
from harness.words import n_queries
from harness.world.hosts import host_user, shared_tmp

DASHBOARD = "/organizations/1/dashboard"
FIXED = "fixed"
EAGER_ASSIGNEES = ".options(selectinload(Project.tasks).selectinload(Task.assignee))"
LAZY_ASSIGNEES = ".options(selectinload(Project.tasks))"
BROKEN = {
    "n_plus_one": (
        "the old N+1 dashboard (one query per project and one per task)",
        [("await load_projects(db, org_id)}", "await load_projects_legacy(db, org_id)}")],
    ),
    "lazy_load": (
        "a version that forgets to load the assignees (an implicit lazy load, HTTP 500 in async code)",
        [(EAGER_ASSIGNEES, LAZY_ASSIGNEES)],
    ),
    "per_item_get": (
        "a version that loads each task's assignee with its own db.get()",
        [
            (EAGER_ASSIGNEES, LAZY_ASSIGNEES),
            (
                '                {"id": task.id, "title": task.title, "assignee": task.assignee.name if task.assignee '
                "else None}\n                for task in project.tasks\n",
                '                {"id": task.id, "title": task.title, "assignee": name}\n'
                "                for task in project.tasks\n"
                "                for name in [assignee_names.get(task.assignee_id)]\n",
            ),
            (
                "    projects = (await db.execute(stmt)).scalars().all()\n",
                "    projects = (await db.execute(stmt)).scalars().all()\n"
                "    assignee_names = {}\n"
                "    for project in projects:\n"
                "        for task in project.tasks:\n"
                "            if task.assignee_id is not None:\n"
                "                assignee_names[task.assignee_id] = (await db.get(User, task.assignee_id)).name\n",
            ),
        ],
    ),
}
HIDDEN = ("lazy_load", "per_item_get")


def variant_source(g: Grading, variant: str) -> str:
    source = g.app_file.read_text()
    for old, new in BROKEN[variant][1] if variant != FIXED else []:
        if old not in source:
            raise CheckFailed(f"grader error: the {variant} version could not be built from app.py")
        source = source.replace(old, new)
    return source


def _run_tests(test_file: Path, app_source: str, time_limit: float) -> tuple[int, str]:
    """The student's tests against one version of the app: pytest's exit code and its last lines."""
    # The tests are the submission's code: they run as the unprivileged user where we can, and all
    # the grader takes from them is pytest's exit code (what they print is shown, never trusted).
    user = host_user()
    with tempfile.TemporaryDirectory(prefix="kata-08-", dir=shared_tmp()) as tmp:
        app_dir, tests_dir = Path(tmp) / "app_under_test", Path(tmp) / "tests"
        app_dir.mkdir()
        tests_dir.mkdir()
        (app_dir / "app.py").write_text(app_source)
        shutil.copyfile(test_file, tests_dir / test_file.name)
        if user is not None:
            for path in [Path(tmp), *Path(tmp).rglob("*")]:
                shutil.chown(path, user=user)
        env = settings.environment(settings.TEST_RUN_ENV, HOME=tmp, TMPDIR=tmp)
        env["KATA_APP_UNDER_TEST"] = str(app_dir / "app.py")
        try:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    str(tests_dir / test_file.name),
                    "-q",
                    "--noconftest",
                    "-p",
                    "no:cacheprovider",
                    "-o",
                    "addopts=",
                    "--tb=line",
                    "--color=no",
                ],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                timeout=time_limit,
                user=user,
            )
        except subprocess.TimeoutExpired:
            return -1, f"the tests took more than {time_limit:g} s of real time"
        # pytest's closing line ends with its run time: drop it, grades must not vary between runs.
        lines = [
            re.sub(r" in [0-9.]+s( \([0-9:]+\))?", "", line.strip())
            for line in proc.stdout.splitlines()
            if line.strip()
        ]
        failures = [line.removeprefix("FAILED ").split(" - ")[0] for line in lines if line.startswith("FAILED")]
        shown = ([f"failed: {', '.join(f.split('::')[-1] for f in failures[:3])}"] if failures else []) + lines[-1:]
        return proc.returncode, "; ".join(shown)[:400]


async def _slots() -> asyncio.Semaphore:
    return asyncio.Semaphore(2)  # a pytest process per version; a 2-core box runs two well


async def outcome(g: Grading, variant: str) -> tuple[int, str]:
    """Run the student's tests against ``variant`` once per grading."""

    async def run() -> tuple[int, str]:
        test_file = g.submission / g.exercise.work_file
        if not test_file.is_file():
            raise CheckFailed(f"there is no {g.exercise.work_file} in the submission")
        async with await g.once("pytest slots", _slots):
            return await asyncio.to_thread(
                _run_tests, test_file, variant_source(g, variant), g.budget("test_time_limit")
            )

    return await g.once(("tests", variant), run)


async def queries_of(g: Grading, variant: str) -> str:
    """'92 queries at 10x8' for a version of the app (to make the messages concrete), measured in an app host."""
    folder = Path(tempfile.mkdtemp(prefix="kata-08-variant-"))
    try:
        (folder / "app.py").write_text(variant_source(g, variant))
        async with g.serve("10x8", app_file=folder / "app.py") as client:
            exchange = await client.get(DASHBOARD)
        return f"{n_queries(len(exchange.metrics.queries))} at 10x8"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def passes_on_fixed(g: Grading) -> str:
    # Every version at once: each run is its own process, and the checks below reuse them.
    await asyncio.gather(*(outcome(g, variant) for variant in (FIXED, *BROKEN)))
    code, summary = await outcome(g, FIXED)
    if code == 5:
        raise CheckFailed(f"no tests were collected from {g.exercise.work_file}")
    if code != 0:
        raise CheckFailed(f"your tests fail on the app as shipped (4 queries, correct answers): {summary}")
    return f"your tests pass on the app as shipped ({summary})"


async def fails_on_n_plus_one(g: Grading) -> str:
    code, summary = await outcome(g, "n_plus_one")
    what = BROKEN["n_plus_one"][0]
    if code == 0:
        raise CheckFailed(
            f"your tests pass against {what} ({await queries_of(g, 'n_plus_one')} instead of 4): they do not pin "
            "the query budget"
        )
    return f"your tests catch {what}: {summary}"


async def fails_on_hidden_mutants(g: Grading) -> str:
    caught = []
    for variant in HIDDEN:
        code, summary = await outcome(g, variant)
        what = BROKEN[variant][0]
        if code == 0:
            raise CheckFailed(
                f"your tests pass against {what} ({await queries_of(g, variant)}): a regression your tests should catch"
            )
        caught.append(what)
    return "your tests also catch " + " and ".join(caught)


CHECKS = [
    Check("passes_on_fixed", "the tests pass on the app as shipped", passes_on_fixed, guard=True),
    Check("fails_on_n_plus_one", "the tests fail when the N+1 dashboard comes back", fails_on_n_plus_one),
    Check("fails_on_hidden_mutants", "the tests fail on other ways the N+1 comes back", fails_on_hidden_mutants),
]
