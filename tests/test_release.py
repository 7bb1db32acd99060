"""Release-ready: licence and metadata, one project home, declared imports, tested floors, and packages that work.

The sdist must carry everything the test suite reads; the wheel must install into a fresh virtual
environment and run far from this checkout (the release workflow does the same on every OS).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from mlgitops import HOME, __version__
from tests.support import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_licence_is_the_full_apache_2_text_and_the_metadata_says_so() -> None:
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence
    assert "Version 2.0, January 2004" in licence
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    assert len(licence) > 10_000
    project = PYPROJECT["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]


def test_metadata_has_urls_classifiers_and_one_version() -> None:
    project = PYPROJECT["project"]
    assert project["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "mlgitops.__version__"}
    urls = project["urls"]
    assert {"Homepage", "Repository", "Issues", "Documentation", "Changelog"} <= set(urls)
    assert all(url.startswith(HOME) for url in urls.values())
    classifiers = project["classifiers"]
    floor = project["requires-python"].removeprefix(">=")
    assert f"Programming Language :: Python :: {floor}" in classifiers
    assert "Typing :: Typed" in classifiers
    # PEP 639: the licence is the SPDX expression; a licence classifier beside it is an error for setuptools.
    assert not any(classifier.startswith("License ::") for classifier in classifiers)


def _text_files() -> Iterator[Path]:
    skip = {".git", ".venv", "rendered", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "out"}
    for path in sorted(REPO.rglob("*")):
        if (
            path.is_file()
            and not skip.intersection(path.relative_to(REPO).parts)
            and path.suffix in (".py", ".md", ".yml", ".yaml", ".toml", ".json", ".in", "")
        ):
            yield path


def test_one_project_home_everywhere() -> None:
    # Any GitHub repository named mlgitops, in any file: all the same home.
    pattern = re.compile(r"github\.com/([A-Za-z0-9_.-]+)/mlgitops(?![A-Za-z0-9_-])")
    homes: dict[str, list[str]] = {}
    for path in _text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for match in pattern.finditer(text):
            homes.setdefault(f"https://github.com/{match.group(1)}/mlgitops", []).append(str(path.relative_to(REPO)))
    assert set(homes) == {HOME}, homes
    assert {"README.md", "pyproject.toml"} <= set(homes[HOME])


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module → the package files that import it (at the top or lazily), stdlib and our own left out."""
    ours = {"mlgitops", "mlgitops_policies"}
    found: dict[str, set[str]] = {}
    for path in sorted((REPO / "generator").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ours and top != "__future__":
                    found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


def _requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_imported_package_is_a_declared_dependency() -> None:
    declared = {_requirement_name(requirement) for requirement in PYPROJECT["project"]["dependencies"]}
    distributions = metadata.packages_distributions()
    missing = {}
    for module, files in _third_party_imports().items():
        owners = {name.lower().replace("_", "-") for name in distributions.get(module, [module])}
        if not owners & declared:
            missing[module] = sorted(files)
    assert missing == {}
    assert "referencing" in declared
    assert "filelock" in declared


def test_every_package_folder_is_installed_under_the_import_name() -> None:
    folders = sorted(path.parent for path in (REPO / "generator").rglob("__init__.py") if "__pycache__" not in path.parts)
    expected = {".".join(("mlgitops", *folder.relative_to(REPO / "generator").parts)) for folder in folders}
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert expected - listed == set()
    assert PYPROJECT["tool"]["setuptools"]["package-dir"]["mlgitops"] == "generator"
    assert not any(name == "generator" or name.startswith("generator.") for name in listed)


def test_every_dependency_has_a_floor_and_ci_installs_exactly_the_floors() -> None:
    for requirement in PYPROJECT["project"]["dependencies"]:
        assert ">=" in requirement, f"{requirement}: a floor the lowest-versions job can test"
    jobs = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))["jobs"]
    lowest = jobs["lowest"]
    steps = lowest["steps"]
    python = [step["with"]["python-version"] for step in steps if "setup-python" in step.get("uses", "")]
    assert python == [PYPROJECT["project"]["requires-python"].removeprefix(">=")]
    script = "\n".join(step.get("run", "") for step in steps)
    assert "--resolution lowest-direct" in script
    assert "-e '.[test]'" in script
    assert "python -m pytest" in script


def test_no_module_on_a_command_path_imports_a_posix_only_module(tmp_path: Path) -> None:
    # As on Windows: fcntl, termios, pwd, grp and resource do not exist. Every module imports, and render works.
    script = (
        "import importlib, pkgutil, sys\n"
        "for name in ('fcntl', 'termios', 'pwd', 'grp', 'resource'):\n"
        "    sys.modules[name] = None\n"
        "import mlgitops\n"
        "for module in pkgutil.walk_packages(mlgitops.__path__, 'mlgitops.'):\n"
        "    importlib.import_module(module.name)\n"
        "from mlgitops.cli import main\n"
        "sys.argv = ['mlgitops', 'render', '-q']\n"
        "main()\n"
    )
    for name in ("environments", "rendered"):
        subprocess.run(["cp", "-r", str(REPO / name), str(tmp_path / name)], check=True)
    done = subprocess.run(
        # Without fcntl (and without Windows' msvcrt) filelock can only warn and fall back to its soft lock.
        [sys.executable, "-W", "ignore:only soft file lock is available:UserWarning", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "MLGITOPS_PROCESSES": "1"},
        check=False,
        timeout=300,
    )
    assert (done.returncode, done.stderr) == (0, "")
    posix_only = re.compile(r"^\s*(import|from)\s+(fcntl|termios|pwd|grp|resource)\b", re.MULTILINE)
    assert [str(p) for p in (REPO / "generator").rglob("*.py") if posix_only.search(p.read_text(encoding="utf-8"))] == []


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist, and the wheel built from the sdist (as `python -m build` does), of this tree."""
    out = tmp_path_factory.mktemp("dist")
    # Built from a copy: two test workers building in the checkout at once race on its egg-info folder.
    tree = tmp_path_factory.mktemp("tree") / "mlgitops"
    leftovers = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis")
    shutil.copytree(REPO, tree, ignore=leftovers, symlinks=True)
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(tree)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def test_the_sdist_carries_everything_the_test_suite_needs(dist: Path) -> None:
    with tarfile.open(dist / f"mlgitops-{__version__}.tar.gz") as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    needed = [
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "action.yml",
        ".pre-commit-hooks.yaml",
        ".github/workflows/release.yml",
        "tests/conftest.py",
        "tests/support.py",
        "tests/smoke_installed.py",
        "tests/edit/__snapshots__/test_corpus.ambr",
        "tests/policy/conftest.py",
        "environments/base.yaml",
        "environments/environment.schema.json",
        "rendered/prod/kustomization.yaml",
        "policies/policy.schema.json",
        "policies/gpu-limits.yaml",
        "benchmarks/fleet.py",
        "mkdocs.yml",
        "docs/usage.md",
        "docs/hooks.py",
    ]
    assert [name for name in needed if name not in names] == []
    folders = ("tests/bad_inputs", "tests/manifests", "tests/edit/corpus", "tests/upstream", "rendered", "environments")
    for folder in (*folders, "policies", "docs"):
        tracked = {path.relative_to(REPO).as_posix() for path in (REPO / folder).rglob("*") if path.is_file()}
        tracked = {name for name in tracked if "__pycache__" not in name}
        assert tracked - names == set(), folder
    # The ownership markers ship: without them the unpacked sdist's render --check and ownership tests fail.
    markers = {f"rendered/{root}/.mlgitops-owned" for root in ("dev", "staging", "prod", "argocd", "flux")}
    assert markers - names == set()


def test_the_wheel_installs_in_a_fresh_venv_and_runs_outside_the_checkout(dist: Path, tmp_path: Path) -> None:
    wheel = dist / f"mlgitops-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert f"mlgitops-{__version__}.dist-info/licenses/LICENSE" in names
    assert "mlgitops_policies/gpu-limits.yaml" in names
    assert "mlgitops/scaffold/pre-commit-config.yaml" in names
    assert {"mlgitops/kube/upstream_crds/index.json", "mlgitops/kube/upstream_crds/SOURCES.md"} <= names  # lint's CRDs
    assert len([name for name in names if name.startswith("mlgitops/kube/upstream_crds/") and name.endswith(".gz")]) > 50
    # The import name is mlgitops: no top-level `generator` package for another distribution to clash with.
    assert not any(name.startswith("generator/") for name in names)
    venv = tmp_path / "venv"
    # A venv with its own pip (ensurepip needs no network): the test run's environment may have none (uv).
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300, capture_output=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
        capture_output=True,
        env={**os.environ, "PIP_CONSTRAINT": "", "PIP_FIND_LINKS": "", "PIP_EXTRA_INDEX_URL": ""},
    )
    # Dependencies come from this test run's environment (no network); mlgitops itself only from the wheel:
    # a path added by a .pth line does not run that folder's own .pth files, so the editable install stays out.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "dependencies-of-the-test-run.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    workdir = tmp_path / "far-away"
    done = subprocess.run(
        [sys.executable, str(REPO / "tests" / "smoke_installed.py"), str(venv), str(workdir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ok: mlgitops, version {__version__}" in done.stdout
    for step in ("policy list", "init", "lint rendered: clean", "lint -o sarif"):
        assert f"ok: {step}" in done.stdout


def test_the_release_workflow_builds_tests_the_sdist_and_publishes_with_trusted_publishing() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    assert workflow[True]["push"]["tags"] == ["v*"]  # PyYAML reads the key `on` as True
    jobs = workflow["jobs"]
    assert "python -m build" in jobs["build"]["steps"][2]["run"]
    sdist = "\n".join(step.get("run", "") for step in jobs["test-sdist"]["steps"])
    assert "tar -xzf dist/mlgitops-*.tar.gz" in sdist
    assert ".venv/bin/python -m pytest" in sdist
    smoke = "\n".join(step.get("run", "") for step in jobs["smoke-wheel"]["steps"])
    assert "tests/smoke_installed.py --install dist/mlgitops-*.whl" in smoke
    assert set(jobs["smoke-wheel"]["strategy"]["matrix"]["os"]) == {"ubuntu-latest", "macos-latest", "windows-latest"}
    publish = jobs["publish"]
    assert set(publish["needs"]) == {"test-sdist", "smoke-wheel"}
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    assert publish["steps"][-1]["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert "with" not in publish["steps"][-1]  # no password: trusted publishing (OIDC)
    assert workflow["permissions"] == {}
