"""rendered/ is never half-written: interrupted, concurrent or misdirected renders leave a whole tree."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from generator.output import tree
from tests.support import REPO, run_cli


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_an_interrupted_render_leaves_the_previous_tree_intact(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _digest(fleet / "rendered")
    wanted = {"dev": {"kustomization.yaml": "changed\n", "a.yaml": "a\n", "b.yaml": "b\n", "c.yaml": "c\n"}}
    calls = {"count": 0}
    original = Path.write_text

    def interrupted(self: Path, *args: object, **kwargs: object) -> int:
        calls["count"] += 1
        if calls["count"] > 2:
            raise KeyboardInterrupt  # as if the process were stopped mid-write
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tree.write(fleet / "rendered", wanted)
    monkeypatch.setattr(Path, "write_text", original)
    assert {k: v for k, v in _digest(fleet / "rendered").items() if not k.startswith(".")} == before
    # The next render clears what the interrupted one left behind and writes a whole tree.
    assert run_cli("render", cwd=fleet).exit_code == 0
    assert _digest(fleet / "rendered") == _digest(REPO / "rendered")


def test_a_killed_render_process_leaves_a_whole_tree(fleet: Path) -> None:
    (fleet / "rendered" / "dev").rename(fleet / "dev-before")
    # A render killed at once: whatever it managed, every environment folder is either whole or absent.
    process = subprocess.Popen([sys.executable, "-m", "generator.cli", "render"], cwd=fleet)
    process.kill()
    process.wait()
    for folder in (fleet / "rendered").iterdir():
        if folder.name in ("dev", "staging", "prod"):
            assert _digest(folder) == _digest(REPO / "rendered" / folder.name)
    assert run_cli("render", cwd=fleet).exit_code == 0
    assert _digest(fleet / "rendered") == _digest(REPO / "rendered")


def test_concurrent_renders_never_mix_their_files(fleet: Path) -> None:
    other = fleet / "other-environments"
    other.mkdir()
    for path in (fleet / "environments").iterdir():
        text = path.read_text()
        if path.suffix == ".yaml":
            text = text.replace("team: ml-vision", "team: ml-speech")
        (other / path.name).write_text(text)
    command = [sys.executable, "-m", "generator.cli", "render"]
    first = subprocess.Popen(command, cwd=fleet, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    second = subprocess.Popen(
        [*command, "--environments-dir", "other-environments"], cwd=fleet, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert first.wait(timeout=120) == 0
    assert second.wait(timeout=120) == 0
    labels = {path.read_text().count("team: ml-speech") > 0 for path in (fleet / "rendered").rglob("*.yaml")}
    # Every file comes from the same run: all speech (the second run last) or all vision.
    assert len(labels) == 1


def test_an_output_folder_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "environments").symlink_to(REPO / "environments")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "rendered").symlink_to(tmp_path / "elsewhere")
    result = run_cli("render", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "error: output folder rendered is a symbolic link; refusing to write through it\n"
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_symlinked_environment_folder_inside_rendered_is_refused(fleet: Path, tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.mkdir()
    (target / "keep.txt").write_text("precious\n")
    (fleet / "rendered" / "dev").rename(fleet / "dev-moved")
    (fleet / "rendered" / "dev").symlink_to(target)
    result = run_cli("render", cwd=fleet)
    assert result.exit_code == 2
    assert "rendered/dev is a symbolic link; refusing to write through it" in result.stderr
    assert (target / "keep.txt").read_text() == "precious\n"


def test_nothing_is_written_outside_the_output_folder(fleet: Path) -> None:
    outside = {p for p in fleet.rglob("*") if "rendered" not in p.relative_to(fleet).parts}
    assert run_cli("render", cwd=fleet).exit_code == 0
    assert {p for p in fleet.rglob("*") if "rendered" not in p.relative_to(fleet).parts} == outside


SENTINEL = "aws_secret_access_key = SENTINEL-9c1e"


def test_check_never_prints_what_a_link_in_rendered_points_to(fleet: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    # A pull request can commit rendered/dev/x.yaml as a link to a CI runner's credentials.
    credentials = tmp_path_factory.mktemp("home") / "credentials"
    credentials.write_text(SENTINEL + "\n")
    (fleet / "rendered" / "dev" / "leak.yaml").symlink_to(credentials)
    result = run_cli("render", "--check", cwd=fleet, timeout=30)
    assert result.exit_code == 1, result.stderr
    assert "extra: rendered/dev/leak.yaml" in result.stderr.splitlines()
    assert "SENTINEL" not in result.stdout + result.stderr
    # Rendering replaces the folder: the link goes, its target stays untouched.
    assert run_cli("render", cwd=fleet, timeout=30).exit_code == 0
    assert not (fleet / "rendered" / "dev" / "leak.yaml").is_symlink()
    assert credentials.read_text() == SENTINEL + "\n"
    assert _digest(fleet / "rendered") == _digest(REPO / "rendered")


def test_links_to_an_endless_device_in_rendered_do_not_hang_a_render(fleet: Path) -> None:
    # /dev/zero never ends: reading through the link would hang CI (and fill its memory).
    (fleet / "rendered" / "dev" / "zero.yaml").symlink_to("/dev/zero")
    (fleet / "rendered" / "old-env").mkdir()
    (fleet / "rendered" / "old-env" / "zero.yaml").symlink_to("/dev/zero")
    result = run_cli("render", "--check", cwd=fleet, timeout=30)
    assert result.exit_code == 1, result.stderr
    assert "extra: rendered/dev/zero.yaml" in result.stderr.splitlines()
    assert run_cli("render", cwd=fleet, timeout=30).exit_code == 0
    # A folder mlgitops cannot prove it wrote is left alone rather than deleted.
    assert (fleet / "rendered" / "old-env" / "zero.yaml").is_symlink()
    assert _digest(fleet / "rendered" / "dev") == _digest(REPO / "rendered" / "dev")


@pytest.mark.parametrize("name", [".mlgitops-new-dev-1", ".mlgitops-old-staging-1"])
def test_a_file_under_the_leftover_prefix_is_refused_not_crashed_on(fleet: Path, name: str) -> None:
    # An interrupted run leaves folders only; a committed file by that name must not crash rmtree
    # nor be renamed into place as an environment folder.
    (fleet / "rendered" / name).write_text("not a folder\n")
    before = _digest(fleet / "rendered")
    result = run_cli("render", cwd=fleet, timeout=30)
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: rendered/{name} is not a folder an interrupted render left behind; remove it and render again\n",
    )
    assert _digest(fleet / "rendered") == before
