"""The structlog lines an app writes while serving a request, as its own processors make them.

The app's processor chain runs unchanged (``merge_contextvars``, timestamps,
``format_exc_info``...); only its last step, the renderer, is wrapped to keep a
copy of the event it renders, for the request whose context logged it.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_lines: ContextVar[list[dict[str, Any]] | None] = ContextVar("kata_log_lines", default=None)


def _capture_before(renderer: Any) -> Any:
    def capture(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
        lines = _lines.get()
        if lines is None:
            return renderer(logger, method_name, event_dict)
        # ``log_level``: the method called (as structlog's capture_logs names it), even when the
        # app's chain adds no level of its own.
        line = {"log_level": method_name, **event_dict}
        lines.append(line)
        rendered = renderer(logger, method_name, event_dict)
        # ``_rendered``: the text the line is written as (a traceback really printed, or only ``true``).
        line["_rendered"] = rendered if isinstance(rendered, str) else _text(rendered)
        return rendered

    capture.__kata_capture__ = True  # type: ignore[attr-defined]
    return capture


def _text(rendered: Any) -> str:
    if isinstance(rendered, bytes):
        return rendered.decode("utf-8", "replace")
    return repr(rendered)  # a stdlib formatter's (args, kwargs), or whatever the last processor returns


def _wrap_renderer() -> None:
    import structlog

    # The configured list itself: loggers already bound (and cached) share it.
    processors = structlog.get_config()["processors"]
    if processors and not getattr(processors[-1], "__kata_capture__", False):
        processors[-1] = _capture_before(processors[-1])


@contextmanager
def request_lines() -> Iterator[list[dict[str, Any]]]:
    """The events logged inside the block (and in tasks and threads it starts), in order."""
    _wrap_renderer()  # again for each request: the app may have configured structlog since
    lines: list[dict[str, Any]] = []
    token = _lines.set(lines)
    try:
        yield lines
    finally:
        _lines.reset(token)
