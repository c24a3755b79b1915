"""The one connection between the world and the app host: framing, values, typed messages.

Every message is a length-prefixed JSON object. JSON (never pickle) because
the world reads what an untrusted process wrote: a message is data, it can
only be well-formed or refused. Values JSON lacks (bytes, dates, decimals)
travel tagged, e.g. ``{"$b": "<base64>"}``.

Each message type is a frozen dataclass with a ``kind``; ``decode`` builds
exactly the declared fields and refuses anything else (``ProtocolError``).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import json
import struct
import uuid
from typing import Any, ClassVar

MAX_FRAME = 64 * 1024 * 1024  # bytes: a response body larger than this is refused, not buffered
_HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """A frame or message that does not follow the protocol."""


# --- values -------------------------------------------------------------------

_TAGS = ("$b", "$dt", "$d", "$t", "$dec", "$uuid", "$td")


def to_wire(value: Any, lenient: bool = False) -> Any:
    """A JSON-ready copy of ``value`` (``lenient``: unknown objects become their repr, for app output)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, list | tuple):
        return [to_wire(v, lenient) for v in value]
    if isinstance(value, dict):
        return {str(k): to_wire(v, lenient) for k, v in value.items()}
    if isinstance(value, datetime.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$d": value.isoformat()}
    if isinstance(value, datetime.time):
        return {"$t": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"$td": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {"$dec": str(value)}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if lenient:
        return repr(value)
    raise TypeError(f"cannot send a {type(value).__name__} between the world and the app host")


def from_wire(value: Any) -> Any:
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (tag, raw), *_ = value.items()
            if tag in _TAGS:
                return _untag(tag, raw)
        return {k: from_wire(v) for k, v in value.items()}
    return value


def _untag(tag: str, raw: Any) -> Any:
    try:
        if tag == "$b":
            return base64.b64decode(raw, validate=True)
        if tag == "$dt":
            return datetime.datetime.fromisoformat(raw)
        if tag == "$d":
            return datetime.date.fromisoformat(raw)
        if tag == "$t":
            return datetime.time.fromisoformat(raw)
        if tag == "$td":
            return datetime.timedelta(seconds=float(raw))
        if tag == "$dec":
            return decimal.Decimal(raw)
        return uuid.UUID(raw)
    except (TypeError, ValueError, decimal.InvalidOperation) as exc:
        raise ProtocolError(f"a malformed {tag} value") from exc


# --- messages -----------------------------------------------------------------

_KINDS: dict[str, type[Message]] = {}
_FIELDS: dict[type[Message], tuple[str, ...]] = {}  # each message type's field names, read once


def _fields(cls: type[Message]) -> tuple[str, ...]:
    if cls not in _FIELDS:
        _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return _FIELDS[cls]


@dataclasses.dataclass(frozen=True)
class Message:
    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _KINDS[cls.kind] = cls


# world -> app host (each frame also carries the world's time ``t`` and a sequence number ``seq``)


@dataclasses.dataclass(frozen=True)
class Start(Message):
    """Run the app's startup (lifespan); answered by ``Started``."""

    kind = "start"


@dataclasses.dataclass(frozen=True)
class Request(Message):
    """One HTTP request: an ASGI scope and its whole body."""

    kind = "request"
    request: int
    scope: dict[str, Any]
    body: bytes
    capture_logs: bool = False


@dataclasses.dataclass(frozen=True)
class Reply(Message):
    """The answer to the app host's ``Sql``, ``Call``, ``Redis``, ``Send`` or ``Block`` number ``id``."""

    kind = "reply"
    id: int
    value: Any = None
    error: dict[str, str] | None = None  # {"type": ..., "message": ...}


@dataclasses.dataclass(frozen=True)
class End(Message):
    """The end of one batch of the world's messages: everything the world sent at one quiet moment.
    The host runs a batch only once it has all of it, and only when it has nothing else to run."""

    kind = "end"


@dataclasses.dataclass(frozen=True)
class Tick(Message):
    """Time moved on to the app host's next timer (the frame's ``t``)."""

    kind = "tick"


@dataclasses.dataclass(frozen=True)
class Shutdown(Message):
    """Run the app's shutdown, then exit."""

    kind = "shutdown"


# app host -> world


@dataclasses.dataclass(frozen=True)
class Loaded(Message):
    """app.py was imported (``error``: why it could not be)."""

    kind = "loaded"
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class Started(Message):
    kind = "started"
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class Idle(Message):
    """Nothing to run and no thread work in flight, after the world's message ``seen``."""

    kind = "idle"
    seen: int
    next_timer: float | None = None


@dataclasses.dataclass(frozen=True)
class Sql(Message):
    """A DB-API operation on the app's connection ``conn``: connect, execute, executemany, commit, rollback, close."""

    kind = "sql"
    id: int
    conn: int
    op: str
    sql: str = ""
    params: Any = None
    request: int | None = None
    site: str = "?"


@dataclasses.dataclass(frozen=True)
class Call(Message):
    """An HTTP request to a partner service, on the app's connection ``connection`` (0: a new one)."""

    kind = "call"
    id: int
    method: str
    url: str
    headers: list[list[str]]
    body: bytes
    timeout: float | None
    connection: int
    request: int | None = None
    blocking: bool = False  # a synchronous client on the loop's own thread: the whole host waits


@dataclasses.dataclass(frozen=True)
class Cancel(Message):
    """The app gave up waiting for ``Call`` number ``id``."""

    kind = "cancel"
    id: int


@dataclasses.dataclass(frozen=True)
class Redis(Message):
    """Redis commands (one, or a pipeline's), each ``[name, *args]`` with its options."""

    kind = "redis"
    id: int
    commands: list[list[Any]]
    options: list[dict[str, Any]]
    request: int | None = None
    site: str = "?"


@dataclasses.dataclass(frozen=True)
class Send(Message):
    """An ASGI response message of ``request``; answered once its bytes are on the wire."""

    kind = "send"
    id: int
    request: int
    message: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Done(Message):
    """The app returned from ``request`` (``error``: the exception it raised, for the student's message)."""

    kind = "done"
    request: int
    error: str | None = None
    traceback: str | None = None
    logs: list[dict[str, Any]] | None = None


@dataclasses.dataclass(frozen=True)
class Block(Message):
    """``seconds`` of modeled blocking work; answered when they have passed. ``blocking``: on the loop's
    own thread, so the whole host waits (else a worker thread does, and the loop runs on)."""

    kind = "block"
    id: int
    seconds: float
    blocking: bool = True


# a users host (a locustfile that is a submission) <-> the world


@dataclasses.dataclass(frozen=True)
class Swarm(Message):
    """world -> users host: run the locustfile's users (``LoadOptions`` as a dict); answered by ``Swarmed``."""

    kind = "swarm"
    options: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Fetch(Message):
    """users host -> world: one request of a user, to the app under load; answered by a ``Reply`` with
    ``{"status", "headers", "body"}``. ``name`` is the locustfile's ``name=`` (its stats line)."""

    kind = "fetch"
    id: int
    method: str
    path: str
    headers: list[list[str]]
    body: bytes
    name: str | None = None


@dataclasses.dataclass(frozen=True)
class Swarmed(Message):
    """users host -> world: every user has stopped (``errors``: exceptions in its tasks, as it reports them)."""

    kind = "swarmed"
    errors: list[list[Any]] = dataclasses.field(default_factory=list)


# --- frames -------------------------------------------------------------------


def encode(message: Message, t: float | None = None, seq: int | None = None) -> bytes:
    body: dict[str, Any] = {"kind": message.kind}
    for name in _fields(type(message)):
        body[name] = to_wire(getattr(message, name), lenient=name == "logs")
    if t is not None:
        body["t"] = t
    if seq is not None:
        body["seq"] = seq
    data = json.dumps(body, separators=(",", ":")).encode()
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"a {message.kind} message of {len(data)} bytes is over the {MAX_FRAME}-byte limit")
    return _HEADER.pack(len(data)) + data


def decode(data: bytes) -> tuple[Message, float | None, int | None]:
    """A message and its time and sequence number; ``ProtocolError`` for anything malformed."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise ProtocolError("a frame that is not JSON") from exc
    if not isinstance(raw, dict):
        raise ProtocolError("a frame that is not an object")
    cls = _KINDS.get(raw.pop("kind", None))
    if cls is None or cls is Message:
        raise ProtocolError("a message of an unknown kind")
    t, seq = raw.pop("t", None), raw.pop("seq", None)
    names = _fields(cls)
    if not set(raw) <= set(names):
        raise ProtocolError(f"a {cls.kind} message with unknown fields {sorted(set(raw) - set(names))}")
    try:
        message = cls(**{k: from_wire(v) for k, v in raw.items()})
    except TypeError as exc:
        raise ProtocolError(f"a {cls.kind} message without its fields") from exc
    if t is not None and not isinstance(t, int | float):
        raise ProtocolError("a time that is not a number")
    return message, t, seq


class Framer:
    """Splits a byte stream into frames."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if size > MAX_FRAME:
                raise ProtocolError(f"a frame of {size} bytes is over the {MAX_FRAME}-byte limit")
            if len(self._buffer) < _HEADER.size + size:
                break
            frames.append(bytes(self._buffer[_HEADER.size : _HEADER.size + size]))
            del self._buffer[: _HEADER.size + size]
        return frames
