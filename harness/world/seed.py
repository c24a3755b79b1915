"""Deterministic seeded datasets at named scales.

Organization 1 always has exactly the scale's shape (P projects x T tasks,
every task assigned), so query counts follow the lecture's table. The other
organizations vary with the seed: a mid-sized one with unassigned tasks, an
empty one, and a small one. A different seed changes every name, status, city
and text, so a response hard-coded from the public data fails on hidden data.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import Table, create_engine, insert

from harness import models
from harness.models import Base, Customer, Order, Organization, Project, Task, User

PUBLIC_SEED = 12
SCHEMA_VERSION = 2

SCALES: dict[str, tuple[int, int]] = {
    "5x4": (5, 4),
    "10x8": (10, 8),
    "20x10": (20, 10),
    "50x20": (50, 20),
}
DEFAULT_SCALE = "10x8"

# The large tables (exercise 09): the same size at every scale, so a full scan
# costs the same whatever the dashboard scale.
CUSTOMERS = 20_000
ORDERS = 60_000
_DOMAINS = "example.com example.org mail.test shop.test corp.example".split()
_COUNTRIES = "PT NO KE CA JP CL EE SN NZ PL CO DE".split()
_ORDER_STATUSES = ["placed", "paid", "shipped", "delivered", "refunded"]

_FIRST = """
    Ada Grace Alan Barbara Edsger Donald Margaret Dennis
    Frances Ken Radia Linus Guido Katherine Tim Hedy
    John Sophie Anita Niklaus
""".split()
_LAST = """
    Lovelace Hopper Turing Liskov Dijkstra Knuth Hamilton Ritchie
    Allen Thompson Perlman Torvalds Rossum Johnson Berners-Lee Lamarr
    Backus Wilson Borg Wirth
""".split()
_CITIES = "Lisbon Oslo Nairobi Montreal Osaka Valparaiso Tallinn Dakar Auckland Bergen Kraków Medellín".split()
_ORG_WORDS = """
    Acme Globex Initech Umbrella Hooli Stark Wayne Tyrell
    Cyberdyne Soylent Wonka Aperture
""".split()
_PROJECT_WORDS = """
    Apollo Borealis Cobalt Delta Ember Falcon Granite Helix
    Indigo Juniper Kestrel Lumen Meridian Nimbus Onyx Polaris
""".split()
_VERBS = "Refactor Migrate Document Benchmark Review Deploy Profile Index Cache Audit Test Design".split()
_NOUNS = "billing page login flow search API export job audit log settings form dashboard query report".split(" ")
_WORDS = (
    "latency throughput request response query index cache pool worker thread loop "
    "budget profile measure baseline regression payload header client server endpoint "
    "session transaction commit rollback batch stream compress bandwidth percentile"
).split()
_STATUSES = ["todo", "in_progress", "review", "done"]


@dataclass(frozen=True)
class Scale:
    name: str
    projects: int
    tasks_per_project: int


def parse_scale(text: str) -> Scale:
    """'10x8' -> Scale; raises ValueError with the valid names otherwise."""
    if text not in SCALES:
        raise ValueError(f"unknown scale {text!r}; choose one of {', '.join(SCALES)}")
    projects, tasks = SCALES[text]
    return Scale(text, projects, tasks)


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text.capitalize() + "."


def generate_rows(scale: Scale, seed: int) -> dict[str, list[dict]]:
    """All rows of a dataset, as plain dicts per table, in insertion order."""
    rng = random.Random(f"kata:{seed}")
    rows: dict[str, list[dict]] = {"organizations": [], "users": [], "projects": [], "tasks": []}
    # org id -> (projects, tasks per project (None: random), share of unassigned tasks)
    shapes = {
        1: (scale.projects, scale.tasks_per_project, 0.0),
        2: (max(2, scale.projects // 2), None, 0.25),
        3: (0, 0, 0.0),
        4: (2, 3, 0.0),
    }
    start = date(2026, 9, 1)
    for org_id, (n_projects, n_tasks, unassigned) in shapes.items():
        n_members = max(4, 2 * n_projects)
        rows["organizations"].append(
            {
                "id": org_id,
                "name": f"{rng.choice(_ORG_WORDS)} {rng.choice(['Labs', 'Corp', 'Systems', 'Works'])}",
                "city": rng.choice(_CITIES),
                "member_count": n_members,
            }
        )
        member_ids = []
        for _ in range(n_members):
            user_id = len(rows["users"]) + 1
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            rows["users"].append(
                {
                    "id": user_id,
                    "org_id": org_id,
                    "name": f"{first} {last}",
                    "email": f"{first.lower()}.{last.lower()}{user_id}@example.com",
                }
            )
            member_ids.append(user_id)
        for p in range(n_projects):
            project_id = len(rows["projects"]) + 1
            rows["projects"].append(
                {"id": project_id, "org_id": org_id, "name": f"{rng.choice(_PROJECT_WORDS)} {p + 1}"}
            )
            count = n_tasks if n_tasks is not None else rng.randint(0, 6)
            for _ in range(count):
                assigned = rng.random() >= unassigned
                rows["tasks"].append(
                    {
                        "id": len(rows["tasks"]) + 1,
                        "project_id": project_id,
                        "assignee_id": rng.choice(member_ids) if assigned else None,
                        "title": f"{rng.choice(_VERBS)} the {rng.choice(_NOUNS)}",
                        "status": rng.choice(_STATUSES),
                        "description": _sentence(rng, rng.randint(28, 40)),
                        "due_date": start + timedelta(days=rng.randint(0, 120)),
                    }
                )
    return rows


def generate_large_rows(seed: int) -> dict[str, list[dict]]:
    """Customers and their orders: tens of thousands of rows, lower-case unique emails."""
    rng = random.Random(f"kata-large:{seed}")
    customers, orders = [], []
    start = date(2024, 1, 1)
    for customer_id in range(1, CUSTOMERS + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        customers.append(
            {
                "id": customer_id,
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}.{customer_id}@{rng.choice(_DOMAINS)}",
                "country": rng.choice(_COUNTRIES),
                "signed_up": start + timedelta(days=rng.randint(0, 700)),
            }
        )
    for order_id in range(1, ORDERS + 1):
        orders.append(
            {
                "id": order_id,
                "customer_id": rng.randint(1, CUSTOMERS),
                "placed_on": start + timedelta(days=rng.randint(0, 1000)),
                "status": rng.choice(_ORDER_STATUSES),
                "total_cents": rng.randint(500, 250_000),
            }
        )
    return {"customers": customers, "orders": orders}


def all_rows(scale: Scale, seed: int, large: bool) -> list[tuple[type[Base], list[dict]]]:
    """(model, rows) in insertion order: the dataset every back-end is seeded with."""
    rows = generate_rows(scale, seed)
    tables: list[tuple[type[Base], list[dict]]] = [
        (model, rows[model.__tablename__]) for model in (Organization, User, Project, Task)
    ]
    if large:
        big = generate_large_rows(seed)
        tables += [(Customer, big["customers"]), (Order, big["orders"])]
    return tables


def write_database(path: Path, scale: Scale, seed: int, large: bool = False) -> None:
    """Create the schema and insert a seeded dataset into a SQLite file."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            for model, table_rows in all_rows(scale, seed, large):
                if table_rows:
                    conn.execute(insert(cast(Table, model.__table__)), table_rows)
    finally:
        engine.dispose()


_built: dict[tuple[str, int, bool], Path] = {}
_cache_dir: Path | None = None


def dataset_name(scale: Scale, seed: int, large: bool = False) -> str:
    """``v2-10x8-seed12`` (``-large`` with the large tables): names files and template databases."""
    return f"v{SCHEMA_VERSION}-{scale.name}-seed{seed}" + ("-large" if large else "")


def _cache_folder() -> Path:
    """Where pristine datasets are kept between processes: this user's only (0700; an app host runs as another
    user and never opens them), and named after the code that makes them, so a change of it makes new ones."""
    made_by = hashlib.sha256(Path(__file__).read_bytes() + Path(models.__file__).read_bytes()).hexdigest()[:12]
    # The system's /tmp, not TMPDIR: each grading worker has a TMPDIR of its own, and all of them share these.
    system_tmp = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())
    folder = system_tmp / f"kata-data-{os.getuid()}-{made_by}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_uid != os.getuid() or folder.stat().st_mode & 0o077:
        return Path(tempfile.mkdtemp(prefix="kata-data-"))  # not ours alone: build in a private folder
    return folder


def dataset_file(scale: Scale, seed: int, large: bool = False) -> Path:
    """A pristine SQLite file for (scale, seed): built once (the large tables take seconds), then reused."""
    global _cache_dir
    key = (scale.name, seed, large)
    if key not in _built:
        if _cache_dir is None:
            _cache_dir = _cache_folder()
        path = _cache_dir / f"{dataset_name(scale, seed, large)}.sqlite3"
        if not path.is_file():
            partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
            partial.unlink(missing_ok=True)
            write_database(partial, scale, seed, large)
            os.replace(partial, path)  # whole or not at all, whoever else builds it meanwhile
        _built[key] = path
    return _built[key]


class Dataset:
    """The rows of a seeded dataset, indexed for reference implementations."""

    def __init__(self, scale: Scale, seed: int) -> None:
        self.scale, self.seed = scale, seed
        rows = generate_rows(scale, seed)
        self.organizations = {row["id"]: row for row in rows["organizations"]}
        self.users = {row["id"]: row for row in rows["users"]}
        self.projects = rows["projects"]
        self.tasks = rows["tasks"]

    def projects_of(self, org_id: int) -> list[dict]:
        return [p for p in self.projects if p["org_id"] == org_id]

    def tasks_of(self, project_id: int) -> list[dict]:
        return [t for t in self.tasks if t["project_id"] == project_id]

    @property
    def customers(self) -> list[dict]:
        return self._large()["customers"]

    @property
    def orders(self) -> list[dict]:
        return self._large()["orders"]

    def _large(self) -> dict[str, list[dict]]:
        if not hasattr(self, "_large_rows"):
            self._large_rows = generate_large_rows(self.seed)
        return self._large_rows

    def assignee_name(self, task: dict) -> str | None:
        user = self.users.get(task["assignee_id"])
        return user["name"] if user else None


_datasets: dict[tuple[str, int], Dataset] = {}


def dataset(scale: str, seed: int) -> Dataset:
    """The in-memory rows of (scale, seed), built once per process."""
    key = (scale, seed)
    if key not in _datasets:
        _datasets[key] = Dataset(parse_scale(scale), seed)
    return _datasets[key]
