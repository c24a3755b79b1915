"""The simulated database: a real SQLAlchemy async engine whose statements cost time.

Every statement waits its modeled round trip (default 5 ms) where the driver
sends it (SQLAlchemy's ``do_execute`` dialect event) and is recorded, with
its fingerprint and the student's call site, on the request being measured.
A statement on a large table also pays for its plan (``harness.world.plans``): a
full scan by the row, an index search a constant. Apps get sessions with
``Depends(get_db)``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import warnings
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_

from harness.models import Base
from harness.settings import PlanCost, QueryLatency
from harness.world import measure
from harness.world.fingerprint import fingerprint
from harness.world.plans import PlanStep, mentions, read_plan

# An implicit lazy load in async code fails (MissingGreenlet, reported to the
# student) after aiosqlite created a cursor coroutine it never awaits: noise.
warnings.filterwarnings("ignore", message="coroutine 'Connection.cursor' was never awaited")


class Database:
    """An async engine with the latency model and query recording attached."""

    def __init__(
        self,
        url: str,
        latency: QueryLatency | None = None,
        plan_cost: PlanCost | None = None,
        count_scans: bool = False,
        **engine_kwargs: Any,
    ) -> None:
        self.url = url
        self.latency = latency or QueryLatency()
        self.plan_cost = plan_cost or PlanCost.from_env()
        # Tables with at least plan_cost.large_table_rows rows, and their counts (read by warm_up).
        self.large_tables: dict[str, int] = {}
        # Every table's row count; with ``count_scans`` every SELECT's plan is read (no cost on small
        # tables), so a full scan counts the rows it went through.
        self.table_rows: dict[str, int] = {}
        self.count_scans = count_scans
        if url.startswith("sqlite"):  # app hosts' reads run on the loop's thread (``run_on_sqlite``)
            engine_kwargs.setdefault("connect_args", {"check_same_thread": False})
        # Connections the database server accepts at once (None: no limit); app hosts' connections count.
        self.max_connections: int | None = None
        self.connections = 0
        # The world's own pool never makes an app host wait: the host's pool is the app's (``configure_pool``).
        engine_kwargs.setdefault("max_overflow", -1)
        self.engine: AsyncEngine = create_async_engine(url, **engine_kwargs)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._attach(self.engine)
        self._retired: list[AsyncEngine] = []

    def use_pool(self, options: dict[str, Any]) -> None:
        """In process (``kata serve``): the app's own pool settings (``harness.db.configure_pool``)."""
        self._retired.append(self.engine)
        connect = {"connect_args": {"check_same_thread": False}} if self.url.startswith("sqlite") else {}
        self.engine = create_async_engine(self.url, **options, **connect)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._attach(self.engine)

    def _attach(self, engine: AsyncEngine) -> None:
        sync_engine = engine.sync_engine

        @event.listens_for(sync_engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            conn.info["kata_query"] = (asyncio.get_running_loop().time(), 0.0, ())

        def round_trip(cursor, statement, *rest) -> bool:  # type: ignore[no-untyped-def]
            # The wait sits where the driver talks to the server, so an app's own
            # cursor events (a query profiler, Server-Timing) see it, as in reality.
            # We run inside SQLAlchemy's greenlet: await_ suspends this statement
            # on the event loop, like a network round trip.
            context = rest[-1]
            try:
                info = context.root_connection.info
            except NotImplementedError:
                # The dialect's first-connect checks (asyncpg's version, schema...): no request's
                # statement, and free, as if the engine were warm (it is, but for a pool the app
                # configured at import: configure_pool in process).
                return False
            cost = self.latency.seconds(statement)
            plan = self._plan(context, statement, rest[0] if len(rest) == 2 else None)
            cost += self.plan_cost.seconds(plan, self.table_rows)
            start = info.get("kata_query", (asyncio.get_running_loop().time(),))[0]
            info["kata_query"] = (start, cost, plan)
            if cost:
                await_(asyncio.sleep(cost))
            return False  # the driver still executes the statement

        for name in ("do_execute", "do_execute_no_params", "do_executemany"):
            event.listen(sync_engine, name, round_trip)

        @event.listens_for(sync_engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            # SQLAlchemy's async adapters fetch a result's rows as the statement runs (``_rows``).
            rows = getattr(cursor, "_rows", None)
            self._record(conn, statement, error=None, rows=len(rows) if rows is not None else 0)

        @event.listens_for(sync_engine, "commit")
        def committed(conn):  # type: ignore[no-untyped-def]
            self.record_commit()

        @event.listens_for(sync_engine, "handle_error")
        def failed(exception_context):  # type: ignore[no-untyped-def]
            conn = exception_context.connection
            statement = exception_context.statement
            if conn is not None and statement is not None:
                error = exception_context.original_exception
                self._record(conn, statement, error=f"{type(error).__name__}: {error}")

    def _plan(self, context: Any, statement: str, parameters: Any) -> list[PlanStep]:
        """The plan of a statement on a large table (others are not asked: no cost, no overhead)."""
        if context.executemany or not self._plans(statement):
            return []
        dbapi_connection = context.root_connection.connection.dbapi_connection
        try:
            plan = read_plan(dbapi_connection, context.dialect.name, statement, parameters or ())
            self._learn(_count_scanned(dbapi_connection, plan, self.table_rows))
            return plan
        except Exception:
            return []  # the statement itself will fail and say why

    def _learn(self, counted: dict[str, int]) -> None:
        """Row counts of tables first scanned now (made by the app, after the world opened)."""
        for table, rows in counted.items():
            self.table_rows[table] = rows
            if rows >= self.plan_cost.large_table_rows:
                self.large_tables[table] = rows

    def _record(self, conn: Any, statement: str, error: str | None, rows: int = 0) -> None:
        started = conn.info.pop("kata_query", None)
        if started is not None:
            start, cost, plan = started
            self._record_event(statement, start, cost, plan, error, rows)

    def _record_event(
        self, statement: str, start: float, cost: float, plan: Any, error: str | None, rows: int = 0
    ) -> None:
        requests = measure.charged()
        if not requests:
            return
        event = measure.QueryEvent(
            sql=statement,
            fingerprint=fingerprint(statement),
            start=start,
            end=asyncio.get_running_loop().time(),
            cost=cost,
            call_site=measure.call_site(),
            error=error,
            plan=tuple(step.detail for step in plan),
            rows=rows,
            scanned=sum(self.table_rows.get(step.table, 0) for step in plan if self._counts_scan(step)),
        )
        for metrics in requests:
            metrics.queries.append(event)

    async def run_on_sqlite(self, connection: Any, statement: str, parameters: Any, many: bool) -> dict[str, Any]:
        """A statement an app host sent, run on ``connection`` (an ``aiosqlite.Connection`` of this engine's
        pool) in one trip to its thread (two on a large table, whose plan is read first): charged and
        recorded exactly as the engine's events charge and record a statement run in process."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        plan: list[PlanStep] = []
        # A read runs here, on the loop's thread: a trip to aiosqlite's thread and back costs more real time
        # than the read itself (and under load there are thousands). A write keeps its thread, where waiting
        # for another connection's lock holds nobody else.
        read = not many and statement.lstrip()[:6].upper() in ("SELECT", "WITH")

        async def on_connection(fn: Any, *args: Any) -> Any:
            return fn(connection._conn, *args) if read else await connection._execute(fn, connection._conn, *args)

        if not many and self._plans(statement):
            plan, counted = await on_connection(_plan_of, statement, parameters, self.table_rows)
            self._learn(counted)
        cost = self.latency.seconds(statement) + self.plan_cost.seconds(plan, self.table_rows)
        if cost:
            await asyncio.sleep(cost)
        error, rows = None, 0
        try:
            result = dict(await on_connection(_run, statement, parameters, many))
            rows = len(result["rows"])
            return result
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._record_event(statement, start, cost, plan, error, rows)

    def _counts_scan(self, step: PlanStep) -> bool:
        """A full scan counts its table's rows: on SQLite always (its planner uses an index whenever one
        serves), on PostgreSQL for large tables only (its planner reads a small table whole by choice)."""
        if step.kind != "SCAN":
            return False
        rows = self.table_rows.get(step.table, 0)
        return self.engine.dialect.name == "sqlite" or rows >= self.plan_cost.large_table_rows

    def record_commit(self) -> None:
        """A transaction of the requests being charged committed now (not a query: no count, no cost)."""
        now = asyncio.get_running_loop().time()
        for metrics in measure.charged():
            metrics.commits.append(now)

    def _plans(self, statement: str) -> bool:
        """Whether a statement's plan is read (and paid for): one that reads or changes a large table."""
        head = statement.lstrip().upper()
        if self.count_scans:  # also what fills a table from a query (CREATE TABLE ... AS SELECT, INSERT ... SELECT)
            return head.startswith(("SELECT", "UPDATE", "DELETE", "WITH", "INSERT", "CREATE TABLE"))
        return (
            head.startswith(("SELECT", "UPDATE", "DELETE", "WITH"))
            and bool(self.large_tables)
            and mentions(statement, set(self.large_tables))
        )

    async def warm_up(self) -> None:
        """Open a pooled connection now, so first-connect work is not charged to a request.

        Also counts the rows of every table once: the plan cost of a scan.
        """
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
            for table in Base.metadata.sorted_tables:
                rows = await conn.scalar(select(func.count()).select_from(table)) or 0
                self.table_rows[table.name] = rows
                if rows >= self.plan_cost.large_table_rows:
                    self.large_tables[table.name] = rows

    async def dispose(self) -> None:
        for engine in [*self._retired, self.engine]:
            await engine.dispose()


def _plan_of(
    connection: sqlite3.Connection, statement: str, parameters: Any, known: dict[str, int]
) -> tuple[list[PlanStep], dict[str, int]]:
    """In the connection's thread: the statement's plan (none if it cannot be read: the statement will say
    why), and the row counts of the tables it scans that ``known`` does not have yet."""
    try:
        plan = read_plan(connection, "sqlite", statement, parameters or ())
        return plan, _count_scanned(connection, plan, known)
    except Exception:
        return [], {}


def _count_scanned(dbapi_connection: Any, plan: list[PlanStep], known: dict[str, int]) -> dict[str, int]:
    """Rows of each table the plan scans in full that is not in ``known`` (a table the app made)."""
    counted: dict[str, int] = {}
    for step in plan:
        if step.kind == "SCAN" and step.table not in known and step.table not in counted:
            if not step.table.replace("_", "").isalnum():
                continue  # a subquery or a temporary b-tree, not a table
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f'SELECT count(*) FROM "{step.table}"')
                counted[step.table] = int(cursor.fetchone()[0])
            except Exception:
                continue
            finally:
                cursor.close()
    return counted


def _run(connection: sqlite3.Connection, statement: str, parameters: Any, many: bool) -> dict[str, Any]:
    """In the connection's thread: run the statement, and everything the app host's cursor will be asked."""
    cursor = connection.executemany(statement, parameters) if many else connection.execute(statement, parameters)
    try:
        rows = [list(row) for row in cursor.fetchall()] if cursor.description else []
        description = [[column[0], None, None, None, None, None, None] for column in cursor.description or ()]
        return {
            "description": description or None,
            "rows": rows,
            "rowcount": cursor.rowcount,
            "lastrowid": cursor.lastrowid,
        }
    finally:
        cursor.close()
