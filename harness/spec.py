"""An exercise's ``exercise.toml``, parsed once into a typed, frozen spec.

Every module reads an exercise through ``Spec`` (``exercise.spec``), never
through raw keys, and nothing can change it afterwards: budgets, weights and
baselines are read-only mappings. A malformed file is one sentence naming the
file and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any


class SpecError(ValueError):
    """exercise.toml is missing, not TOML, or lacks a key or a type: the message names which."""


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


@dataclass(frozen=True)
class Profile:
    """The request ``kata profile`` and the checks measure (``[profile]``)."""

    path: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    scale: str = "10x8"
    warm_up: int = 0  # identical requests sent first (a cache's steady state)


@dataclass(frozen=True)
class WorldOptions:
    """What the exercise's world needs beyond the shared domain (``[world]``)."""

    large_tables: bool = False
    cache: bool = False
    # Read the plan of every SELECT, so a full scan of any table counts its rows (``rows_examined``).
    count_scans: bool = False
    # Connections the database server accepts at once (PostgreSQL's max_connections); None: no limit.
    max_connections: int | None = None
    # Partner latencies other than the usual ones (``[world.partner_latency_ms]``: analytics = 120.0).
    partner_latency_ms: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class LoadSpec:
    """The load an exercise is graded under and ``kata load`` sends by default (``[load]``)."""

    locustfile: str = "locustfile.py"  # in the exercise's folder: the kata's scenario
    users: int = 50
    spawn_rate: float = 10.0
    duration: float = 60.0  # modeled seconds
    scale: str = "10x8"


@dataclass(frozen=True)
class Spec:
    number: str
    slug: str
    title: str
    profile: Profile
    budget: Mapping[str, Any]
    weights: Mapping[str, float]
    baseline: Mapping[str, Mapping[str, float]]
    world: WorldOptions = WorldOptions()
    load: LoadSpec | None = None
    lecture: tuple[str, ...] = ()
    endpoint: str = ""
    work_file: str = "app.py"  # the file the student works on
    starter_blob: str | None = None  # the pristine starter's git blob id (`kata reset`)
    # Real time a grading may take, as a multiple of the usual limit: an exercise whose checks run the
    # student's own tests several times (08) needs more, an endless loop is still stopped.
    time_limit_factor: float = 1.0

    def weight(self, check: str) -> float:
        return float(self.weights.get(check, 1))


def load(path: Path) -> Spec:
    """Parse ``path``; ``SpecError`` with the file and the key when it is wrong."""
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SpecError(f"{path} is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path} is not valid TOML: {exc}") from None
    try:
        return _parse(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"{path}: {exc}") from None


def _get(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise KeyError(f"{where}{key} is missing")
        return default
    value = table[key]
    if not isinstance(value, kind):
        raise TypeError(f"{where}{key} must be a {getattr(kind, '__name__', kind)}, not {type(value).__name__}")
    return value


def _parse(raw: Mapping[str, Any]) -> Spec:
    profile = _get(raw, "profile", dict, "", {})
    world = _get(raw, "world", dict, "", {})
    load = _get(raw, "load", dict, "", None)
    return Spec(
        number=str(_get(raw, "number", str, "")),
        slug=str(_get(raw, "slug", str, "")),
        title=str(_get(raw, "title", str, "", "")),
        profile=Profile(
            path=_get(profile, "path", str, "profile."),
            method=_get(profile, "method", str, "profile.", "GET"),
            headers=MappingProxyType(dict(_get(profile, "headers", dict, "profile.", {}))),
            scale=_get(profile, "scale", str, "profile.", "10x8"),
            warm_up=_get(profile, "warm_up", int, "profile.", 0),
        ),
        budget=_frozen(_get(raw, "budget", dict, "", {})),
        weights=_frozen({k: float(v) for k, v in _get(raw, "weights", dict, "", {}).items()}),
        baseline=_frozen(_get(raw, "baseline", dict, "", {})),
        world=WorldOptions(
            large_tables=_get(world, "large_tables", bool, "world.", False),
            cache=_get(world, "cache", bool, "world.", False),
            count_scans=_get(world, "count_scans", bool, "world.", False),
            max_connections=_get(world, "max_connections", int, "world.", None),
            partner_latency_ms=MappingProxyType(
                {str(k): float(v) for k, v in _get(world, "partner_latency_ms", dict, "world.", {}).items()}
            ),
        ),
        load=None
        if load is None
        else LoadSpec(
            locustfile=_get(load, "locustfile", str, "load.", "locustfile.py"),
            users=_get(load, "users", int, "load.", 50),
            spawn_rate=float(_get(load, "spawn_rate", (int, float), "load.", 10.0)),
            duration=float(_get(load, "duration", (int, float), "load.", 60.0)),
            scale=_get(load, "scale", str, "load.", "10x8"),
        ),
        lecture=tuple(_get(raw, "lecture", list, "", [])),
        time_limit_factor=float(_get(raw, "time_limit_factor", (int, float), "", 1.0)),
        endpoint=_get(raw, "endpoint", str, "", ""),
        work_file=_get(raw, "work_file", str, "", "app.py"),
        starter_blob=_get(raw, "starter_blob", str, "", None),
    )
