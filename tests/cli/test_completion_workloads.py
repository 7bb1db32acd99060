"""Workload names complete for `set` and `promote` in bash, zsh and fish (click answers each shell's protocol)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlgitops.commands.completion import workload_names
from tests.support import REPO, run_cli


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    return tmp_path


def _complete(shell: str, words: str, cwd: Path) -> list[str]:
    # bash and zsh pass the index of the word being completed; fish passes the word itself.
    cword = words.split(" ")[-1] if shell == "fish" else str(len(words.split(" ")) - 1)
    env = {"_MLGITOPS_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    result = run_cli(cwd=cwd, env=env)
    assert result.exit_code == 0, result.stderr
    if shell == "bash":
        return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]
    if shell == "zsh":  # type, value, help: three lines per item
        lines = result.stdout.splitlines()
        return [lines[index + 1] for index in range(0, len(lines), 3)]
    return [line.split(",", 1)[1].split("\t")[0] for line in result.stdout.splitlines() if line]  # fish: type,value[\thelp]


def test_names_come_from_the_environment_and_the_files_it_extends(fleet: Path) -> None:
    prod = workload_names(fleet / "environments", "prod")
    base_only = workload_names(fleet / "environments", "base")
    assert set(base_only) <= set(prod)
    assert prod
    assert workload_names(fleet / "environments", None) == sorted(
        set().union(*(workload_names(fleet / "environments", path.stem) for path in (fleet / "environments").glob("*.yaml")))
    )


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_set_image_completes_workload_names_in_every_shell(fleet: Path, shell: str) -> None:
    names = workload_names(fleet / "environments", "dev")
    first = names[0]
    completed = _complete(shell, f"mlgitops set image -e dev {first[:3]}", fleet)
    assert first in completed
    assert all(name.startswith(first[:3]) for name in completed)


def test_promote_completes_the_source_environments_workloads(fleet: Path) -> None:
    completed = _complete("bash", "mlgitops promote --from staging --to prod ", fleet)
    assert completed == workload_names(fleet / "environments", "staging")


def test_a_broken_environment_file_completes_nothing_from_it_and_never_fails(fleet: Path) -> None:
    (fleet / "environments" / "broken.yaml").write_text("workloads: [ {name: \n")
    assert workload_names(fleet / "environments", "broken") == []
    assert _complete("bash", "mlgitops set image -e broken ", fleet) == []
