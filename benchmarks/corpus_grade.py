"""Every case of the submission corpus through `kata grade`, two at a time: exit codes, reasons, wall time.

.venv/bin/python benchmarks/corpus_grade.py [--time-limit 60]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import corpus  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-limit", default="60")
    args = parser.parse_args()
    kata = [sys.executable, "-c", "from harness.frontends.cli import main; main()"]
    work = Path(tempfile.mkdtemp(prefix="kata-corpus-"))

    def grade(name: str) -> tuple[str, int, float, str, bool]:
        case = corpus.CASES[name]
        tree = corpus.build(name, work / name)
        out = work / f"out-{name}"
        start = time.perf_counter()
        code = subprocess.run(
            [
                *kata,
                "grade",
                str(tree),
                "--out",
                str(out),
                "--exercise",
                case.exercise,
                "--time-limit",
                args.time_limit,
            ],
            cwd=ROOT,
            capture_output=True,
        ).returncode
        results = json.loads((out / "results.json").read_text())
        failed = [t for t in results["tests"] if t["status"] == "failed"]
        expected_pass = case.must_fail == set()
        honest = (not failed) == expected_pass and (expected_pass or results["score"] < results["max_score"])
        return name, code, time.perf_counter() - start, failed[0]["output"] if failed else "all checks pass", honest

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(grade, sorted(corpus.CASES)))
    total = time.perf_counter() - start
    for name, code, seconds, reason, honest in rows:
        print(f"{name:22} exit {code}  {seconds:5.1f} s  {'ok ' if honest else 'BAD'}  {reason[:110]}")
    bad = [r for r in rows if r[1] != 0 or not r[4]]
    print(
        f"{len(rows)} cases in {total:.1f} s wall (2 at a time, time limit {args.time_limit} s); "
        f"{len(bad)} with a non-zero exit or a false verdict"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
