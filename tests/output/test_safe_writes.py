"""rendered/ is never half-written: interrupted, concurrent or misdirected renders leave a whole tree."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from mlgitops.output import tree
from tests.support import REPO, run_cli
from tests.test_bad_inputs import run_forked


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_an_interrupted_render_leaves_the_previous_tree_intact(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _digest(fleet / "rendered")
    wanted = {"dev": {"kustomization.yaml": "changed\n", "a.yaml": "a\n", "b.yaml": "b\n", "c.yaml": "c\n"}}
    original = tree.create_files

    def interrupted(base: Path, files: Iterable[tuple[str, str | bytes]], durable: bool = False) -> None:
        def two_then_stop() -> Iterator[tuple[str, str | bytes]]:
            for count, file in enumerate(files):
                if count == 2:
                    raise KeyboardInterrupt  # as if the process were stopped mid-write
                yield file

        original(base, two_then_stop(), durable)

    monkeypatch.setattr(tree, "create_files", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tree.write(fleet / "rendered", wanted)
    monkeypatch.setattr(tree, "create_files", original)
    assert {k: v for k, v in _digest(fleet / "rendered").items() if not k.startswith(".")} == before
    # The next render clears what the interrupted one left behind and writes a whole tree.
    assert run_cli("render", cwd=fleet).exit_code == 0
    assert _digest(fleet / "rendered") == _digest(REPO / "rendered")


def test_a_killed_render_process_leaves_a_whole_tree(fleet: Path) -> None:
    (fleet / "rendered" / "dev").rename(fleet / "dev-before")
    # A render killed at once: whatever it managed, every environment folder is either whole or absent.
    process = subprocess.Popen([sys.executable, "-m", "mlgitops.cli", "render"], cwd=fleet)
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
        if path.is_dir():
            shutil.copytree(path, other / path.name)
            continue
        text = path.read_text()
        if path.suffix == ".yaml":
            text = text.replace("team: ml-vision", "team: ml-speech")
        (other / path.name).write_text(text)
    command = [sys.executable, "-m", "mlgitops.cli", "render"]
    first = subprocess.Popen(command, cwd=fleet, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    second = subprocess.Popen(
        [*command, "--environments-dir", "other-environments"], cwd=fleet, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert first.wait(timeout=120) == 0
    assert second.wait(timeout=120) == 0
    # Extra manifests are copied as written (kustomize adds the labels when it builds the root).
    generated = [path for path in (fleet / "rendered").rglob("*.yaml") if "extra" not in path.parts]
    labels = {path.read_text().count("team: ml-speech") > 0 for path in generated}
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
    # Outside git, the repository's lock file beside the output folder (in a repository: .git/mlgitops.lock).
    lock = fleet / ".mlgitops.lock"
    assert {p for p in fleet.rglob("*") if "rendered" not in p.relative_to(fleet).parts} == outside | {lock}
    assert lock.read_bytes() == b""
    (fleet / ".git").mkdir()
    lock.unlink()
    assert run_cli("render", cwd=fleet).exit_code == 0
    assert {p for p in fleet.rglob("*") if "rendered" not in p.relative_to(fleet).parts} == outside | {fleet / ".git"} | {
        fleet / ".git" / "mlgitops.lock"
    }


SENTINEL = "aws_secret_access_key = SENTINEL-9c1e"


def test_check_never_prints_what_a_link_in_rendered_points_to(fleet: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    # A pull request can commit rendered/dev/x.yaml as a link to a CI runner's credentials.
    credentials = tmp_path_factory.mktemp("home") / "credentials"
    credentials.write_text(SENTINEL + "\n")
    (fleet / "rendered" / "dev" / "leak.yaml").symlink_to(credentials)
    for args in (("render", "--check"), ("render",)):
        result = run_forked(*args, cwd=fleet, timeout=30)
        # mlgitops did not write the link: it refuses the folder, names the link, and follows nothing.
        assert (result.exit_code, result.stderr) == (
            2,
            "error: rendered/dev/leak.yaml was not written by mlgitops; the output folder rendered/ may hold only what "
            "mlgitops renders: move that file elsewhere (or choose another --output), nothing was changed\n",
        )
        assert "SENTINEL" not in result.stdout + result.stderr
    assert (fleet / "rendered" / "dev" / "leak.yaml").is_symlink()
    assert credentials.read_text() == SENTINEL + "\n"


def test_links_to_an_endless_device_in_rendered_do_not_hang_a_render(fleet: Path) -> None:
    # /dev/zero never ends: reading through the link would hang CI (and fill its memory).
    (fleet / "rendered" / "old-env").mkdir()
    (fleet / "rendered" / "old-env" / "zero.yaml").symlink_to("/dev/zero")
    for args in (("render", "--check"), ("render",)):
        result = run_forked(*args, cwd=fleet, timeout=30)
        assert result.exit_code == 2, result.stderr
        assert result.stderr.startswith("error: rendered/old-env/zero.yaml was not written by mlgitops;")
    # A folder mlgitops cannot prove it wrote is left alone rather than deleted.
    assert (fleet / "rendered" / "old-env" / "zero.yaml").is_symlink()


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


FOREIGN = (
    "was not written by mlgitops; the output folder {root} may hold only what mlgitops renders: move that file "
    "elsewhere (or choose another --output), nothing was changed\n"
)


def _everything(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (links as their target), so that a test sees any loss."""
    return {
        p.relative_to(folder).as_posix(): (
            f"-> {p.readlink()}" if p.is_symlink() else _digest(p) if p.is_dir() else p.read_text()
        )
        for p in sorted(folder.rglob("*"))
        if not p.is_dir() or p.is_symlink()
    } | {"": ""}


def test_an_output_folder_holding_hand_written_files_is_refused_and_kept(fleet: Path) -> None:
    # `render --output .` in a repository: rendered/ and docs/ are not mlgitops's to delete.
    (fleet / "docs").mkdir()
    (fleet / "docs" / "README.md").write_text("hand-written\n")
    before = _everything(fleet)
    result = run_forked("render", "--output", ".", cwd=fleet, timeout=60)
    assert (result.exit_code, result.stderr) == (2, "error: docs/README.md " + FOREIGN.format(root="./"))
    assert _everything(fleet) == before


@pytest.mark.parametrize(
    ("place", "shown"),
    [
        ("notes/RUNBOOK.md", "rendered/notes/RUNBOOK.md"),  # a folder of notes beside a copied generated file
        ("dev/NOTES.md", "rendered/dev/NOTES.md"),  # a hand-written file inside an environment's folder
        ("README.md", "rendered/README.md"),  # a file at the top of the output folder
        ("dev/cluster-notes/todo.txt", "rendered/dev/cluster-notes/todo.txt"),  # deeper inside a folder mlgitops wrote
    ],
)
def test_a_file_mlgitops_did_not_write_stops_render_and_survives(fleet: Path, place: str, shown: str) -> None:
    target = fleet / "rendered" / place
    target.parent.mkdir(parents=True, exist_ok=True)
    if place.startswith("notes/"):
        shutil.copy(fleet / "rendered" / "dev" / "kustomization.yaml", target.parent / "kustomization.yaml")
    target.write_text("keep me\n")
    before = _everything(fleet / "rendered")
    for args in (("render",), ("render", "--check"), ("render", "--env", "dev"))[: 3 if place == "README.md" else 1]:
        result = run_forked(*args, cwd=fleet, timeout=60)
        assert (result.exit_code, result.stderr) == (2, f"error: {shown} " + FOREIGN.format(root="rendered/")), args
    assert _everything(fleet / "rendered") == before


def test_folders_mlgitops_wrote_carry_a_marker_and_a_deleted_environment_goes(fleet: Path) -> None:
    assert run_forked("render", cwd=fleet, timeout=60).exit_code == 0
    marker = (fleet / "rendered" / "prod" / ".mlgitops-owned").read_text().splitlines()
    assert "cluster/kustomization.yaml" in marker
    assert "kustomization.yaml" in marker
    (fleet / "environments" / "staging.yaml").unlink()
    result = run_forked("render", cwd=fleet, timeout=60)
    assert result.exit_code == 0, result.stderr
    assert not (fleet / "rendered" / "staging").exists()


def test_a_tree_rendered_before_markers_existed_is_adopted(fleet: Path) -> None:
    for marker in (fleet / "rendered").rglob(".mlgitops-owned"):
        marker.unlink()
    result = run_forked("render", cwd=fleet, timeout=60)
    assert result.exit_code == 0, result.stderr
    assert _digest(fleet / "rendered") == _digest(REPO / "rendered")


@pytest.mark.parametrize("output", ["/proc/mlgitops-out", "environments/base.yaml/out", "/sys/mlgitops-out"])
def test_an_output_folder_that_cannot_be_created_is_a_usage_error(fleet: Path, output: str) -> None:
    result = run_forked("render", "--output", output, cwd=fleet, timeout=60)
    assert result.exit_code == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"error: cannot create the output folder {output}: ")


def test_a_read_only_folder_in_rendered_is_refused_before_anything_changes(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root may delete anything, so the read-only folder is simulated where the permission is asked.
    locked_folder = fleet / "rendered" / "dev"
    real_access = tree.os.access
    monkeypatch.setattr(tree.os, "access", lambda path, mode: Path(path) != locked_folder and real_access(path, mode))
    wanted = {"dev": {"kustomization.yaml": "changed\n"}}
    before = _everything(fleet / "rendered")
    with pytest.raises(tree.UserError) as raised:
        tree.write(fleet / "rendered", wanted)
    assert raised.value.one_line() == (
        "cannot replace rendered/dev: rendered/dev is read-only (make it writable and render again); nothing was changed"
    )
    assert _everything(fleet / "rendered") == before  # no .mlgitops-new-* leftover either
    monkeypatch.undo()
    assert run_forked("render", cwd=fleet, timeout=60).exit_code == 0


def test_a_folder_that_cannot_be_deleted_after_the_swap_never_breaks_the_next_run(
    fleet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_rmtree = tree.shutil.rmtree

    def refuse(path: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tree.shutil, "rmtree", refuse)
    written = tree.write(fleet / "rendered", {"dev": {"kustomization.yaml": "changed\n"}})
    assert written.changed == ["dev"]
    assert len(written.warnings) == 1
    assert written.warnings[0].startswith("could not remove rendered/.mlgitops-new-dev-")
    assert (fleet / "rendered" / "dev" / "kustomization.yaml").read_text() == "changed\n"
    monkeypatch.setattr(tree.shutil, "rmtree", real_rmtree)
    result = run_forked("render", cwd=fleet, timeout=60)
    assert result.exit_code == 0, result.stderr
    assert _digest(fleet / "rendered") == _digest(REPO / "rendered")


def test_a_planted_link_under_a_staging_name_is_never_written_through(
    fleet: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    victim = tmp_path_factory.mktemp("victim")
    (fleet / "rendered" / ".mlgitops-new-dev-1").symlink_to(victim)
    result = run_forked("render", cwd=fleet, timeout=60)
    assert result.exit_code == 2
    assert list(victim.iterdir()) == []


def test_generated_files_a_merge_brings_are_mlgitops_own(fleet: Path) -> None:
    # Two branches rendered; git merged the files of one into a folder whose marker lists the other's.
    dev = fleet / "rendered" / "dev"
    shutil.copy(dev / "kustomization.yaml", dev / "service-from-the-other-branch.yaml")
    result = run_forked("render", cwd=fleet, timeout=60)
    assert result.exit_code == 0, result.stderr
    assert _digest(fleet / "rendered") == _digest(REPO / "rendered")


def test_the_lock_is_the_repositorys_and_exclusive(fleet: Path) -> None:
    import subprocess
    import sys

    from mlgitops.output.lock import lock_file, repository_lock

    (fleet / ".git").mkdir()
    root = fleet / "rendered"
    assert lock_file(root) == fleet / ".git" / "mlgitops.lock"
    assert lock_file(fleet / "environments") == lock_file(root)  # the environment files and the output share it
    probe = (
        "import sys; from filelock import FileLock, Timeout\n"
        "try:\n    FileLock(sys.argv[1]).acquire(timeout=0.5)\nexcept Timeout:\n    sys.exit(7)\n"
    )
    with repository_lock(root), repository_lock(fleet / "environments"):  # re-entrant within a process
        held = subprocess.run([sys.executable, "-c", probe, str(lock_file(root))], check=False, timeout=60)
        assert held.returncode == 7  # another process waits while a render holds the lock
    free = subprocess.run([sys.executable, "-c", probe, str(lock_file(root))], check=False, timeout=60)
    assert free.returncode == 0
    assert sorted(path.name for path in root.iterdir() if path.name.startswith(".")) == []


@pytest.mark.parametrize("swap", [True, False], ids=["atomic-exchange", "rename-fallback"])
def test_a_changed_folder_is_replaced_whole_with_or_without_an_atomic_swap(
    fleet: Path, monkeypatch: pytest.MonkeyPatch, swap: bool
) -> None:
    # Linux swaps the folders in one step (renameat2); elsewhere (macOS, Windows) the old folder is renamed away first.
    swaps: list[str] = []
    original = tree.exchange

    def exchange(first: Path, second: Path) -> bool:
        swaps.append(second.name)
        return original(first, second) if swap else False

    monkeypatch.setattr(tree, "exchange", exchange)
    wanted = {"dev": {"kustomization.yaml": "resources: [a.yaml]\n", "a.yaml": "a: 1\n"}}
    written = tree.write(fleet / "rendered", wanted)
    assert written.changed == ["dev"]
    assert swaps == ["dev"]
    written_files = {name for name in _digest(fleet / "rendered" / "dev") if not name.startswith(".")}  # less the marker
    assert written_files == {"kustomization.yaml", "a.yaml"}
    assert (fleet / "rendered" / "dev" / "a.yaml").read_text() == "a: 1\n"
    leftovers = [p.name for p in (fleet / "rendered").iterdir() if p.name.startswith((tree.OLD_PREFIX, tree.NEW_PREFIX))]
    assert leftovers == []
    assert _digest(fleet / "rendered" / "prod") == _digest(REPO / "rendered" / "prod")
