"""Busy processes that load every core, for determinism runs (stop with .stop())."""

from __future__ import annotations

import os
import subprocess
import sys

SPIN = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"


class CpuLoad:
    def __init__(self, processes: int | None = None, seconds: float = 600) -> None:
        count = processes or os.cpu_count() or 2
        self.procs = [subprocess.Popen([sys.executable, "-c", SPIN.format(seconds=seconds)]) for _ in range(count)]

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()

    def __enter__(self) -> CpuLoad:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
