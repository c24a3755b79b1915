"""Failure messages say what was measured, the budget and where to look; the how-to is in hints.md.

A message that spells out the fix (an API to call, code to write) takes the
exercise away before the student asked for a hint. Each exercise keeps a list
of such giveaways here: none may appear in a failure message of its grader,
and every one must appear in its hints.md, so `kata hint` still teaches it.

The messages are collected statically (every string that can end up in a
``CheckFailed``), and the starters of 03 and 05 are graded for real.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import ROOT

from harness import catalog
from harness.engine import checks
from harness.frontends import state

# Per exercise: the fix in code or in words. Case-insensitive substrings.
GIVEAWAYS: dict[str, tuple[str, ...]] = {
    "01": ("selectinload", "joinedload", ".options(", "eager"),
    "02": ("asyncio.gather", "concurrently", "lifespan", "module level", "reuse"),
    "03": (
        "asyncio.gather",
        "return_exceptions",
        "asyncio.wait_for",
        "httpx.Timeout",
        "timeout",
        "timed-out",
        "concurrently",
        "into null",
    ),
    "04": ("GZipMiddleware", "add_middleware", "minimum_size", "minimum size"),
    "05": (
        "perf_counter",
        "@app.middleware",
        "structlog.get_logger",
        "ainfo",
        "aexception",
        "exc_info",
        "request.url.path",
        "response.status_code",
        ":.2f",
        "catch",
        "yourself",
        "monotonic",
    ),
    "06": (
        "ContextVar",
        ".set(",
        "fresh holder",
        "before_cursor_execute",
        "after_cursor_execute",
        "sync_engine",
        "event hooks",
        "event_hooks",
        "wrapper",
        "perf_counter",
        "@app.middleware",
        "http.response.start",
        "lifespan",
    ),
    "07": (
        "ContextVar",
        "before_cursor_execute",
        "after_cursor_execute",
        "sync_engine",
        "event.listen",
        "perf_counter",
        "@app.middleware",
        "lifespan",
        "awarning",
        "most_common",
    ),
    "08": ("assert_max_queries", "constant_queries", "status code", "name them"),
    "09": ("create", "index the expression", "bare column", "comes first"),
    "10": ("cache.get", "cache.set", "cache.delete", "delete", "get_cache", "ex=", "org:"),
    "12": ("db.close()", "db.commit()", "db.begin()", "before the call", "short-lived session"),
    "11": ("run_in_threadpool", "to_thread", "run_in_executor", "AsyncClient", "thread pool", "`def`"),
    "13": ("on_start", "between(", "@task(", "weight = ", "name=", "random.randint"),
    "14": (
        "selectinload",
        "joinedload",
        "asyncio.gather",
        "GZipMiddleware",
        "CREATE INDEX",
        "AsyncClient",
        "run_in_threadpool",
        "lower(email)",
    ),
}
EXERCISES = {exercise.name[:2]: exercise for exercise in catalog.exercises()}
# Raise CheckFailed with (part of) what they are given.
HARNESS_RAISERS = {"assert_same_response", "compare_with_reference"}


def _raises_check_failed(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "CheckFailed"


def message_strings(path: Path) -> set[str]:
    """Every string literal (f-string parts included) that can end up in a CheckFailed message of ``path``.

    Starts from the arguments of each ``CheckFailed(...)`` and follows the names they use: local
    variables (every assignment and ``.append``/``.setdefault``... in the function), module constants, and the return
    values of module functions; plus the arguments of every call to a function that raises
    CheckFailed itself (a ``hint`` passed in, a ``what`` the message repeats).
    """
    tree = ast.parse(path.read_text())
    constants = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    raisers = HARNESS_RAISERS | {
        name for name, function in functions.items() if any(_raises_check_failed(n) for n in ast.walk(function))
    }
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def scope_of(node: ast.AST) -> ast.AST | None:
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    found: set[str] = set()
    seen: set[tuple[int, str]] = set()

    def follow(expression: ast.AST, scope: ast.AST | None) -> None:
        for node in ast.walk(expression):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
            elif isinstance(node, ast.Name):
                follow_name(node.id, scope)

    def follow_name(name: str, scope: ast.AST | None) -> None:
        if (id(scope), name) in seen:
            return
        seen.add((id(scope), name))
        if scope is not None:
            for node in ast.walk(scope):
                if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and node.value is not None:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if any(isinstance(n, ast.Name) and n.id == name for t in targets for n in ast.walk(t)):
                        follow(node.value, scope)
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("append", "extend", "add", "insert", "setdefault", "update")
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == name
                ):
                    for arg in node.args:
                        follow(arg, scope)
        if name in constants:
            follow(constants[name], None)
        if name in functions:
            function = functions[name]
            for node in ast.walk(function):
                if isinstance(node, ast.Return) and node.value is not None:
                    follow(node.value, function)

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if _raises_check_failed(node) or (isinstance(node.func, ast.Name) and node.func.id in raisers):
            for arg in [*node.args, *(keyword.value for keyword in node.keywords)]:
                follow(arg, scope_of(node))
    return found


def giveaways_in(text: str, number: str) -> list[str]:
    return [word for word in GIVEAWAYS[number] if word.lower() in text.lower()]


def grader_file(number: str) -> Path:
    return ROOT / "grading" / f"ex{EXERCISES[number].name}.py"


def test_every_exercise_has_a_list_of_giveaways():
    assert set(GIVEAWAYS) == set(EXERCISES)


def test_the_collector_finds_the_messages():
    """It sees through helpers and constants: a sample of strings known to reach a message."""
    strings = message_strings(grader_file("01"))
    assert any(" (budget " in s for s in strings)
    assert any("; repeated " in s for s in strings)  # from the helper _repeated
    strings = message_strings(grader_file("03"))
    assert any("degraded ==" in s for s in strings)  # _listing, via _expect_partial
    strings = message_strings(grader_file("09"))
    assert any("hides the column from an index on" in s for s in strings)  # why_scan, via found.setdefault


@pytest.mark.parametrize("number", sorted(GIVEAWAYS))
def test_failure_messages_do_not_give_the_fix_away(number):
    leaks = sorted(
        f"{word!r} in {text!r}" for text in message_strings(grader_file(number)) for word in giveaways_in(text, number)
    )
    assert not leaks, f"grading/ex{EXERCISES[number].name}.py: how-to belongs in hints.md:\n" + "\n".join(leaks)


@pytest.mark.parametrize("number", sorted(GIVEAWAYS))
def test_the_how_to_is_in_the_hints(number):
    hints = "\n".join(state.hints(EXERCISES[number])).lower()
    missing = [word for word in GIVEAWAYS[number] if word.lower() not in hints]
    assert not missing, f"{EXERCISES[number].name}/hints.md does not teach {missing}"


# A number, the budget (or what was expected instead), and where: the request, a line of app.py.
BUDGET = re.compile(r"\b(budget|expected|tolerance|threshold)\b")
NUMBER = re.compile(r"\d")


@pytest.mark.parametrize("number", ["03", "05"])
def test_the_starters_failures_measure_and_point_without_the_fix(number):
    exercise = EXERCISES[number]
    report = checks.grade(exercise, catalog.resolve_target("exercises"))
    failed = {result.name: result.message for result in report.checks if not result.passed}
    assert failed, report.to_json()
    for name, message in failed.items():
        assert not giveaways_in(message, number), f"{name}: {message}"
        assert NUMBER.search(message) and BUDGET.search(message), f"{name} lacks a number or the budget: {message}"
        assert "GET /organizations/" in message, f"{name} does not say which request: {message}"
    if number == "03":
        healthy, degraded = exercise.budget("max_healthy_external_ms"), exercise.budget("max_degraded_total_ms")
        assert f"budget {healthy:g} ms" in failed["fast_when_healthy"]
        assert f"budget {degraded:g} ms" in failed["one_service_hangs"]
        assert "(at app.py:" in failed["one_service_fails"]
    else:
        tolerance, threshold = exercise.budget("tolerance_ms"), exercise.budget("slow_request_ms")
        assert f"tolerance {tolerance:g} ms" in failed["header_matches_measurement"]
        assert f"threshold {threshold:g} ms" in failed["slow_flagged"]
        assert "GET /organizations/1/invoice (HTTP 500)" in failed["header_on_every_response"]
