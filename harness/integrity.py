"""Tamper detection: a submission must leave the grader as shipped.

A submission runs in the grader's process, so it could monkeypatch the
measurement (make the clock stand still, drop the query listener, zero a
latency). Before the submission is imported, ``arm()`` fingerprints every
function, class and constant of the harness and the grading modules, plus the
library functions the measurement relies on. ``verify()`` compares; a change
fails the exercise with the name of what was changed. The simulated world adds
its own invariants (listeners attached, latencies unchanged) through
``add_invariant``.

This stops monkeypatching, not a submission that deliberately searches the
process memory for the grader's own state; the subprocess isolation of
``kata grade`` (an unprivileged user, the results file written by the parent)
is the layer that protects the results.
"""

from __future__ import annotations

import copy
import importlib
import sys
import types
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from harness.loader import SubmissionError

# Library functions the measurement depends on (module, attribute path).
LIBRARY = [
    ("asyncio", "sleep"),
    ("asyncio.tasks", "sleep"),
    ("asyncio", "wait_for"),
    ("asyncio", "gather"),
    ("asyncio", "get_running_loop"),
    ("asyncio.events", "get_running_loop"),
    ("asyncio.events", "_get_running_loop"),
    ("asyncio.base_events", "BaseEventLoop"),
    ("asyncio.selector_events", "BaseSelectorEventLoop"),
    ("asyncio", "Runner"),
    ("selectors", "DefaultSelector"),
    ("httpx", "ASGITransport"),
    ("httpx", "Response"),
    ("httpx", "ReadTimeout"),
    ("sqlalchemy.util", "await_"),
    ("sqlalchemy.util.concurrency", "await_"),
    ("sqlalchemy.event", "listen"),
    ("sqlalchemy.event", "contains"),
    ("json", "dumps"),
    ("json", "loads"),
]
_OWN_PACKAGES = ("harness", "grading")
_SCALARS = (int, float, str, bytes, bool, type(None), tuple, frozenset)


class TamperingDetected(SubmissionError):
    """The submission changed the grader; nothing it measured can be trusted."""


def _function_print(func: Any) -> tuple:
    code = getattr(func, "__code__", None)
    return (id(func), id(code), repr(getattr(func, "__defaults__", None)), repr(getattr(func, "__kwdefaults__", None)))


def _value_print(value: Any) -> Any:
    if isinstance(value, types.FunctionType | types.BuiltinFunctionType | types.MethodType):
        return _function_print(value)
    if isinstance(value, property):
        return ("property", *(_function_print(f) for f in (value.fget, value.fset, value.fdel) if f))
    if isinstance(value, staticmethod | classmethod):
        return ("wrapped", _function_print(value.__func__))
    if isinstance(value, type):
        return ("class", id(value), _class_print(value))
    if isinstance(value, types.ModuleType | ContextVar):
        return ("object", id(value))
    if isinstance(value, _SCALARS) or isinstance(value, dict | list):
        try:
            return ("value", repr(value))
        except Exception:  # noqa: BLE001 - an unprintable value is fingerprinted by identity
            return ("object", id(value))
    return None  # state that legitimately changes (instances, caches)


def _class_print(cls: type) -> tuple:
    return tuple(sorted((name, repr(_value_print(value))) for name, value in _class_attrs(cls)))


def _class_attrs(cls: type) -> list[tuple[str, Any]]:
    return [(name, value) for name, value in vars(cls).items() if name not in ("__dict__", "__weakref__", "__doc__")]


@dataclass(frozen=True)
class _Entry:
    """A fingerprint, and what it takes to put the original back."""

    fingerprint: Any
    owner: Any
    attr: str
    value: Any
    code: Any
    defaults: Any
    kwdefaults: Any


def _add(prints: dict[str, _Entry], name: str, owner: Any, attr: str, value: Any) -> None:
    """Fingerprint ``value``; a class also gets one entry per attribute, so a report names it."""
    fingerprint = _value_print(value)
    if fingerprint is None:
        return
    kept = copy.copy(value) if isinstance(value, dict | list) else value
    prints[name] = _Entry(
        fingerprint,
        owner,
        attr,
        kept,
        getattr(value, "__code__", None),
        getattr(value, "__defaults__", None),
        getattr(value, "__kwdefaults__", None),
    )
    if isinstance(value, type):
        for member_name, member in _class_attrs(value):
            _add(prints, f"{name}.{member_name}", value, member_name, member)


def _owner_and_value(module: str, path: str) -> tuple[Any, str, Any]:
    owner: Any = importlib.import_module(module)
    *parents, attr = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    return owner, attr, getattr(owner, attr)


def snapshot() -> dict[str, _Entry]:
    """Fingerprints of everything the grader's trust rests on."""
    prints: dict[str, _Entry] = {}
    for name, module in sorted(sys.modules.items()):
        if name.split(".")[0] not in _OWN_PACKAGES or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if attr.startswith("__"):
                continue
            if attr.startswith("_") and not callable(value) and not isinstance(value, ContextVar):
                continue  # private state: caches, the active database...
            _add(prints, f"{name}.{attr}", module, attr, value)
    for module_name, path in LIBRARY:
        try:
            owner, attr, value = _owner_and_value(module_name, path)
        except (ImportError, AttributeError):
            continue
        _add(prints, f"{module_name}.{path}", owner, attr, value)
    return prints


_baseline: dict[str, _Entry] | None = None
_invariants: list[tuple[str, Callable[[], bool]]] = []


def arm() -> None:
    """Take the reference fingerprints; call before any submission code runs."""
    global _baseline
    _baseline = snapshot()


def add_invariant(name: str, holds: Callable[[], bool]) -> Callable[[], None]:
    """Register a condition that must stay true; returns a function removing it."""
    entry = (name, holds)
    _invariants.append(entry)
    return lambda: _invariants.remove(entry) if entry in _invariants else None


def changes() -> list[str]:
    """Names of what changed since ``arm()`` (empty when intact or not armed)."""
    broken = [name for name, holds in list(_invariants) if not _safe(holds)]
    if _baseline is None:
        return broken
    now = snapshot()
    changed = [name for name, entry in _baseline.items() if _differs(now, name, entry)]
    # A changed class attribute also changes the class: name the attribute only.
    changed = [name for name in changed if not any(other.startswith(name + ".") for other in changed)]
    return changed + broken


def _safe(holds: Callable[[], bool]) -> bool:
    try:
        return bool(holds())
    except Exception:  # noqa: BLE001 - an invariant that cannot be evaluated does not hold
        return False


def _differs(now: dict[str, _Entry], name: str, entry: _Entry) -> bool:
    return name not in now or now[name].fingerprint != entry.fingerprint


def restore() -> None:
    """Put back everything changed since ``arm()``: the grading process outlives a tampering submission."""
    if _baseline is None:
        return
    now = snapshot()
    for name, entry in _baseline.items():
        if not _differs(now, name, entry):
            continue
        try:
            setattr(entry.owner, entry.attr, entry.value)
            if entry.code is not None:
                entry.value.__code__ = entry.code
                entry.value.__defaults__ = entry.defaults
                entry.value.__kwdefaults__ = entry.kwdefaults
        except (AttributeError, TypeError):
            continue


def verify() -> None:
    """Raise ``TamperingDetected`` naming what the submission changed."""
    changed = changes()
    if changed:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        raise TamperingDetected(
            f"tampering detected: the submission changed the grader's {shown}; "
            "grading only counts measurements made by the harness as shipped"
        )
