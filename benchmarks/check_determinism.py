"""20 runs of `kata check 02 --path solutions --json` with every core busy: identical metrics?

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
    kata = [sys.executable, "-c", "from harness.cli import main; main()"]
    seen = []
    with CpuLoad():
        for i in range(args.runs):
            start = time.perf_counter()
            out = subprocess.run([*kata, "check", args.exercise, "--path", args.path, "--json"], cwd=ROOT,
                                 capture_output=True, text=True).stdout
            metrics = json.dumps(json.loads(out)["metrics"], sort_keys=True)
            seen.append(metrics)
            print(f"run {i + 1:2d}: {time.perf_counter() - start:5.2f} s wall  {metrics}")
    distinct = set(seen)
    print(f"{len(distinct)} distinct metrics over {args.runs} runs with every core loaded")
    return 0 if len(distinct) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
