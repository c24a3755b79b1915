"""Import a submission's app.py as a fresh module, with errors a student can read."""

from __future__ import annotations

import importlib.util
import itertools
import sys
import traceback
from pathlib import Path
from typing import Any

from harness import sites
from harness.catalog import SubmissionError

_counter = itertools.count(1)


def _where(exc: BaseException, app_file: Path) -> str:
    """' (app.py line 12)' for the innermost frame in the submission, if any."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == app_file]
    return f" ({app_file.name} line {frames[-1].lineno})" if frames else ""


def load_app(app_file: Path) -> Any:
    """Execute ``app_file`` as a new module and return its ``app`` object."""
    app_file = app_file.resolve()
    if not app_file.is_file():
        raise SubmissionError(f"there is no {app_file.name} at {app_file.parent}")
    source = app_file.read_text(encoding="utf-8", errors="replace")
    try:
        code = compile(source, str(app_file), "exec")
    except SyntaxError as exc:
        raise SubmissionError(f"{app_file.name} line {exc.lineno} has a syntax error: {exc.msg}") from None
    name = f"kata_submission_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, app_file)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(app_file.parent)
    sys.path.insert(0, folder)
    sites.watch_sources(app_file.parent)
    try:
        exec(code, module.__dict__)
    except SystemExit as exc:
        raise SubmissionError(f"importing {app_file.name} called sys.exit({exc.code!r})") from None
    except MemoryError:
        raise SubmissionError(f"importing {app_file.name} ran out of memory (the grading process's limit)") from None
    except BaseException as exc:  # any failure at import time is the submission's
        raise SubmissionError(
            f"importing {app_file.name} raised {type(exc).__name__}: {exc}{_where(exc, app_file)}"
        ) from None
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    app = getattr(module, "app", None)
    if app is None:
        raise SubmissionError(f"{app_file.name} defines no `app` (expected `app = FastAPI()`)")
    if not callable(app):
        raise SubmissionError(f"`app` in {app_file.name} is a {type(app).__name__}, not an ASGI app")
    return app
