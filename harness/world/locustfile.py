"""Locustfiles without Locust: the part of Locust's API a scenario uses, for the kata's load runner.

A locustfile (``from locust import HttpUser, task, between``) is loaded with
this module standing in for ``locust``, so the same file runs in real Locust
(``kata load --locust``) and on the world's virtual clock. Its task code is
ordinary synchronous code: the runner runs each user in a greenlet, and
``self.client.get(...)`` suspends that greenlet until the world has the
response (as gevent does for real Locust).

Differences from Locust, on purpose: every random draw of a user (its tasks,
its ``between`` wait) comes from that user's own seeded generator, so a run is
the same every time; ``TaskSet`` classes are not supported.
"""

from __future__ import annotations

import importlib.util
import inspect
import random
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class LocustfileError(Exception):
    """The locustfile cannot be loaded or has no user class: the message says which and why."""


class StopUser(Exception):  # noqa: N818 (Locust's name)
    """Raised in a user to stop it (Locust's ``StopUser``); also how the runner stops users at the end."""


class InterruptTaskSet(Exception):  # noqa: N818 (Locust's name)
    pass


# --- decorators and wait times ------------------------------------------------------


def task(weight: Any = 1) -> Any:
    """``@task`` or ``@task(3)``: a user's action, picked in proportion to its weight."""
    if callable(weight):
        weight.locust_task_weight = 1
        return weight

    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        function.locust_task_weight = int(weight)  # type: ignore[attr-defined]
        return function

    return mark


def tag(*tags: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        function.locust_tag_set = set(tags)  # type: ignore[attr-defined]
        return function

    return mark


def between(min_wait: float, max_wait: float) -> Callable[[Any], float]:
    """A think time drawn uniformly from [min_wait, max_wait] seconds (the user's own generator)."""

    def wait(user: Any) -> float:
        return float(min_wait + user.kata_random.random() * (max_wait - min_wait))

    wait.kata_between = (min_wait, max_wait)  # type: ignore[attr-defined]
    return wait


def constant(wait_time: float) -> Callable[[Any], float]:
    def wait(user: Any) -> float:
        return float(wait_time)

    wait.kata_between = (wait_time, wait_time)  # type: ignore[attr-defined]
    return wait


def constant_pacing(wait_time: float) -> Callable[[Any], float]:
    """A task every ``wait_time`` seconds, whatever the task took (0 if it took longer)."""

    def wait(user: Any) -> float:
        now = user.kata_now()
        last = getattr(user, "_kata_pacing_start", now)
        user._kata_pacing_start = max(now, last + wait_time)
        return max(0.0, last + wait_time - now)

    return wait


def constant_throughput(task_runs_per_second: float) -> Callable[[Any], float]:
    if task_runs_per_second <= 0:
        raise ValueError(f"constant_throughput() requires a positive rate, got: {task_runs_per_second}")
    return constant_pacing(1 / task_runs_per_second)


# --- users ---------------------------------------------------------------------------


class User:
    """Locust's ``User``: class attributes ``weight``, ``fixed_count``, ``wait_time``, ``tasks``, ``host``."""

    abstract = True
    weight = 1
    fixed_count = 0
    host: str | None = None
    tasks: Any = []
    wait_time: Callable[[Any], float] | None = constant(0)  # Locust's default: no think time at all

    def __init__(self, environment: Any = None) -> None:
        self.environment = environment
        self.kata_random = random.Random(0)
        self.kata_now: Callable[[], float] = lambda: 0.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "abstract" not in cls.__dict__:
            cls.abstract = False

    def on_start(self) -> None:
        """Once per user, before its first task (a login)."""

    def on_stop(self) -> None:
        """Once per user, when it stops."""

    def wait(self) -> None:  # a task may call it; the runner does the waiting
        self.environment.sleep(self.next_wait())

    def next_wait(self) -> float:
        if self.wait_time is None:
            raise LocustfileError(
                f"{type(self).__name__} has no wait_time: give it one (for example wait_time = between(1, 3))"
            )
        return float(type(self).wait_time(self))  # type: ignore[misc]


class HttpUser(User):
    """Locust's ``HttpUser``: ``self.client`` sends requests to the app under load."""

    abstract = True
    client: Any = None


FastHttpUser = HttpUser


class TaskSet:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise LocustfileError(
            "TaskSet classes are not supported by the kata's runner: put @task methods on the user class"
        )


SequentialTaskSet = TaskSet


class _Hook:
    def add_listener(self, function: Callable[..., Any]) -> Callable[..., Any]:
        return function

    def fire(self, **kwargs: Any) -> None:
        return None


class _Events:
    """``locust.events``: listeners are accepted and never called (the runner has its own report)."""

    def __getattr__(self, name: str) -> _Hook:
        return _Hook()


events = _Events()


# --- a loaded scenario ----------------------------------------------------------------


@dataclass(frozen=True)
class TaskSpec:
    name: str
    function: Callable[..., Any]
    weight: int


@dataclass(frozen=True)
class UserClass:
    cls: type[User]
    weight: int
    fixed_count: int
    tasks: tuple[TaskSpec, ...]
    think_time: tuple[float, float] | None  # (min, max) seconds where ``between``/``constant`` says it

    @property
    def name(self) -> str:
        return self.cls.__name__


@dataclass(frozen=True)
class Scenario:
    path: Path
    users: tuple[UserClass, ...]
    module: types.ModuleType


def tasks_of(cls: type[User]) -> tuple[TaskSpec, ...]:
    """A user class's tasks with their weights: ``@task`` methods (inherited ones too) and ``tasks``."""
    found: dict[str, TaskSpec] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            weight = getattr(value, "locust_task_weight", None)
            if weight is not None and callable(value):
                found[name] = TaskSpec(name, value, int(weight))
    declared = cls.__dict__.get("tasks") or getattr(cls, "tasks", None) or []
    weights: dict[Any, int] = {}
    if isinstance(declared, dict):
        weights = {function: int(weight) for function, weight in declared.items()}
    else:  # a list: each entry counts, so [a] * 5 + [b] * 3 weighs them 5:3, as in Locust
        for function in declared:
            weights[function] = weights.get(function, 0) + 1
    for function, weight in weights.items():
        if inspect.isclass(function):
            TaskSet()  # raises: not supported
        name = getattr(function, "__name__", repr(function))
        found[name] = TaskSpec(name, function, weight)
    return tuple(t for t in found.values() if t.weight > 0)


def _shim() -> types.ModuleType:
    module = types.ModuleType("locust")
    names = (
        "task tag between constant constant_pacing constant_throughput User HttpUser FastHttpUser TaskSet "
        "SequentialTaskSet events StopUser InterruptTaskSet"
    ).split()
    this = sys.modules[__name__]
    for name in names:
        setattr(module, name, getattr(this, name))
    module.__kata__ = True  # type: ignore[attr-defined]
    exception = types.ModuleType("locust.exception")
    exception.StopUser = StopUser  # type: ignore[attr-defined]
    exception.InterruptTaskSet = InterruptTaskSet  # type: ignore[attr-defined]
    module.exception = exception  # type: ignore[attr-defined]
    return module


@contextmanager
def _locust_is_the_shim() -> Iterator[None]:
    shim = _shim()
    saved = {name: sys.modules.get(name) for name in ("locust", "locust.exception")}
    sys.modules["locust"], sys.modules["locust.exception"] = shim, shim.exception
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def load(path: Path) -> Scenario:
    """Import the locustfile at ``path`` against the shim; its user classes with their tasks and weights."""
    if not path.is_file():
        raise LocustfileError(f"no locustfile at {path}")
    spec = importlib.util.spec_from_file_location(f"kata_locustfile_{abs(hash(str(path)))}", path)
    if spec is None or spec.loader is None:
        raise LocustfileError(f"{path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    with _locust_is_the_shim():
        try:
            spec.loader.exec_module(module)
        except LocustfileError:
            raise
        except ImportError as error:
            raise LocustfileError(
                f"{path.name} imports {error.name or error}: the kata's runner offers what a scenario uses "
                "from locust (HttpUser, task, between, constant, constant_pacing, events)"
            ) from None
        except Exception as error:
            raise LocustfileError(f"importing {path.name} failed: {type(error).__name__}: {error}") from None
    users = []
    for value in vars(module).values():
        if (
            inspect.isclass(value)
            and issubclass(value, User)
            and not value.abstract
            and value.__module__ == module.__name__
        ):
            tasks = tasks_of(value)
            if not tasks:
                raise LocustfileError(f"{value.__name__} in {path.name} has no tasks: mark its actions with @task")
            think = getattr(value.wait_time, "kata_between", None)
            users.append(UserClass(value, int(value.weight), int(value.fixed_count), tasks, think))
    if not users:
        raise LocustfileError(f"{path.name} defines no user class (a subclass of HttpUser with @task methods)")
    return Scenario(path, tuple(users), module)
