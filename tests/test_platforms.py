"""The course-staff kits as files: Gradescope's zip (tests/test_gradescope.py runs it), GitHub Classroom's workflow."""

import os
import subprocess
import sys
import zipfile

from conftest import ROOT

GRADESCOPE = ROOT / "autograder" / "gradescope"


def build(out, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(GRADESCOPE / "build_zip.py"), str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )


def test_gradescope_zip_has_the_kata_at_its_top_beside_the_scripts(tmp_path):
    out = tmp_path / "autograder.zip"
    build(out, "--hidden-seed", "31337")
    with zipfile.ZipFile(out) as archive:
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        seed = archive.read("kata-hidden-seed").decode().strip()
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert {
        "Makefile",
        "pyproject.toml",
        "harness/frontends/cli.py",
        "exercises/01_dashboard_n_plus_one/app.py",
    } <= set(modes)
    assert not any(name.startswith("source/") for name in modes)  # Gradescope unpacks into /autograder/source
    assert seed == "31337"


def test_gradescope_zip_never_carries_the_public_default_seed(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KATA_HIDDEN_SEED"}
    seeds = set()
    for i in range(2):
        proc = build(tmp_path / f"z{i}.zip", env=env)
        assert "chosen at random" in proc.stdout and "keep the zip private" in proc.stdout
        with zipfile.ZipFile(tmp_path / f"z{i}.zip") as archive:
            seeds.add(archive.read("kata-hidden-seed").decode().strip())
    assert len(seeds) == 2 and "2026" not in seeds
    proc = build(tmp_path / "env.zip", env={**env, "KATA_HIDDEN_SEED": "424242"})
    with zipfile.ZipFile(tmp_path / "env.zip") as archive:
        assert archive.read("kata-hidden-seed").decode().strip() == "424242"


def test_classroom_workflow_grades_with_a_pristine_kata():
    workflow = (ROOT / "autograder" / "github-classroom" / "classroom.yml").read_text()
    assert "path: submission" in workflow and "repository: ${{ env.KATA_REPOSITORY }}" in workflow
    assert "kata/.venv/bin/kata grade submission --single --out results" in workflow
    assert "secrets.KATA_HIDDEN_SEED" in workflow
    assert "A student can edit this file in their own repository" in workflow
    assert "token: ${{ secrets.KATA_TOKEN || github.token }}" in workflow  # the course's kata is private
