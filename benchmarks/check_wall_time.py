"""Wall time of `kata check NN` per exercise (the kata's own speed, not a grade).

.venv/bin/python benchmarks/check_wall_time.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from harness import catalog  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    kata = [sys.executable, "-c", "from harness.frontends.cli import main; main()"]
    print(f"{'exercise':28} {'tree':10} {'median s':>9} {'max s':>7}")
    for exercise in catalog.exercises():
        for tree in ("exercises", "solutions"):
            walls = []
            for _ in range(args.runs):
                start = time.perf_counter()
                subprocess.run(
                    [*kata, "check", exercise.number, "--path", tree, "--json"], cwd=ROOT, capture_output=True
                )
                walls.append(time.perf_counter() - start)
            print(f"{exercise.name:28} {tree:10} {statistics.median(walls):9.2f} {max(walls):7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
