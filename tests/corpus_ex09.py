"""Submissions of exercise 09 (missing index), as edits of its solution."""

from corpus import ALL, Case, solution_block

EXPRESSION_INDEX = '"CREATE INDEX IF NOT EXISTS ix_customers_email_lower ON customers (lower(email))",'
PLAIN_INDEX = '"CREATE INDEX IF NOT EXISTS ix_customers_email ON customers (email)",'
ORDERS_INDEX = '"CREATE INDEX IF NOT EXISTS ix_orders_customer_placed ON orders (customer_id, placed_on)",'
DROP_PLAIN = '    "DROP INDEX IF EXISTS ix_customers_email",\n'
LOWER_QUERY = "func.lower(Customer.email) == email.lower()"
# The solution's MIGRATIONS and lifespan, replaced whole by the cases that build their indexes another way.
SCHEMA = solution_block("09", "# The app's schema migrations", "    yield\n")
CUSTOMER_QUERY = "    customer = await db.scalar(select(Customer).where(func.lower(Customer.email) == email.lower()))\n"
ORDERS_QUERY = solution_block("09", "    orders = await db.scalars(", "        .limit(10)\n    )\n")
HANDLER = '@app.get("/customers/lookup")\nasync def lookup_customer(email: str, db: AsyncSession = Depends(get_db)):\n'
# Index objects declared at module level (SQLAlchemy's own way of writing an index).
INDEX_OBJECTS = (
    "from sqlalchemy import Index\n"
    "from sqlalchemy.schema import CreateIndex\n\n"
    'ix_email = Index("ix_customers_email_lower", func.lower(Customer.email))\n'
    'ix_orders = Index("ix_orders_customer_placed", Order.customer_id, Order.placed_on)\n'
)


def schema(lifespan_body: str, declarations: str = INDEX_OBJECTS) -> list[tuple[str, str]]:
    """Replace the solution's MIGRATIONS and lifespan: ``declarations``, then a lifespan running ``lifespan_body``."""
    lifespan = "@asynccontextmanager\nasync def lifespan(app: FastAPI):\n" + lifespan_body + "    yield\n"
    return [(SCHEMA, declarations + "\n\n" + lifespan)]


MIGRATIONS_RUN = "    async with engine().begin() as conn:\n        for statement in MIGRATIONS:\n"

CASES = {
    "09_plain_index_lower_query": Case(
        "09",
        "solutions",
        [(DROP_PLAIN, ""), (EXPRESSION_INDEX, PLAIN_INDEX)],
        {"uses_index", "db_time"},
        "runs SCAN customers, reading all 20,000 rows: lower(email) hides the column from an index on email",
        "an index on email while the query compares lower(email): the index is never used",
    ),
    "09_customers_index_only": Case(
        "09",
        "solutions",
        [(ORDERS_INDEX, "")],
        {"uses_index", "db_time"},
        "runs SCAN orders, reading all 60,000 rows: no index on orders starts with customer_id",
        "the customer is found through an index, their orders still by reading all 60,000",
    ),
    "09_index_columns_reversed": Case(
        "09",
        "solutions",
        [(ORDERS_INDEX, '"CREATE INDEX IF NOT EXISTS ix_orders_placed_customer ON orders (placed_on, customer_id)",')],
        {"uses_index", "db_time"},
        "runs SCAN orders",
        "both columns indexed, in the wrong order: the filter is on the second key, so the whole index is read",
    ),
    "09_index_on_placed_on": Case(
        "09",
        "solutions",
        [(ORDERS_INDEX, '"CREATE INDEX IF NOT EXISTS ix_orders_placed_on ON orders (placed_on)",')],
        {"uses_index", "db_time"},
        "runs SCAN orders",  # SQLite: SCAN orders USING INDEX ix_orders_placed_on; PostgreSQL: a Seq Scan
        "an index on the ORDER BY column only: SQLite walks it in date order, still every row; PostgreSQL scans",
    ),
    "09_rewritten_query_plain_index": Case(
        "09",
        "solutions",
        [(DROP_PLAIN, ""), (EXPRESSION_INDEX, PLAIN_INDEX), (LOWER_QUERY, "Customer.email == email.lower()")],
        set(),
        why="a plain index on email and the bare column compared with the lower-cased input "
        "(the stored emails are lower-case): passes",
    ),
    "09_rewritten_query_case_sensitive": Case(
        "09",
        "solutions",
        [(DROP_PLAIN, ""), (EXPRESSION_INDEX, PLAIN_INDEX), (LOWER_QUERY, "Customer.email == email")],
        {"correct"},
        "(public data; the same address typed in mixed case) returned HTTP 404, expected 200",
        "the query rewritten for the plain index, but the typed address is no longer lower-cased",
    ),
    "09_order_left_to_the_index": Case(
        "09",
        "solutions",
        [("        .order_by(Order.placed_on.desc(), Order.id.desc())\n", "")],
        {"correct"},
        "differs from the reference at recent_orders[",
        "ORDER BY dropped because the index holds the orders by date: they come out oldest first",
    ),
    # --- ways of building the indexes: each one passes -------------------------------------------
    "09_index_objects_if_not_exists": Case(
        "09",
        "solutions",
        schema(
            "    async with engine().begin() as conn:\n"
            "        for index in (ix_email, ix_orders):\n"
            "            await conn.execute(CreateIndex(index, if_not_exists=True))\n"
        ),
        set(),
        why="Index objects at module level, built in the lifespan with CreateIndex(..., if_not_exists=True): passes",
    ),
    "09_index_objects_checkfirst": Case(
        "09",
        "solutions",
        schema(
            "    async with engine().begin() as conn:\n"
            "        for index in (ix_email, ix_orders):\n"
            "            await conn.run_sync(index.create, checkfirst=True)\n"
        ),
        set(),
        why="Index objects at module level, built in the lifespan with Index.create(checkfirst=True): passes",
    ),
    "09_raw_ddl_in_lifespan": Case(
        "09",
        "solutions",
        schema(
            "    async with engine().connect() as conn:\n"
            '        await conn.execute(text("CREATE INDEX IF NOT EXISTS ix_lower ON customers (lower(email))"))\n'
            '        await conn.execute(text("CREATE INDEX IF NOT EXISTS ix_orders_cust ON orders (customer_id)"))\n'
            "        await conn.commit()\n",
            declarations="from sqlalchemy import text\n",
        ),
        set(),
        why="no MIGRATIONS list: raw CREATE INDEX IF NOT EXISTS in the lifespan, committed by hand: passes",
    ),
    "09_collate_nocase": Case(
        "09",
        "solutions",
        [
            (
                EXPRESSION_INDEX,
                '"CREATE INDEX IF NOT EXISTS ix_customers_email_nocase ON customers (email COLLATE NOCASE)",',
            ),
            (LOWER_QUERY, 'Customer.email.collate("NOCASE") == email'),
        ],
        set(),
        why="a NOCASE index and a NOCASE comparison (SQLite's case-insensitive collation; the addresses are ASCII): "
        "the same rows, an index search: passes",
    ),
    "09_unique_expression_index": Case(
        "09",
        "solutions",
        [(EXPRESSION_INDEX, EXPRESSION_INDEX.replace("CREATE INDEX", "CREATE UNIQUE INDEX"))],
        set(),
        why="the expression index declared UNIQUE (the addresses are unique): passes",
    ),
    "09_orders_index_customer_id_only": Case(
        "09",
        "solutions",
        [(ORDERS_INDEX, '"CREATE INDEX IF NOT EXISTS ix_orders_customer ON orders (customer_id)",')],
        set(),
        why="orders indexed on customer_id alone: an index search, then a sort of the customer's few orders: passes",
    ),
    # --- an index that exists only in Python ---------------------------------------------------
    "09_index_declared_never_built": Case(
        "09",
        "solutions",
        schema(""),
        {"uses_index", "db_time"},
        "Indexes in the world's database once the app had started: customers: none; orders: none",
        "Index objects declared at module level and never built in the database: both queries still scan",
    ),
    "09_index_objects_create_all": Case(
        "09",
        "solutions",
        schema(
            "    async with engine().begin() as conn:\n        await conn.run_sync(Base.metadata.create_all)\n",
            declarations=INDEX_OBJECTS + "from harness.models import Base\n",
        ),
        {"uses_index", "db_time"},
        "Indexes in the world's database once the app had started: customers: none; orders: none",
        "metadata.create_all skips the tables that exist, and with them their new indexes: both queries still scan",
    ),
    # --- a migration that fails ----------------------------------------------------------------
    "09_migration_typo": Case(
        "09",
        "solutions",
        [("ON orders (customer_id, placed_on)", "ON orders (customer_id, placed_onn)")],
        ALL,
        "the app's startup failed: OperationalError: (sqlite3.OperationalError) no such column: placed_onn (at app.py:",
        "a typo in a migration: the startup fails, every check fails with the same sentence",
    ),
    # --- work moved out of sight: each one fails ------------------------------------------------
    "09_orders_sorted_in_python": Case(
        "09",
        "solutions",
        [
            (
                ORDERS_QUERY,
                "    orders = (await db.scalars(select(Order).where(Order.customer_id == customer.id))).all()\n"
                "    orders = sorted(orders, key=lambda o: (o.placed_on, o.id), reverse=True)[:10]\n",
            )
        ],
        {"rows_read"},
        "with 40 orders) read 41 rows from the database (budget 22",
        "ORDER BY and LIMIT dropped, the customer's orders sorted and cut in Python: the same answer, every order read",
    ),
    "09_email_map_at_startup": Case(
        "09",
        "solutions",
        [
            ("app = FastAPI(", "EMAIL_TO_ID: dict[str, int] = {}\n\napp = FastAPI("),
            (
                "            await conn.exec_driver_sql(statement)\n",
                "            await conn.exec_driver_sql(statement)\n"
                "        for cid, address in (await conn.execute(select(Customer.id, Customer.email))).all():\n"
                "            EMAIL_TO_ID[address.lower()] = cid\n",
            ),
            (
                CUSTOMER_QUERY,
                "    cid = EMAIL_TO_ID.get(email.lower())\n"
                "    customer = await db.get(Customer, cid) if cid is not None else None\n",
            ),
        ],
        {"startup_work", "after_writes"},
        "rows from the database outside any request (its startup, or tasks of its own between requests; budget 200)",
        "an e-mail-to-id map read at startup, the customer then fetched by primary key: the startup reads the "
        "whole table, and a customer added later is a 404",
    ),
    "09_customers_table_at_startup": Case(
        "09",
        "solutions",
        [
            ("app = FastAPI(", "CUSTOMERS: dict = {}\n\napp = FastAPI("),
            (
                "            await conn.exec_driver_sql(statement)\n",
                "            await conn.exec_driver_sql(statement)\n"
                "    async with AsyncSession(engine()) as session:\n"
                "        CUSTOMERS.update({c.email: c for c in (await session.scalars(select(Customer))).all()})\n",
            ),
            (CUSTOMER_QUERY, "    customer = CUSTOMERS.get(email.lower())\n"),
        ],
        {"startup_work", "after_writes"},
        "(a customer added to the database after the app started, with 40 orders) returned HTTP 404, expected 200",
        "the whole customers table read at startup into a dict: a customer added later is a 404",
    ),
    "09_answers_kept_in_a_dict": Case(
        "09",
        "solutions",
        [
            (
                HANDLER,
                "ANSWERS: dict = {}\n\n\n"
                + HANDLER
                + "    if email.lower() in ANSWERS:\n        return ANSWERS[email.lower()]\n",
            ),
            ('    return {\n        "customer"', '    ANSWERS[email.lower()] = {\n        "customer"'),
            ("        ],\n    }\n", "        ],\n    }\n    return ANSWERS[email.lower()]\n"),
        ],
        {"after_writes"},
        "(the busiest customer again, after a newer order was added) differs from the reference at recent_orders[0]",
        "answers kept in a module dict by address: the second lookup misses the order added since",
    ),
    "09_table_loaded_on_first_request": Case(
        "09",
        "solutions",
        [
            (
                HANDLER,
                "BY_EMAIL: dict = {}\n\n\n" + HANDLER + "    if not BY_EMAIL:\n"
                "        BY_EMAIL.update({c.email: c for c in (await db.scalars(select(Customer))).all()})\n",
            ),
            (CUSTOMER_QUERY, "    customer = BY_EMAIL.get(email.lower())\n"),
        ],
        {"rows_read", "after_writes"},
        "orders) read 20,010 rows from the database (budget 22: a lookup shows one customer and at most 10 orders)",
        "the customers table loaded into a dict by the first request: that request reads every customer",
    ),
}
