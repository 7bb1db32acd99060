"""A write that fails half-way changes nothing: `set`/`promote` (environment files, rendered/, --pr-body) and `init`.

On a real full file system where the tests may mount one (a small tmpfs; CI runs as root), and with ENOSPC
injected at the write call everywhere else.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO, CliResult, run_cli, run_here

SERVE_IMAGE = "ghcr.io/acme/resnet-serve:9.9.9@sha256:" + "cd" * 32
SET_IMAGE = ("set", "image", "resnet-serve", SERVE_IMAGE, "-e", "prod")
NO_SPACE = "No space left on device"


def _mountable() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Any]:
    """mount(size) → a fresh tmpfs of that many bytes under tmp_path; unmounted afterwards."""
    if not _mountable():
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root and mounts a small tmpfs to prove writes onto a full disk change nothing")
        pytest.skip("mounting a tmpfs needs root (the injected-ENOSPC tests cover this case)")
    mounted: list[Path] = []

    def mount(size: int) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True, check=False
        )
        if done.returncode != 0:
            if os.environ.get("CI") == "true":
                pytest.fail(f"cannot mount a tmpfs: {done.stderr!r}")
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
        mounted.append(point)
        return point

    try:
        yield mount
    finally:
        for point in mounted:
            subprocess.run(["umount", "-l", str(point)], check=False)


def _fill(disk: Path, leave: int = 0) -> None:
    """Fill ``disk`` up, then free ``leave`` bytes (rounded to pages)."""

    def forever(stream: Any) -> None:
        while True:
            stream.write(b"\0" * 65536)
            stream.flush()

    # Unbuffered: a buffered stream would keep the bytes that did not fit and fail again when closed.
    with open(disk / "filler", "wb", buffering=0) as stream, pytest.raises(OSError, match=NO_SPACE):
        forever(stream)
    if leave:
        size = (disk / "filler").stat().st_size
        os.truncate(disk / "filler", max(0, size - leave))


def _fleet(where: Path) -> Path:
    shutil.copytree(REPO / "environments", where / "environments")
    shutil.copytree(REPO / "rendered", where / "rendered")
    (where / ".git").mkdir()
    return where


def _state(repository: Path) -> dict[str, bytes]:
    """Every file of the repository but the lock (and a disk's filler)."""
    return {
        p.relative_to(repository).as_posix(): p.read_bytes()
        for p in sorted(repository.rglob("*"))
        if p.is_file() and p.name not in ("mlgitops.lock", "filler")
    }


def _assert_unchanged(repository: Path, before: dict[str, bytes], result: CliResult, line: str) -> None:
    assert (result.exit_code, result.stderr) == (2, line), result.stderr
    assert _state(repository) == before


def test_a_pull_request_body_onto_a_full_disk_changes_nothing(tmp_path: Path, tmpfs: Any) -> None:
    repository = _fleet(tmp_path / "repo")
    disk = tmpfs(64 * 1024)
    _fill(disk)
    before = _state(repository)
    result = run_cli(*SET_IMAGE, "--pr-body", str(disk / "body.md"), cwd=repository)
    _assert_unchanged(repository, before, result, f"error: cannot write {disk}/body.md: {NO_SPACE}; nothing was changed\n")
    assert sorted(p.name for p in disk.iterdir()) == ["filler"]


def test_an_edit_whose_render_does_not_fit_changes_nothing(tmp_path: Path, tmpfs: Any) -> None:
    disk = tmpfs(4 * 1024 * 1024)
    repository = _fleet(disk)
    _fill(disk, leave=32 * 1024)  # the edited environment file fits; rendered/prod written beside itself does not
    before = _state(repository)
    result = run_cli(*SET_IMAGE, cwd=repository)
    _assert_unchanged(repository, before, result, f"error: cannot write to rendered: {NO_SPACE}; nothing was changed\n")
    os.unlink(disk / "filler")
    assert run_cli(*SET_IMAGE, cwd=repository).exit_code == 0  # and nothing was left to get in the way


def test_init_onto_a_full_disk_leaves_nothing_and_the_next_init_works(tmp_path: Path, tmpfs: Any) -> None:
    disk = tmpfs(1024 * 1024)  # the scaffold is about 520 KB (the editor schema)
    _fill(disk, leave=64 * 1024)
    result = run_cli("init", "new", cwd=disk)
    assert (result.exit_code, result.stderr) == (2, f"error: cannot write to new: {NO_SPACE}; nothing was written\n")
    assert sorted(p.name for p in disk.iterdir()) == ["filler"]
    os.unlink(disk / "filler")
    assert run_cli("init", "new", cwd=disk).exit_code == 0
    assert (disk / "new" / "environments" / "prod.yaml").is_file()


# The same, with ENOSPC injected where the bytes are written: any system, any user.


def _no_space(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, NO_SPACE)


def test_injected_a_pull_request_body_that_does_not_fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlgitops.output import safe_write

    repository = _fleet(tmp_path)
    real = safe_write.stage_file
    monkeypatch.setattr(
        safe_write, "stage_file", lambda path, content: (_no_space if path.name == "body.md" else real)(path, content)
    )
    before = _state(repository)
    result = run_here(monkeypatch, repository, *SET_IMAGE, "--pr-body", "body.md")
    _assert_unchanged(repository, before, result, f"error: cannot write body.md: {NO_SPACE}; nothing was changed\n")


def test_injected_an_edit_whose_render_does_not_fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlgitops.output import tree

    repository = _fleet(tmp_path)
    real = tree.create_files

    def half_then_full(base: Path, files: Any, durable: bool = False) -> None:
        listed = list(files)
        real(base, listed[: len(listed) // 2], durable)
        _no_space()

    monkeypatch.setattr(tree, "create_files", half_then_full)
    before = _state(repository)
    result = run_here(monkeypatch, repository, *SET_IMAGE, "--pr-body", "body.md")
    _assert_unchanged(repository, before, result, f"error: cannot write to rendered: {NO_SPACE}; nothing was changed\n")


def test_a_swap_that_fails_after_the_files_puts_the_files_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlgitops.output import tree

    repository = _fleet(tmp_path)
    real = tree.commit

    def swap_then_fail(staged: Any) -> None:
        real(staged)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(tree, "commit", swap_then_fail)
    before = _state(repository)
    result = run_here(monkeypatch, repository, *SET_IMAGE, "--pr-body", "body.md")
    _assert_unchanged(repository, before, result, "error: cannot write to rendered: Input/output error; nothing was changed\n")


def test_injected_init_that_runs_out_of_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlgitops.output import safe_write

    real = safe_write.rename_new
    moved: list[Path] = []

    def third_fails(source: Path, target: Path) -> None:
        if len(moved) == 2:
            _no_space()
        real(source, target)
        moved.append(target)

    monkeypatch.setattr(safe_write, "rename_new", third_fails)
    (tmp_path / ".github").mkdir()  # an existing folder stays; those made for the scaffold go
    result = run_here(monkeypatch, tmp_path, "init", "repo")
    assert (result.exit_code, result.stderr) == (2, f"error: cannot write to repo: {NO_SPACE}; nothing was written\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".github"]
    monkeypatch.undo()
    assert run_here(monkeypatch, tmp_path, "init", "repo").exit_code == 0
