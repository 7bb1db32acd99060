"""The release publishes what CHANGELOG.md says, on every Python the classifiers name."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import yaml

from mlgitops import __version__
from tests.support import REPO

SUPPORTED = ["3.10", "3.11", "3.12", "3.13", "3.14"]


def _release_notes() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release_notes", REPO / ".github" / "release_notes.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_changelog_has_notes_for_this_version() -> None:
    notes = _release_notes().section(__version__, (REPO / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert "### Added" in notes
    assert "## [" not in notes  # the section ends at the next heading


def test_a_version_without_notes_stops_the_release(tmp_path: Path) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## [0.2.0] - 2027-01-01\n\n## [0.1.0] - 2026-12-07\n- first\n")
    script = str(REPO / ".github" / "release_notes.py")
    empty = subprocess.run([sys.executable, script, "0.2.0", str(changelog)], capture_output=True, text=True, check=False)
    assert (empty.returncode, empty.stdout) == (1, "")
    assert "no '## [0.2.0]' section with notes" in empty.stderr
    missing = subprocess.run([sys.executable, script, "9.9.9", str(changelog)], capture_output=True, text=True, check=False)
    assert missing.returncode == 1
    found = subprocess.run([sys.executable, script, "0.1.0", str(changelog)], capture_output=True, text=True, check=False)
    assert (found.returncode, found.stdout) == (0, "- first\n")


def test_a_version_that_is_a_prefix_of_another_is_not_confused() -> None:
    changelog = "## [0.1.10] - x\n- ten\n## [0.1.1] - y\n- one\n"
    assert _release_notes().section("0.1.1", changelog) == "- one"


def test_classifiers_and_every_ci_matrix_name_the_same_pythons() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert re.findall(r"Programming Language :: Python :: (3\.\d+)\"", pyproject) == SUPPORTED
    ci = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    assert ci["jobs"]["test"]["strategy"]["matrix"]["python-version"] == SUPPORTED
    release = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    for job in ("test-sdist", "smoke-wheel"):
        assert release["jobs"][job]["strategy"]["matrix"]["python-version"] == SUPPORTED


def test_the_github_release_follows_pypi_and_uses_the_changelog() -> None:
    release = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    job = release["jobs"]["github-release"]
    assert job["needs"] == "publish"
    assert job["permissions"] == {"contents": "write"}
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert ".github/release_notes.py" in runs
    assert "gh release create" in runs and "--notes-file" in runs  # noqa: PT018


def test_the_sdist_manifest_ships_the_project_documents() -> None:
    manifest = (REPO / "MANIFEST.in").read_text(encoding="utf-8")
    for name in ("CHANGELOG.md", "SECURITY.md", "CONTRIBUTING.md"):
        assert (REPO / name).is_file()
        assert name in manifest
