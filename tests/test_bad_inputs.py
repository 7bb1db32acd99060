"""The bad-input corpus: every broken environment file and manifest gets its exact one-line error.

Each file in tests/bad_inputs/ starts with `# expect: <exit code> <first line of the report>`,
where {file} stands for the case's path and {rendered} for its rendered folder. Every case must
also finish quickly, print no traceback, and leave an existing rendered/ tree byte-identical.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.support import REPO, run_cli, write

CORPUS = REPO / "tests" / "bad_inputs"
ENVIRONMENT_CASES = sorted((CORPUS / "environments").iterdir())
MANIFEST_CASES = sorted((CORPUS / "manifests").iterdir())
TIMEOUT = 30


def _expectation(path: Path) -> tuple[int, str]:
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    assert first.startswith("# expect: "), f"{path.name} has no expectation line"
    code, _, line = first.removeprefix("# expect: ").partition(" ")
    return int(code), line


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_corpus_is_large_enough() -> None:
    assert len(ENVIRONMENT_CASES) >= 50
    assert len(MANIFEST_CASES) >= 30


@pytest.mark.parametrize("case", ENVIRONMENT_CASES, ids=[p.stem for p in ENVIRONMENT_CASES])
def test_broken_environment_file(tmp_path: Path, case: Path) -> None:
    code, line = _expectation(case)
    shutil.copytree(REPO / "rendered", tmp_path / "rendered")
    (tmp_path / "environments").mkdir()
    shutil.copy(case, tmp_path / "environments" / case.name)
    before = _digest(tmp_path / "rendered")
    result = run_cli("render", cwd=tmp_path, timeout=TIMEOUT)
    expected = line.replace("{file}", f"environments/{case.name}").replace("{rendered}", f"rendered/{case.stem}")
    assert result.exit_code == code, result.stderr
    assert result.stderr.splitlines()[0] == (f"error: {expected}" if code == 2 else expected)
    assert "Traceback" not in result.stderr
    assert _digest(tmp_path / "rendered") == before


@pytest.mark.parametrize("case", MANIFEST_CASES, ids=[p.name for p in MANIFEST_CASES])
def test_broken_manifest(tmp_path: Path, case: Path) -> None:
    code, line = _expectation(case)
    shutil.copy(case, tmp_path / case.name)
    result = run_cli("lint", case.name, cwd=tmp_path, timeout=TIMEOUT)
    expected = line.replace("{file}", case.name)
    assert result.exit_code == code, result.stdout + result.stderr
    report = result.stderr if code == 2 else result.stdout
    assert report.splitlines()[0] == (f"error: {expected}" if code == 2 else expected)
    assert "Traceback" not in result.stderr


BASE = 'namespace: ml\nkubernetesVersion: "1.32"\n'


def test_extends_cycle(tmp_path: Path) -> None:
    write(tmp_path / "environments" / "a.yaml", "extends: b.yaml\n" + BASE)
    write(tmp_path / "environments" / "b.yaml", "extends: a.yaml\n" + BASE)
    result = run_cli("render", "--env", "a", cwd=tmp_path, timeout=TIMEOUT)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: environments/b.yaml:1:10: extends: cycle environments/a.yaml -> environments/b.yaml -> environments/a.yaml"
    )


def test_symlinked_base_leading_outside(tmp_path: Path) -> None:
    write(tmp_path / "secrets.yaml", BASE)
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "base.yaml").symlink_to(tmp_path / "secrets.yaml")
    write(tmp_path / "environments" / "dev.yaml", "extends: base.yaml\n")
    result = run_cli("render", "--env", "dev", cwd=tmp_path, timeout=TIMEOUT)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: environments/dev.yaml:1:10: extends: 'base.yaml' leads outside environments/; bases must live inside "
        "that folder\n"
    )


def test_an_environment_file_linked_from_outside_is_not_read(tmp_path: Path) -> None:
    # Were it read, its keys would come back as "unknown field" messages in a public CI log.
    write(tmp_path / "home" / "credentials.yaml", "aws_secret_access_key: SENTINEL-4b7d\n")
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.yaml").symlink_to(tmp_path / "home" / "credentials.yaml")
    result = run_cli("render", cwd=tmp_path, timeout=TIMEOUT)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: environments/dev.yaml:1:1: this file is a symbolic link leading outside environments/; environment files "
        "must live inside that folder\n",
    )
    assert "SENTINEL" not in result.stdout + result.stderr


def test_a_base_that_is_a_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "base.yaml").symlink_to("base.yaml")
    write(tmp_path / "environments" / "dev.yaml", "extends: base.yaml\n" + BASE)
    result = run_cli("render", cwd=tmp_path, timeout=TIMEOUT)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: environments/dev.yaml:1:10: extends: 'base.yaml' is not a usable file name (a symlink loop)\n",
    )


def test_a_20_megabyte_environment_file_is_refused_quickly(tmp_path: Path) -> None:
    write(tmp_path / "environments" / "big.yaml", BASE + "labels:\n" + "".join(f"  k{i}: v\n" for i in range(2_000_000)))
    result = run_cli("render", cwd=tmp_path, timeout=TIMEOUT)
    assert result.exit_code == 2
    size = (tmp_path / "environments" / "big.yaml").stat().st_size
    assert result.stderr == (
        f"error: environments/big.yaml:1:1: file is {size:,} bytes; environment files are limited to 1,000,000 bytes "
        "(split it, or move data out of the spec)\n"
    )


def test_a_20_megabyte_manifest_is_refused_quickly(tmp_path: Path) -> None:
    write(tmp_path / "big.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  x: " + "a" * 21_000_000 + "\n")
    result = run_cli("lint", "big.yaml", cwd=tmp_path, timeout=TIMEOUT)
    assert result.exit_code == 2
    size = (tmp_path / "big.yaml").stat().st_size
    assert result.stderr == f"error: big.yaml:1:1: file is {size:,} bytes; mlgitops lints files up to 20,000,000 bytes\n"


def test_a_missing_path_and_an_unknown_format_are_usage_errors(tmp_path: Path) -> None:
    result = run_cli("lint", "nowhere", cwd=tmp_path, timeout=TIMEOUT)
    assert (result.exit_code, result.stderr) == (2, "error: nowhere: no such file or folder\n")
    result = run_cli("lint", ".", "--format", "xml", cwd=tmp_path, timeout=TIMEOUT)
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.stderr
