"""The install line `init` writes is true: installed from git at a commit, init pins that commit, and the pinned line
installs again in a fresh virtual environment (issue 31's done-when). Dependencies come from this test run's
environment through a .pth line, so nothing is downloaded; mlgitops itself is built from the git commit."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from tests.support import REPO

NO_INDEX = {"PIP_CONSTRAINT": "", "PIP_FIND_LINKS": "", "PIP_EXTRA_INDEX_URL": "", "PIP_NO_INDEX": "1"}


def _venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300, capture_output=True)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The build uses the test run's setuptools (new enough for this pyproject.toml), not the venv's seeded one.
    subprocess.run([str(python), "-m", "pip", "uninstall", "-q", "-y", "setuptools"], capture_output=True, check=False)
    Path(site, "dependencies-of-the-test-run.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return python


def _pip_install(python: Path, requirement: str) -> None:
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", requirement],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, **NO_INDEX},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_a_git_install_pins_its_commit_and_that_line_installs_again(tmp_path: Path) -> None:
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode != 0:
        pytest.skip("not a git checkout (an unpacked sdist): nothing to install from git")
    commit = head.stdout.strip()
    # file://localhost/...: pip before 24 refuses a git+file URL with an empty host; git takes both spellings.
    requirement = f"mlgitops @ git+file://localhost{REPO.resolve().as_posix()}@{commit}"
    first = _venv(tmp_path / "first")
    _pip_install(first, requirement)
    mlgitops = first.parent / ("mlgitops.exe" if os.name == "nt" else "mlgitops")
    far = tmp_path / "far-away"
    far.mkdir()
    done = subprocess.run([str(mlgitops), "init", "fleet"], cwd=far, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "note:" not in done.stderr  # a git commit names exactly this code: nothing to warn about
    workflow = yaml.safe_load((far / "fleet" / ".github" / "workflows" / "mlgitops.yml").read_text(encoding="utf-8"))
    installs = [step["run"] for step in workflow["jobs"]["check"]["steps"] if "pip install" in step.get("run", "")]
    assert installs == [f'python -m pip install "{requirement}"']
    pre_commit = yaml.safe_load((far / "fleet" / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert pre_commit["repos"][0]["rev"] == commit
    # The line init wrote installs in a fresh environment.
    second = _venv(tmp_path / "second")
    _pip_install(second, installs[0].split('"')[1])
    version = subprocess.run([str(second), "-m", "mlgitops.cli", "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0, version.stderr
