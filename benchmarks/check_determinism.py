"""20 runs of `kata check 02 --path solutions --json` with every core busy: identical metrics and messages?

.venv/bin/python benchmarks/check_determinism.py [NN] [--runs 20] [--path solutions]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import CpuLoad  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("exercise", nargs="?", default="02")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--path", default="solutions")
    args = parser.parse_args()
    kata = [sys.executable, "-c", "from harness.frontends.cli import main; main()"]
    seen = []
    with CpuLoad():
        for i in range(args.runs):
            start = time.perf_counter()
            out = subprocess.run(
                [*kata, "check", args.exercise, "--path", args.path, "--json"], cwd=ROOT, capture_output=True, text=True
            ).stdout
            report = json.loads(out)
            metrics = json.dumps(report["metrics"], sort_keys=True)
            # The messages carry the other scenarios' numbers (03: the request while a service hangs).
            seen.append(json.dumps(report, sort_keys=True))
            print(f"run {i + 1:2d}: {time.perf_counter() - start:5.2f} s wall  {metrics}")
    distinct = set(seen)
    print(f"{len(distinct)} distinct reports (metrics and messages) over {args.runs} runs with every core loaded")
    print(next(iter(distinct)) if len(distinct) == 1 else "")
    return 0 if len(distinct) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
