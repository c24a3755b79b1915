"""The course-staff kits: Gradescope's zip and run_autograder, GitHub Classroom's workflow."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT

from harness import catalog

GRADESCOPE = ROOT / "autograder" / "gradescope"


def test_gradescope_zip_has_the_scripts_on_top_and_the_kata_inside(tmp_path):
    out = tmp_path / "autograder.zip"
    subprocess.run([sys.executable, str(GRADESCOPE / "build_zip.py"), str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    with zipfile.ZipFile(out) as archive:
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert {"source/Makefile", "source/harness/cli.py", "source/exercises/01_dashboard_n_plus_one/app.py"} <= set(modes)


def test_run_autograder_grades_a_student_repository(tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copytree(ROOT / "solutions", root / "submission" / "exercises")  # a repository with fixed exercises
    kata = Path(sys.executable).parent / "kata"
    proc = subprocess.run(["bash", str(GRADESCOPE / "run_autograder")], capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "AUTOGRADER_ROOT": str(root), "KATA_BIN": str(kata)})
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == results["max_score"] == 10 * len(catalog.exercises())


def test_classroom_workflow_grades_with_a_pristine_kata():
    workflow = (ROOT / "autograder" / "github-classroom" / "classroom.yml").read_text()
    assert "path: submission" in workflow and "repository: ${{ env.KATA_REPOSITORY }}" in workflow
    assert "kata/.venv/bin/kata grade submission --out results" in workflow
    assert "secrets.KATA_HIDDEN_SEED" in workflow
