"""08 query-budget-tests: the student's tests must pass on the fixed app and fail on broken versions.

Mutation grading: the student's test file runs (in its own pytest process,
without any conftest.py) against the fixed app written differently (and
against the app as shipped when that fails, to say which one the tests depend
on), and against versions with the N+1 put back in several ways. A test
that asserts nothing, or only the status code, lets the regressions through
and fails here.

What counts as a fix (the rule these checks apply). The submission is a test
file; its tests are judged only on what they say about the app's behaviour.

May freely choose: how to count (the ``assert_max_queries`` and
``kata_constant_queries`` fixtures, its own SQLAlchemy event listener, its own
``WorldClient``), which scales to run, budgets written as constants or as
comparisons across scales, parametrised tests, extra checks of the data, the
404 path or the legacy route.

May not:
- fail on a correct app. The app as shipped and the same app written
  differently (other formatting, local names, import style, line numbers;
  the same 4 queries, the same responses) must both pass: a test that reads
  the source text of app.py is not a test of its behaviour.
- pass on an app whose query count grows with the data. Every version
  below answers the same data (or fails with HTTP 500); they differ in the
  queries a request runs, and two of them keep the eager-load option, word
  for word, in their source. A budget loose enough to let one extra query
  per project through at the scale the tests use, a check of the response
  alone, or "the count is the same at two scales" without a status check
  lets one of them pass.
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
REWRITTEN = "rewritten"
EAGER_ASSIGNEES = ".options(selectinload(Project.tasks).selectinload(Task.assignee))"
LAZY_ASSIGNEES = ".options(selectinload(Project.tasks))"
ASSIGNEE_NAME = '"assignee": task.assignee.name if task.assignee else None}'
PROJECTS_LOADED = "    projects = (await db.execute(stmt)).scalars().all()\n"
LOAD_PROJECTS_BODY = (
    "    stmt = (\n"
    "        select(Project)\n"
    "        .where(Project.org_id == org_id)\n"
    "        .order_by(Project.id)\n"
    f"        {EAGER_ASSIGNEES}\n"
    "    )\n"
    f"{PROJECTS_LOADED}"
    "    return [\n"
    "        {\n"
    '            "project_name": project.name,\n'
    '            "tasks": [\n'
    f'                {{"id": task.id, "title": task.title, {ASSIGNEE_NAME}\n'
    "                for task in project.tasks\n"
    "            ],\n"
    "        }\n"
    "        for project in projects\n"
    "    ]\n"
)

# Correct versions: the student's tests must pass on each. The second is the same app, the same 4 statements
# (the same SQL, in the same order) and the same responses, written the way another developer would: an
# aliased import, other local names, a loop instead of comprehensions, other line numbers. Tests that read
# app.py's text (a string, an AST, a hash, a line number) fail on it; tests of behaviour cannot tell.
CORRECT = {
    FIXED: ("the app as shipped (4 queries, correct answers)", []),
    REWRITTEN: (
        "the same app written differently (the same 4 queries and the same answers; other formatting, "
        "local names and line numbers)",
        [
            ("from sqlalchemy.orm import selectinload\n", "from sqlalchemy.orm import selectinload as eager\n"),
            ('app = FastAPI(title="Dashboard")\n', 'app = FastAPI(\n    title="Dashboard",\n)\n'),
            (
                LOAD_PROJECTS_BODY,
                "    people = eager(Project.tasks).options(eager(Task.assignee))\n"
                "    query = select(Project).filter_by(org_id=org_id).order_by(Project.id).options(people)\n"
                "    board = []\n"
                "    for p in await db.scalars(query):\n"
                "        rows = []\n"
                "        for t in p.tasks:\n"
                "            who = t.assignee\n"
                "            name = None if who is None else who.name\n"
                '            rows.append({"id": t.id, "title": t.title, "assignee": name})\n'
                '        board.append({"project_name": p.name, "tasks": rows})\n'
                "    return board\n",
            ),
            (
                "    org = await get_org(db, org_id)\n"
                '    return {"organization": org.name, "projects": await load_projects(db, org_id)}\n',
                "    organization = await get_org(db, org_id)\n"
                "    projects = await load_projects(db, org_id)\n"
                '    return {"organization": organization.name, "projects": projects}\n',
            ),
        ],
    ),
}

# Broken versions: the student's tests must fail on each. All but the lazy load answer 200 with the same data
# and differ from the fixed app only in the queries one request runs. The last two keep EAGER_ASSIGNEES word for
# word (per_item_get's is there but never applied: Select is generative, the statement it returns is dropped),
# so only a test of behaviour can tell them from the fixed app. Together they grow per project (the smallest
# growth: a loose budget lets it through) and per task, on the tasks table and on the users table.
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
        "a version whose eager-load option for the assignees is still in the source but never applied (the "
        "statement .options() returns is dropped), each task's assignee then loaded with its own db.get()",
        [
            (
                f"        {EAGER_ASSIGNEES}\n    )\n",
                f"        {LAZY_ASSIGNEES}\n    )\n    stmt{EAGER_ASSIGNEES}\n",
            ),
            (
                f'                {{"id": task.id, "title": task.title, {ASSIGNEE_NAME}\n'
                "                for task in project.tasks\n",
                '                {"id": task.id, "title": task.title, "assignee": name}\n'
                "                for task in project.tasks\n"
                "                for name in [assignee_names.get(task.assignee_id)]\n",
            ),
            (
                PROJECTS_LOADED,
                f"{PROJECTS_LOADED}"
                "    assignee_names = {}\n"
                "    for project in projects:\n"
                "        for task in project.tasks:\n"
                "            if task.assignee_id is not None:\n"
                "                assignee_names[task.assignee_id] = (await db.get(User, task.assignee_id)).name\n",
            ),
        ],
    ),
    "per_project_query": (
        "a version that keeps the eager loading but runs one more query per project (same answer, "
        "the eager-load option still in the source)",
        [
            (
                PROJECTS_LOADED,
                f"{PROJECTS_LOADED}"
                "    for project in projects:\n"
                "        await db.execute(select(Project.name).where(Project.id == project.id))\n",
            )
        ],
    ),
}
HIDDEN = ("lazy_load", "per_item_get", "per_project_query")
VERSIONS = {**CORRECT, **BROKEN}


def variant_source(g: Grading, variant: str) -> str:
    source = g.app_file.read_text()
    for old, new in VERSIONS[variant][1]:
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
        # The app beside the tests, as in the exercise's folder: a test may find it as its neighbour
        # (``Path(__file__).with_name("app.py")``, ``import app``) or through KATA_APP_UNDER_TEST.
        tests_dir = Path(tmp) / "tests"
        tests_dir.mkdir()
        (tests_dir / "app.py").write_text(app_source)
        shutil.copyfile(test_file, tests_dir / test_file.name)
        if user is not None:
            for path in [Path(tmp), *Path(tmp).rglob("*")]:
                shutil.chown(path, user=user)
        env = settings.environment(settings.TEST_RUN_ENV, HOME=tmp, TMPDIR=tmp)
        env["KATA_APP_UNDER_TEST"] = str(tests_dir / "app.py")
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
    # The rewritten app and the broken versions at once: each run is its own process, and the checks below reuse
    # them. The app as shipped behaves exactly as the rewritten one, so it runs only when the rewritten one fails,
    # to tell a budget the fixed app cannot meet from a test of the source text (one pytest process less).
    await asyncio.gather(*(outcome(g, variant) for variant in (REWRITTEN, *BROKEN)))
    code, summary = await outcome(g, REWRITTEN)
    if code == 5:
        raise CheckFailed(f"no tests were collected from {g.exercise.work_file}")
    if code == 0:
        return f"your tests pass on the fixed app, written as another developer would have ({summary})"
    shipped, shipped_summary = await outcome(g, FIXED)
    if shipped != 0:
        raise CheckFailed(f"your tests fail on {CORRECT[FIXED][0]}: {shipped_summary}")
    raise CheckFailed(
        f"your tests pass on the app as shipped but fail on {CORRECT[REWRITTEN][0]}: they test how app.py is "
        "written, not what it does. Test the behaviour of a request (its status, its data, the queries it "
        f"runs), never the source text of app.py: {summary}"
    )


async def fails_on_n_plus_one(g: Grading) -> str:
    code, summary = await outcome(g, "n_plus_one")
    what = BROKEN["n_plus_one"][0]
    if code == 0:
        raise CheckFailed(
            f"your tests pass against {what} ({await queries_of(g, 'n_plus_one')} instead of 4): they do not pin "
            "the query budget"
        )
    return f"your tests catch {what}: {summary}"


# What to look at when a hidden version gets through.
LESSON = {
    "lazy_load": "it fails early, so it runs fewer queries than the fixed app, not more: a count alone cannot tell "
    "them apart",
    "per_item_get": "one query per task, and its source still contains the eager-load option: only what a request "
    "does tells it from the fixed app",
    "per_project_query": "one extra query per project and the same answer: a budget with room for it, or a look at "
    "the response alone, lets it through",
}


async def fails_on_hidden_mutants(g: Grading) -> str:
    missed = [variant for variant in HIDDEN if (await outcome(g, variant))[0] == 0]
    if missed:
        measured = await asyncio.gather(*(queries_of(g, variant) for variant in missed))
        shown = [
            f"{BROKEN[variant][0]} ({count}, the app as shipped runs 4): {LESSON[variant]}"
            for variant, count in zip(missed, measured, strict=True)
        ]
        raise CheckFailed(
            f"your tests pass against {len(missed)} of {len(HIDDEN)} broken versions of the app, regressions they "
            f"should catch: {'; '.join(shown)}"
        )
    return f"your tests also catch the {len(HIDDEN)} other broken versions: " + "; ".join(
        BROKEN[variant][0] for variant in HIDDEN
    )


CHECKS = [
    Check(
        "passes_on_fixed",
        "the tests pass on the fixed app, also when it is written differently",
        passes_on_fixed,
        guard=True,
    ),
    Check("fails_on_n_plus_one", "the tests fail when the N+1 dashboard comes back", fails_on_n_plus_one),
    Check("fails_on_hidden_mutants", "the tests fail on other ways the N+1 comes back", fails_on_hidden_mutants),
]
