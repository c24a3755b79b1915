"""Submissions of exercise 09 (missing index), as edits of its solution."""

from corpus import Case

EXPRESSION_INDEX = '"CREATE INDEX IF NOT EXISTS ix_customers_email_lower ON customers (lower(email))",'
PLAIN_INDEX = '"CREATE INDEX IF NOT EXISTS ix_customers_email ON customers (email)",'
ORDERS_INDEX = '"CREATE INDEX IF NOT EXISTS ix_orders_customer_placed ON orders (customer_id, placed_on)",'
DROP_PLAIN = '    "DROP INDEX IF EXISTS ix_customers_email",\n'
LOWER_QUERY = "func.lower(Customer.email) == email.lower()"

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
}
