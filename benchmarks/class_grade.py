"""Wall time of `kata grade` over a generated class (the numbers in the closing notes come from here).

    .venv/bin/python benchmarks/class_grade.py [--students 30] [--jobs 2] [--distinct]

The class is tests/corpus.py's `build_class`: each student's exercise is the
starter, the solution or a wrong fix, so many exercise folders repeat and are
graded once. ``--distinct`` puts the student's name into every file: nothing
repeats, every exercise of every student gets its own grading process (the
worst case).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import corpus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", default="2")
    parser.add_argument("--distinct", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kata-class-"))
    corpus.build_class(work / "export", work / "scratch", args.students, distinct=args.distinct)
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from harness.frontends.cli import main; main()",
            "grade",
            str(work / "export"),
            "--out",
            str(work / "results"),
            "--jobs",
            args.jobs,
        ],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    summary = json.loads((work / "results" / "class.json").read_text())
    totals = sorted(s["score"] for s in summary["students"])
    print(
        json.dumps(
            {
                "students": args.students,
                "jobs": int(args.jobs),
                "distinct": args.distinct,
                "exit": proc.returncode,
                "wall_seconds": round(seconds, 1),
                "median_score": totals[len(totals) // 2],
                "results": str(work / "results"),
            }
        )
    )


if __name__ == "__main__":
    main()
