"""PostgreSQL as the world's database, when KATA_DATABASE_URL is set.

Each dataset is seeded once into a template database (same rows as the
SQLite files, then ANALYZE); each world is a fresh ``CREATE DATABASE ...
TEMPLATE`` copy, dropped when the world closes, so writes never leak between
runs, as with the SQLite copies. Creating databases is serialized with an
advisory lock: graders run in parallel processes against one server.

The admin work runs on its own event loop in a worker thread: the virtual
clock counts it as thread work in flight and stands still meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any, cast

import asyncpg
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.schema import CreateIndex, CreateTable

from harness.catalog import KataError
from harness.models import Base
from harness.settings import without_password
from harness.world.seed import Scale, all_rows, dataset_name

_LOCK_KEY = 0x6B617461  # "kata": one lock for every kata process on the server


def database_url_from_env() -> str | None:
    """KATA_DATABASE_URL, checked: ``postgresql+asyncpg://user[:password]@host:port/database``."""
    url = os.environ.get("KATA_DATABASE_URL", "").strip()
    if not url:
        return None
    example = "postgresql+asyncpg://user@127.0.0.1:5432/postgres"
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 -- a port that is not a number fails here
    except (ArgumentError, ValueError):
        parsed = None
    if parsed is None or parsed.drivername != "postgresql+asyncpg":
        raise KataError(f"KATA_DATABASE_URL must look like {example}, got {without_password(url)!r}")
    return url


def _connect_kwargs(url: str, database: str | None = None) -> dict[str, Any]:
    parsed = make_url(url)
    return {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username,
        "password": parsed.password,
        "database": database or parsed.database or "postgres",
    }


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _seed_template(url: str, name: str, scale: Scale, seed: int, large: bool) -> None:
    conn = await asyncpg.connect(**_connect_kwargs(url, name))
    try:
        dialect = postgresql.dialect()
        for table in Base.metadata.sorted_tables:
            await conn.execute(str(CreateTable(table).compile(dialect=dialect)))
            for index in table.indexes:
                await conn.execute(str(CreateIndex(index).compile(dialect=dialect)))
        for model, rows in all_rows(scale, seed, large):
            if not rows:
                continue
            target = cast(Table, model.__table__)
            columns = [column.name for column in target.columns]
            records = [tuple(row[c] for c in columns) for row in rows]
            await conn.copy_records_to_table(target.name, records=records, columns=columns)
        for table in Base.metadata.sorted_tables:
            # Rows came with their ids: move each sequence past them, so the app's inserts work.
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {_quoted(table.name)}), 0) + 1, false)"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _create(url: str, scale: Scale, seed: int, large: bool) -> str:
    template = "kata_" + dataset_name(scale, seed, large).replace("-", "_")
    world = f"kata_w_{uuid.uuid4().hex[:16]}"  # unique across processes, containers and hosts
    admin = await asyncpg.connect(**_connect_kwargs(url))
    try:
        await admin.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", template):
                building = template + "_building"
                await admin.execute(f"DROP DATABASE IF EXISTS {_quoted(building)} WITH (FORCE)")
                await admin.execute(f"CREATE DATABASE {_quoted(building)} TEMPLATE template0")
                await _seed_template(url, building, scale, seed, large)
                await admin.execute(f"ALTER DATABASE {_quoted(building)} RENAME TO {_quoted(template)}")
                # Nobody connects to it any more: a stray session would block every copy,
                # and a submission could change the rows later runs start from.
                await admin.execute(f"ALTER DATABASE {_quoted(template)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
            await admin.execute(f"CREATE DATABASE {_quoted(world)} TEMPLATE {_quoted(template)}")
        finally:
            await admin.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await admin.close()
    return make_url(url).set(database=world).render_as_string(hide_password=False)


async def _drop(url: str, world_url: str) -> None:
    admin = await asyncpg.connect(**_connect_kwargs(url))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {_quoted(make_url(world_url).database or '')} WITH (FORCE)")
    finally:
        await admin.close()


async def create_world_database(url: str, scale: Scale, seed: int, large: bool) -> str:
    """A fresh database holding the seeded dataset; returns its SQLAlchemy URL."""
    try:
        return await asyncio.to_thread(asyncio.run, _create(url, scale, seed, large))
    except (OSError, asyncpg.PostgresError) as exc:
        raise KataError(
            f"cannot prepare a database on KATA_DATABASE_URL={without_password(url)}: {type(exc).__name__}: {exc}"
        ) from exc


async def drop_world_database(url: str, world_url: str) -> None:
    await asyncio.to_thread(asyncio.run, _drop(url, world_url))
