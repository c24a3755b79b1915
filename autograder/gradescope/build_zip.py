"""Build Gradescope's autograder zip: the kata at the top, beside setup.sh and run_autograder.

    python3 autograder/gradescope/build_zip.py OUT.zip [--hidden-seed N]

Gradescope unpacks the zip into /autograder/source and runs setup.sh there, so
the kata's files (Makefile, pyproject.toml, harness/ ...) sit at the zip's top.
The files are the ones git tracks, as they are in the working copy. The hidden
seed (``--hidden-seed``, else KATA_HIDDEN_SEED, else a random one) is written
only into the zip (``kata-hidden-seed``): keep the zip private.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SEED_FILE = "kata-hidden-seed"


def add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def tracked_files() -> list[str]:
    listing = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True, capture_output=True).stdout
    return sorted(name for name in listing.decode().split("\0") if name and (ROOT / name).is_file())


def build(out: Path, hidden_seed: int) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        for script in ("setup.sh", "run_autograder"):
            add(archive, script, (HERE / script).read_bytes(), 0o755)
        add(archive, SEED_FILE, f"{hidden_seed}\n".encode(), 0o600)
        for name in tracked_files():
            path = ROOT / name
            add(archive, name, path.read_bytes(), 0o755 if os.access(path, os.X_OK) else 0o644)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", default=Path("build/gradescope-autograder.zip"))
    parser.add_argument("--hidden-seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.hidden_seed
    if seed is None and os.environ.get("KATA_HIDDEN_SEED", "").strip():
        try:
            seed = int(os.environ["KATA_HIDDEN_SEED"])
        except ValueError:
            sys.exit(f"KATA_HIDDEN_SEED must be a whole number, not {os.environ['KATA_HIDDEN_SEED']!r}")
    chosen = "given" if seed is not None else "chosen at random"
    seed = seed if seed is not None else secrets.randbelow(10**9)
    build(args.out, seed)
    print(f"wrote {args.out} (hidden seed {seed}, {chosen}; it is only in the zip: keep the zip private)")


if __name__ == "__main__":
    main()
