"""Plan-dependent cost: reading plans in either database's words, and what they cost."""

from harness.settings import PlanCost
from harness.world.plans import PlanStep, _postgres_steps, aliases, parse_details


def test_aliases_cover_joins_and_comma_lists():
    assert aliases("SELECT c.id FROM customers AS c, orders AS o WHERE c.id = o.customer_id") == {
        "customers": "customers",
        "c": "customers",
        "orders": "orders",
        "o": "orders",
    }
    found = aliases("SELECT 1 FROM customers LEFT OUTER JOIN orders AS orders_1 ON customers.id = orders_1.id")
    assert found["orders_1"] == "orders" and found["customers"] == "customers"


def test_sqlite_details_become_steps_on_real_table_names():
    steps = parse_details(
        ["SCAN o", "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)", "USE TEMP B-TREE FOR ORDER BY"],
        {"o": "orders", "c": "customers"},
    )
    assert steps == [
        PlanStep("SCAN", "orders", "SCAN orders"),
        PlanStep("SEARCH", "customers", "SEARCH customers USING INTEGER PRIMARY KEY (rowid=?)"),
    ]


def test_a_scan_of_a_large_table_costs_its_rows_and_small_tables_cost_nothing():
    cost = PlanCost(scan_us_per_row=2.0, search_ms=0.2, large_table_rows=10_000)
    rows = {"orders": 60_000, "customers": 20_000, "projects": 80}
    steps = [PlanStep("SCAN", "orders", ""), PlanStep("SEARCH", "customers", ""), PlanStep("SCAN", "projects", "")]
    assert round(cost.seconds(steps, rows) * 1000, 6) == 120.2


def test_postgres_index_walks_that_do_not_narrow_by_the_first_key_are_scans():
    keys = {"ix_orders_customer": "customer_id", "ix_orders_placed_customer": "placed_on", "ix_lower": "lower(email)"}

    def plan(node: dict) -> list[str]:
        return list(_postgres_steps([{"Plan": node}], keys.get))

    assert plan({"Node Type": "Seq Scan", "Relation Name": "orders"}) == ["SCAN orders"]
    narrowed = {
        "Node Type": "Index Scan",
        "Relation Name": "orders",
        "Index Name": "ix_orders_customer",
        "Index Cond": "(customer_id = $1)",
    }
    assert plan(narrowed) == ["SEARCH orders USING INDEX ix_orders_customer"]
    second_key = {**narrowed, "Index Name": "ix_orders_placed_customer"}
    assert plan(second_key) == ["SCAN orders USING INDEX ix_orders_placed_customer"]
    filter_only = {
        "Node Type": "Index Scan",
        "Relation Name": "orders",
        "Index Name": "ix_orders_customer",
        "Filter": "(status = 'paid')",
    }
    assert plan(filter_only) == ["SCAN orders USING INDEX ix_orders_customer"]
    expression = {
        "Node Type": "Bitmap Heap Scan",
        "Relation Name": "customers",
        "Plans": [
            {
                "Node Type": "Bitmap Index Scan",
                "Index Name": "ix_lower",
                "Index Cond": "(lower((email)::text) = 'a@b.c'::text)",
            }
        ],
    }
    assert plan(expression) == ["SEARCH customers USING INDEX ix_lower"]
