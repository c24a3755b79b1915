"""A corpus of submissions, each a starter or solution with one deliberate change.

Cases are written as edits, not copies, so they follow the starters and
solutions as those evolve: an edit whose text is no longer found fails loudly.
``build(name, folder)`` writes the case as a submission tree ``folder/NN_slug/app.py``.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness import catalog
from harness.engine import checks

ALL = "all"
# Fails what the untouched starter fails, no more: the change reaches nothing a grade depends on
# (it patches the app host's copy of the harness; the world measures).
STARTER = "starter"


@dataclass(frozen=True)
class Case:
    exercise: str  # "01"
    base: str  # "exercises" (the starter) or "solutions"
    edits: list[tuple[str, str]]
    must_fail: set[str] | str  # check names, ALL, STARTER, or empty: must pass everything
    words: str | None = None  # must appear in a failure message
    why: str = ""
    isolated_only: bool = False  # kills or hangs the process it runs in: only `kata grade` survives it
    file: str | None = None  # the file edited: the exercise's work file (usually app.py) by default
    # Why the verdict holds on SQLite only (SQLite's own SQL, or PostgreSQL's planner choosing otherwise):
    # the real back-ends (tests/test_backends.py) skip such a case and say why.
    sqlite_only: str = ""


CASES: dict[str, Case] = {
    "joinedload": Case(
        "01",
        "solutions",
        [
            ("selectinload", "joinedload"),
            (
                ".options(joinedload(Project.tasks).joinedload(Task.assignee))",
                ".options(joinedload(Project.tasks).joinedload(Task.assignee))",
            ),
            ("(await db.execute(stmt)).scalars().all()", "(await db.execute(stmt)).unique().scalars().all()"),
        ],
        set(),
        why="N+1 fixed with joinedload instead of selectinload: passes",
    ),
    "raises": Case(
        "01",
        "exercises",
        [('"assignee": assignee.name if', '"assignee": assignee.full_name if')],
        {"correct"},
        "AttributeError: 'User' object has no attribute 'full_name' (at app.py:",
        "a typo: HTTP 500",
    ),
    "lazy_load": Case(
        "01",
        "solutions",
        [(".selectinload(Task.assignee)", "")],
        {"correct"},
        "MissingGreenlet) greenlet_spawn has not been called; can't call await_() here. Was IO attempted in an "
        "unexpected place? (at app.py:",
        "assignees loaded lazily in async code",
    ),
    "syntax_error": Case(
        "01",
        "exercises",
        [("db: AsyncSession = Depends(get_db)):", "db: AsyncSession = Depends(get_db))")],
        ALL,
        "app.py line 20 has a syntax error",
        "a missing colon",
    ),
    "dropped_call": Case(
        "02",
        "solutions",
        [
            (
                "    analytics, weather, subscription = await asyncio.gather(",
                "    subscription = None  # nobody reads it\n    analytics, weather = await asyncio.gather(",
            ),
            ('        fetch_json(http, f"https://billing.example.com/v1/organizations/{org_id}/subscription"),\n', ""),
        ],
        {"correct", "every_call_made"},
        "the billing service was called 0 times",
        "fast by dropping a call",
    ),
    "import_error": Case(
        "02",
        "exercises",
        [("import httpx\n", "import httpx\nimport fast_httpx_turbo  # noqa: F401\n")],
        ALL,
        "importing app.py raised ModuleNotFoundError: No module named 'fast_httpx_turbo' (app.py line",
    ),
    "hangs": Case(
        "02",
        "solutions",
        [
            (
                "    org = await db.get(Organization, org_id)",
                "    await asyncio.Event().wait()  # waits forever\n    org = await db.get(Organization, org_id)",
            )
        ],
        ALL,
        "did not finish within 120 s of modeled time",
        "a handler that never returns",
    ),
    "startup_fails": Case(
        "02",
        "solutions",
        [("httpx.AsyncClient(timeout=5.0) as client", "httpx.AsyncClient(timeout={}['T']) as client")],
        ALL,
        "the app's startup failed: KeyError: 'T' (at app.py:",
        "lifespan raises",
    ),
    "no_app": Case(
        "04",
        "exercises",
        [('app = FastAPI(title="Task export")', 'api = FastAPI(title="Task export")'), ("@app.get", "@api.get")],
        ALL,
        "defines no `app`",
    ),
    "trimmed_export": Case(
        "04",
        "solutions",
        [('            "description": task.description,\n', "")],
        {"correct"},
        "key 'description' is missing",
        "smaller by dropping a field",
    ),
    "gzip_always": Case(
        "04",
        "solutions",
        [
            (
                "app.add_middleware(GZipMiddleware, minimum_size=500)\n",
                "app.add_middleware(GZipMiddleware, minimum_size=500)\n\n\n"
                "class AlwaysGzip:\n"
                "    def __init__(self, app):\n"
                "        self.app = app\n\n"
                "    async def __call__(self, scope, receive, send):\n"
                "        if scope['type'] == 'http':\n"
                "            headers = [(k, v) for k, v in scope['headers'] if k != b'accept-encoding']\n"
                "            scope = {**scope, 'headers': [*headers, (b'accept-encoding', b'gzip')]}\n"
                "        await self.app(scope, receive, send)\n\n\n"
                "app.add_middleware(AlwaysGzip)\n",
            )
        ],
        {"identity_when_not_accepted"},
        "the request said Accept-Encoding: identity",
        "gzip whatever was accepted",
    ),
    "gzip_too_eager": Case(
        "04",
        "solutions",
        [("minimum_size=500", "minimum_size=1")],
        {"small_not_compressed"},
        "was compressed: bodies under 100 bytes",
        "even tiny bodies compressed",
    ),
    "exception_at_import": Case(
        "02",
        "exercises",
        [
            (
                'app = FastAPI(title="Overview")\n',
                'app = FastAPI(title="Overview")\nraise RuntimeError("PARTNER_API_KEY is not set")\n',
            )
        ],
        ALL,
        "importing app.py raised RuntimeError: PARTNER_API_KEY is not set (app.py line 16)",
    ),
    "sys_exit_at_import": Case(
        "04",
        "exercises",
        [("from fastapi import", "import sys\n\nsys.exit(3)\nfrom fastapi import")],
        ALL,
        "importing app.py called sys.exit(3)",
    ),
    "os_exit_at_import": Case(
        "04",
        "exercises",
        [("from fastapi import", "import os\n\nos._exit(0)\nfrom fastapi import")],
        ALL,
        "the app's process ended while importing app.py: does app.py call os._exit()",
    ),
    "loop_at_import": Case(
        "01",
        "exercises",
        [("import httpx\n", "import httpx\n\nwhile True:\n    pass\n")],
        ALL,
        "s of real time while importing app.py: look for an endless loop",
        isolated_only=True,
    ),
    "loop_in_endpoint": Case(
        "02",
        "solutions",
        [
            (
                "    org = await db.get(Organization, org_id)",
                "    while True:\n        pass\n    org = await db.get(Organization, org_id)",
            )
        ],
        ALL,
        "s of real time while running the check correct",
        isolated_only=True,
    ),
    "returns_500": Case(
        "02",
        "solutions",
        [
            (
                '        raise HTTPException(status_code=404, detail="Org not found")\n',
                '        raise HTTPException(status_code=404, detail="Org not found")\n'
                '    return JSONResponse({"error": "partners under maintenance"}, status_code=500)\n',
            ),
            ("from fastapi import Depends", "from fastapi.responses import JSONResponse\nfrom fastapi import Depends"),
        ],
        {"correct"},
        "returned HTTP 500, expected 200",
    ),
    "swallows_errors": Case(
        "02",
        "solutions",
        [
            (
                'app = FastAPI(title="Overview", lifespan=lifespan)\n',
                'app = FastAPI(title="Overview", lifespan=lifespan)\n\n\n'
                '@app.middleware("http")\n'
                "async def never_fail(request, call_next):\n"
                "    try:\n"
                "        response = await call_next(request)\n"
                "    except Exception:\n"
                '        return Response(b"", status_code=200)\n'
                '    return response if response.status_code < 400 else Response(b"", status_code=200)\n',
            ),
            ("from fastapi import Depends", "from fastapi import Response\nfrom fastapi import Depends"),
        ],
        {"correct"},
        "returned HTTP 200, expected 404",
    ),
    "writes_results": Case(
        "01",
        "exercises",
        [
            (
                "import httpx\n",
                "import json\nimport os\nfrom pathlib import Path\n\nimport httpx\n\n"
                "FULL = json.dumps({'score': 30, 'max_score': 30, 'tests': []})\n"
                "for place in (Path.cwd(), Path(os.environ.get('HOME', '.')), Path(__file__).parent, "
                "Path(__file__).parent.parent):\n"
                "    try:\n"
                "        (place / 'results.json').write_text(FULL)\n"
                "    except OSError:\n"
                "        pass\n",
            )
        ],
        {"query_budget", "constant_queries", "db_time"},
        "92 queries (budget 4)",
        "plants a full-score results.json",
    ),
    "patches_clock": Case(
        "02",
        "exercises",
        [
            (
                "import httpx\n",
                "import httpx\n\nimport harness.world.clock\n\n"
                "harness.world.clock.VirtualTimeLoop.time = lambda self: 0.0  # time stands still\n",
            )
        ],
        STARTER,
        None,
    ),
    "detaches_counter": Case(
        "01",
        "exercises",
        [
            (
                "    # --- Section A: load org data ---\n",
                "    # --- Section A: load org data ---\n"
                "    from sqlalchemy import event\n"
                "    from harness import db as kata_db\n\n"
                "    engine = kata_db.active().engine.sync_engine\n"
                "    for name, listener in getattr(kata_db.active(), 'listeners', []):\n"
                "        if event.contains(engine, name, listener):\n"
                "            event.remove(engine, name, listener)  # no queries counted, no latency charged\n",
            )
        ],
        STARTER,
        None,
    ),
    "fakes_sleep": Case(
        "02",
        "exercises",
        [
            (
                "async def get_org_overview(org_id: int, db: AsyncSession = Depends(get_db)):\n",
                "async def get_org_overview(org_id: int, db: AsyncSession = Depends(get_db)):\n"
                "    import asyncio\n\n"
                "    async def instant(delay, result=None):\n"
                "        return result\n\n"
                "    asyncio.sleep = instant  # every modeled latency vanishes\n",
            )
        ],
        STARTER,
        None,
    ),
    "raises_budget": Case(
        "01",
        "exercises",
        [
            (
                "    # --- Section A: load org data ---\n",
                "    # --- Section A: load org data ---\n"
                "    from harness import catalog\n\n"
                "    budget = catalog.find('01').spec.budget\n"
                "    budget.update(max_queries=10_000, max_db_ms=1e9)  # a read-only mapping, and not the world's\n",
            )
        ],
        # Every request fails, whatever the host sees of the kata (a read-only mapping, or, sandboxed in a
        # kata installed under /tmp, no exercises at all): nothing is counted.
        {"correct"},
        "the app raised",
    ),
}


def assert_verdict(name: str, report: checks.Report) -> None:
    """The report of case ``name`` has the verdict, and the words, the case expects."""
    case = CASES[name]
    exercise = catalog.find(case.exercise)
    failed = {r.name for r in report.checks if not r.passed}
    if case.must_fail == ALL:
        assert failed == {c.name for c in checks.checks_of(exercise)}, f"{name}: {report.to_json()}"
    elif case.must_fail == STARTER:
        slow = {c.name for c in checks.checks_of(exercise) if not c.guard}
        assert slow <= failed, f"{name}: {report.to_json()}"
    else:
        assert case.must_fail <= failed, f"{name}: {report.to_json()}"
    assert report.passed == (case.must_fail == set()), f"{name}: {report.to_json()}"
    if case.words:
        messages = [r.message for r in report.checks if not r.passed]
        assert any(case.words in m for m in messages), f"{name}: {messages}"


def solution_block(exercise: str, first_line: str, last_line: str) -> str:
    """The text of the solution's app.py from the line starting ``first_line`` through ``last_line``."""
    source = catalog.find(exercise).app_file(catalog.SOLUTIONS_DIR).read_text()
    start = source.index(first_line)
    return source[start : source.index(last_line, start) + len(last_line)]


def from_the_solution_as(cases: dict[str, Case], rewrite: list[tuple[str, str]]) -> dict[str, Case]:
    """Cases built from the solution start by ``rewrite``-ing it into the form they were written against
    (for example its @app.middleware("http") version, when the shipped one is pure ASGI)."""
    return {
        name: dataclasses.replace(case, edits=[*rewrite, *case.edits]) if case.base == "solutions" else case
        for name, case in cases.items()
    }


PURE_ASGI_IMPORTS = [
    ("from starlette.datastructures import MutableHeaders\n", ""),
    ("from starlette.types import ASGIApp, Message, Receive, Scope, Send\n", ""),
]


def _load_extensions() -> None:
    """Cases of later exercises live in tests/corpus_exNN.py, each with a CASES dict."""
    import importlib

    for path in sorted(Path(__file__).parent.glob("corpus_ex*.py")):
        module = importlib.import_module(path.stem)
        overlap = set(module.CASES) & set(CASES)
        assert not overlap, f"{path.name} redefines corpus cases {overlap}"
        CASES.update(module.CASES)


_GENERIC = set(CASES)  # the cases of this file: crashes, hangs, forgeries, one wrong fix each
_load_extensions()


def sample() -> list[str]:
    """What `make test` grades in process: every case of this file, and every third case of each exercise's
    own file (by name). `make test-platforms` grades the whole corpus, each case isolated as `kata grade` does:
    grading every case twice would take `make test` past ten minutes. ``KATA_FULL_CORPUS=1``: every case."""
    if os.environ.get("KATA_FULL_CORPUS"):
        return sorted(name for name, case in CASES.items() if not case.isolated_only)
    chosen = sorted(name for name in _GENERIC if not CASES[name].isolated_only)
    for exercise in sorted({case.exercise for case in CASES.values()}):
        own = sorted(n for n, c in CASES.items() if c.exercise == exercise and n not in _GENERIC)
        # A load exercise's case runs many users for up to a minute of modeled time (10-30 s each): one of them.
        chosen.extend(own[:1] if catalog.find(exercise).spec.load is not None else own[::3])
    return chosen


def build(name: str, folder: Path) -> Path:
    """Write case ``name`` under ``folder`` (a submission tree) and return ``folder``."""
    case = CASES[name]
    exercise = catalog.find(case.exercise)
    base = catalog.resolve_target(case.base) / exercise.name
    edited = case.file or exercise.work_file
    source = (base / edited).read_text()
    for old, new in case.edits:
        if old not in source:
            raise AssertionError(f"corpus case {name}: {old!r} is no longer in {case.base}/{exercise.name}/{edited}")
        source = source.replace(old, new)
    target = folder / exercise.name
    target.mkdir(parents=True, exist_ok=True)
    (target / edited).write_text(source)
    return folder


# One wrong fix per exercise, for generated classes.
WRONG = {
    "01": "lazy_load",
    "02": "dropped_call",
    "03": "03_timeouts_but_sequential",
    "04": "gzip_always",
    "05": "05_wall_clock",
    "06": "06_shared_default_dict",
    "07": "07_global_counter",
    "08": "08_asserts_nothing",
    "09": "09_plain_index_lower_query",
    "10": "10_never_invalidates",
    "11": "11_sleep_zero",
    "12": "12_huge_pool",
    "13": "13_login_per_task",
    "14": "14_no_gzip",
}


def _variant_file(kind: str, exercise: catalog.Exercise, scratch: Path) -> bytes:
    if kind == "starter":
        return (exercise.folder / exercise.work_file).read_bytes()
    if kind == "solution":
        return (catalog.SOLUTIONS_DIR / exercise.name / exercise.work_file).read_bytes()
    tree = build(WRONG[exercise.number], scratch / WRONG[exercise.number])
    return (tree / exercise.name / exercise.work_file).read_bytes()


def build_class(root: Path, scratch: Path, students: int, distinct: bool = False) -> dict[str, dict | None]:
    """A class as Gradescope's "Download submissions" gives it: ``submission_NNNN`` folders and
    submission_metadata.yml. Each student's exercise is the starter, the solution or a wrong fix (``WRONG``);
    student 0 hands in every solution, student 7 nothing usable, student 3 a repository wrapped in a folder.
    ``distinct``: a comment with the student's name in every file, so no two are graded as one.
    Returns {folder: {exercise number: "starter" | "solution" | "wrong"}, or None for the unusable one}."""
    rng = random.Random(2026)
    plan = {}
    metadata = []
    for i in range(students):
        folder = root / f"submission_{1000 + i}"
        metadata.append(
            f"submission_{1000 + i}:\n  :submitters:\n  - :name: Student {i:02d}\n"
            f"    :sid: '{i}'\n  :created_at: 2026-11-20 10:00:00\n"
        )
        if i == 7:  # handed in nothing usable
            (folder / "notes").mkdir(parents=True)
            (folder / "notes" / "todo.txt").write_text("forgot to upload\n")
            plan[folder.name] = None
            continue
        # everyone's repository; student 3 zipped it with its folder (kata-main/exercises/...)
        tree = folder / "kata-main" / "exercises" if i == 3 else folder / "exercises"
        shutil.copytree(catalog.CATALOG_DIR, tree, ignore=shutil.ignore_patterns("__pycache__"))
        kinds = {}
        for exercise in catalog.exercises():
            kind = "solution" if i == 0 else rng.choices(["solution", "starter", "wrong"], [5, 3, 2])[0]
            text = _variant_file(kind, exercise, scratch)
            if distinct:
                text += f"\n# handed in by student {i}\n".encode()
            (tree / exercise.name / exercise.work_file).write_bytes(text)
            kinds[exercise.number] = kind
        plan[folder.name] = kinds
    (root / "submission_metadata.yml").write_text("".join(metadata))
    return plan
