"""A corpus of submissions, each a starter or solution with one deliberate change.

Cases are written as edits, not copies, so they follow the starters and
solutions as those evolve: an edit whose text is no longer found fails loudly.
``build(name, folder)`` writes the case as a submission tree ``folder/NN_slug/app.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness import catalog

ALL = "all"


@dataclass(frozen=True)
class Case:
    exercise: str  # "01"
    base: str  # "exercises" (the starter) or "solutions"
    edits: list[tuple[str, str]]
    must_fail: set[str] | str  # check names, ALL, or empty: must pass everything
    words: str | None = None  # must appear in a failure message
    why: str = ""
    extra: dict[str, str] = field(default_factory=dict)


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
        "was compressed: bodies under 500 bytes",
        "even tiny bodies compressed",
    ),
}


def build(name: str, folder: Path) -> Path:
    """Write case ``name`` under ``folder`` (a submission tree) and return ``folder``."""
    case = CASES[name]
    exercise = catalog.find(case.exercise)
    source = exercise.app_file(catalog.resolve_target(case.base)).read_text()
    for old, new in case.edits:
        if old not in source:
            raise AssertionError(f"corpus case {name}: {old!r} is no longer in {case.base}/{exercise.name}/app.py")
        source = source.replace(old, new)
    target = folder / exercise.name
    target.mkdir(parents=True, exist_ok=True)
    (target / "app.py").write_text(source)
    return folder
