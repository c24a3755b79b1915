"""Build Gradescope's autograder zip: setup.sh and run_autograder at the top (executable), the kata under source/.

    python3 autograder/gradescope/build_zip.py OUT.zip    (run from the repository; packs the committed HEAD)
"""

import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def main(out: Path) -> None:
    tree = subprocess.run(["git", "archive", "--format=tar", "HEAD"], check=True, capture_output=True).stdout
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive, tarfile.open(fileobj=io.BytesIO(tree)) as source:
        for script in ("setup.sh", "run_autograder"):
            add(archive, script, (HERE / script).read_bytes(), 0o755)
        for member in source.getmembers():
            if member.isfile():
                add(archive, f"source/{member.name}", source.extractfile(member).read(), member.mode & 0o777)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/gradescope-autograder.zip"))
