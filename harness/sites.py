"""Where in the student's code: the line that ran a query, the line that raised.

Used on both sides: the app host reports the call site of each statement it
sends, and an app run in process (``kata serve``, your tests) is measured
the same way.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from types import FrameType

import greenlet

# Folders whose files count as "the student's code" for call sites.
_source_roots: list[str] = []
_HARNESS_DIR = str(Path(__file__).resolve().parent)  # the harness itself is never the student's line


def watch_sources(folder: Path) -> None:
    """Attribute queries to files under ``folder`` (the submission)."""
    root = str(folder.resolve())
    if root not in _source_roots:
        _source_roots.insert(0, root)


def _frames() -> list[FrameType]:
    """The current stack, innermost first, across SQLAlchemy's greenlet hops.

    SQLAlchemy runs the ORM's sync code in a child greenlet; the coroutine
    that awaited it (the student's handler) sits in the parent greenlet's
    suspended frames.
    """
    frames: list[FrameType] = []
    frame: FrameType | None = sys._getframe(2)
    glet = greenlet.getcurrent()
    while True:
        while frame is not None:
            frames.append(frame)
            frame = frame.f_back
        glet = glet.parent
        if glet is None:
            return frames
        frame = glet.gr_frame


def _in_sources(filename: str) -> str | None:
    for root in _source_roots:
        if filename.startswith(root + os.sep):
            return os.path.relpath(filename, root)
    return None


def exception_site(exc: BaseException) -> str | None:
    """``app.py:41``: the innermost line of the student's code in a traceback."""
    site = None
    for entry in traceback.extract_tb(exc.__traceback__):
        relative = _in_sources(entry.filename)
        if relative is not None:
            site = f"{relative}:{entry.lineno}"
    return site


# Known pitfalls, explained where a student will read the error.
_EXPLANATIONS = {
    "MissingGreenlet": "an attribute was loaded lazily in async code: load that relationship eagerly "
    "(selectinload/joinedload) in the query",
}


def describe_exception(exc: BaseException) -> str:
    """One line: the exception's type and first line, the student's line, and a hint for known pitfalls."""
    first = (str(exc).strip().splitlines() or [""])[0]
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    site = exception_site(exc)
    if site:
        text += f" (at {site})"
    for marker, explanation in _EXPLANATIONS.items():
        if marker in text:
            text += f": {explanation}"
    return text


def call_site() -> str:
    """``app.py:41``: the innermost line of the student's code on the stack."""
    fallback = None
    for frame in _frames():
        filename = frame.f_code.co_filename
        relative = _in_sources(filename)
        if relative is not None:
            return f"{relative}:{frame.f_lineno}"
        if fallback is None and not filename.startswith(_HARNESS_DIR) and "site-packages" not in filename:
            if not filename.startswith("<"):
                fallback = f"{os.path.basename(filename)}:{frame.f_lineno}"
    return fallback or "?"
