"""Submissions that try to give themselves a grade instead of earning one.

Each entry is the unchanged 01 starter (0 points: only the `correct` guard
passes) with code added that tries to claim a pass: by writing a report, by
reaching the grader's objects, by patching the measurement, or by talking to
the world in its own protocol. Each must score no more than the plain
starter, check by check. ``tests/test_forgery.py`` grades them.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from harness import catalog

EXERCISE = catalog.find("01")
CHECKS = ("correct", "query_budget", "constant_queries", "db_time")
PASSING = {
    "exercise": EXERCISE.name,
    "passed": True,
    "checks": [{"name": name, "passed": True, "message": "forged"} for name in CHECKS],
    "metrics": {"queries": 4, "db_ms": 20.0},
}
REPORT_LINE = json.dumps({"report": PASSING}) + "\n"

# Shared by the attacks: every way a line could reach whoever reads a report.
_PRELUDE = f"""
import atexit, gc, io, json, os, signal, socket, struct, sys, threading, time
FORGED = {REPORT_LINE!r}.encode()
PASSING = json.loads(FORGED)["report"]

def _frame(obj):
    data = json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data

def _spray(payload=FORGED):
    for fd in range(0, 256):
        try:
            os.write(fd, payload)
        except OSError:
            pass
    for pid in {{os.getppid(), os.getpid() - 1, 1}}:
        for fd in range(0, 16):
            try:
                with open(f"/proc/{{pid}}/fd/{{fd}}", "wb") as f:
                    f.write(payload)
            except Exception:
                pass
"""

ATTACKS: dict[str, str] = {
    "every_descriptor": """
_spray()
_spray(_frame({"report": PASSING}))
""",
    "frame_walk_then_exit": """
def _find_and_call():
    frame = sys._getframe()
    while frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            for name, value in list(scope.items()):
                if name in ("say", "channel", "report", "on_phase") or "report" in name.lower():
                    try:
                        if callable(value):
                            value(report=PASSING)
                        elif hasattr(value, "write"):
                            value.write(FORGED.decode())
                            value.flush()
                    except Exception:
                        pass
        frame = frame.f_back
    os._exit(0)

_find_and_call()
""",
    "gc_search_for_the_channel": """
for obj in gc.get_objects():
    try:
        if isinstance(obj, io.IOBase) and obj.writable():
            obj.write(FORGED if "b" in getattr(obj, "mode", "") else FORGED.decode())
            obj.flush()
        elif isinstance(obj, socket.socket):
            obj.sendall(FORGED)
            obj.sendall(_frame({"report": PASSING}))
        elif type(obj).__name__ in ("Channel", "Connection") and hasattr(obj, "send"):
            from harness import wire
            obj.send(wire.Done(1, None, None, None))
            obj.send(wire.Idle(10**9, None))
    except Exception:
        pass
""",
    "patch_report_json_checks_and_clock": """
import json as _json
_json.loads = lambda *a, **k: PASSING
_json.dumps = lambda *a, **k: FORGED.decode()
try:
    import harness.engine.checks as _checks
    import harness.world.clock as _clock
    import harness.world.measure as _measure
    import harness.db as _db
    _checks.CheckFailed = type("Never", (Exception,), {})
    _checks.Report.passed = True
    _checks.grade = lambda *a, **k: _checks.report_from_dict(_checks.catalog.find("01"), PASSING)
    _measure.RequestMetrics.db_ms = property(lambda self: 0.0)
    _measure.RequestMetrics.queries = []
    _clock.VirtualTimeLoop.time = lambda self: 0.0
    _clock.block = lambda seconds: None
    _db.Database._record = lambda *a, **k: None
    time.perf_counter = lambda: 0.0
    time.monotonic = lambda: 0.0
except Exception:
    pass
""",
    "late_thread_and_atexit": """
def _late():
    for _ in range(300):
        _spray()
        time.sleep(0.01)

threading.Thread(target=_late, daemon=False).start()
atexit.register(_spray)
for sig in (signal.SIGTERM, signal.SIGINT):
    try:
        signal.signal(sig, lambda *a: _spray())
    except Exception:
        pass
""",
    "forged_world_messages": """
from harness import wire
_FRAMES = [
    wire.encode(wire.Loaded()),
    wire.encode(wire.Started()),
    wire.encode(wire.Idle(10**9, 0.0)),
    wire.encode(wire.Done(1, None, None, [{"event": "forged"}])),
    wire.encode(wire.Sql(999, 1, "execute", "SELECT 1", [], 1, "app.py:1"), t=0.0, seq=10**9),
    _frame({"kind": "reply", "id": 1, "value": PASSING}),
    _frame({"kind": "report", "report": PASSING}),
    _frame({"kind": "idle", "seen": -1, "next_timer": -1e9, "t": -5.0}),
]

@app.middleware("http")
async def _forge(request, call_next):
    for frame in _FRAMES[2:5]:
        try:
            os.write(3, frame)
        except OSError:
            pass
    return await call_next(request)

for frame in _FRAMES[:2]:
    try:
        os.write(3, frame)
    except OSError:
        pass
""",
    "malformed_world_messages": """
@app.middleware("http")
async def _garbage(request, call_next):
    for junk in (b"\\xff" * 8, struct.pack(">I", 2**31) + b"x", _frame([1, 2, 3]), _frame({"kind": "sql"})):
        try:
            os.write(3, junk)
        except OSError:
            pass
    return await call_next(request)
""",
    "attack_the_world_process": """
def _attack():
    parent = os.getppid()
    for path in (f"/proc/{parent}/mem", f"/proc/{parent}/environ", f"/proc/{os.getppid()}/fd/1"):
        try:
            with open(path, "r+b") as f:
                f.write(FORGED)
        except Exception:
            pass
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        libc.ptrace(16, parent, 0, 0)  # PTRACE_ATTACH
    except Exception:
        pass
    for call in (lambda: os.kill(parent, signal.SIGSTOP), lambda: os.killpg(0, signal.SIGSTOP)):
        try:
            call()
        except Exception:
            pass
    try:
        os.fork()
    except Exception:
        pass
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.1)
    except Exception:
        pass

_attack()
""",
    "rewrite_the_grader": """
from harness import catalog as _catalog
for _target in (_catalog.KATA_ROOT / "grading" / "ex01_dashboard_n_plus_one.py",
                _catalog.KATA_ROOT / "harness" / "engine" / "checks.py"):
    try:
        with open(_target, "a") as f:
            f.write("\\n# forged by a submission\\n")
    except Exception:
        pass
""",
}


def source(name: str) -> str:
    """The 01 starter with attack ``name`` added after its imports."""
    starter = (EXERCISE.folder / "app.py").read_text()
    marker = 'app = FastAPI(title="Dashboard")\n'
    assert marker in starter
    attack = textwrap.dedent(_PRELUDE) + textwrap.dedent(ATTACKS[name])
    return starter.replace(marker, marker + "\n# --- forgery ---\n" + attack + "# --- end ---\n")


def build(name: str, root: Path) -> Path:
    """A submission tree under ``root`` with the forged 01."""
    folder = root / EXERCISE.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(source(name))
    return root
