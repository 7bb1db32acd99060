"""Concurrent mlgitops processes on one repository take turns on one lock, and nothing is lost or left behind.

Real processes: the test holds the repository's lock (``.git/mlgitops.lock``) while it starts runs, waits
until each says it is waiting for the lock, changes what a concurrent writer would, then lets them go.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from tests.support import REPO, run_cli, run_here
from tests.test_bad_inputs import run_forked

WAITING = "note: waiting for another mlgitops run on this repository to finish (lock .git/mlgitops.lock)"
SERVE_IMAGE = "ghcr.io/acme/resnet-serve:9.9.9@sha256:" + "ab" * 32


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A copy of the example fleet in a git repository (the lock lives in .git/)."""
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    shutil.copytree(REPO / "rendered", tmp_path / "rendered")
    (tmp_path / ".git").mkdir()
    return tmp_path


class Run:
    """`mlgitops ARGS` started in its own process; its stderr is collected line by line as it comes."""

    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlgitops.cli", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, line: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while line not in self.lines:
            assert self.process.poll() is None or line in self.lines, f"ended first: {self.lines}"
            assert time.monotonic() < deadline, f"never printed {line!r}: {self.lines}"
            time.sleep(0.05)

    def finish(self, timeout: float = 120) -> tuple[int, list[str]]:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code, self.lines


@pytest.fixture
def held(repository: Path) -> Iterator[FileLock]:
    """The repository's lock, held by the test until it releases it."""
    lock = FileLock(str(repository / ".git" / "mlgitops.lock"))
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release(force=True)


def test_two_renders_with_another_tmpdir_and_user_take_turns(
    repository: Path, held: FileLock, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A second CI step, or sudo: another temporary folder and user name. The old lock lived in $TMPDIR.
    runs = []
    shutil.rmtree(repository / "rendered" / "dev")  # work to do
    for name in ("one", "two"):
        scratch = tmp_path_factory.mktemp(f"tmp-{name}")
        env = {"TMPDIR": str(scratch), "TMP": str(scratch), "USER": name, "LOGNAME": name, "HOME": str(scratch)}
        runs.append(Run(repository, "render", env=env))
        runs[-1].wait_for(WAITING)
    held.release()
    for run in runs:
        code, lines = run.finish()
        assert code == 0, lines
    assert run_cli("render", "--check", cwd=repository).exit_code == 0


def test_a_render_waiting_for_an_edit_renders_the_edited_files(repository: Path, held: FileLock) -> None:
    render = Run(repository, "render")
    render.wait_for(WAITING)
    # What a writer holding the lock changes before the render gets it is what the render reads.
    prod = repository / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("minReplicas: 3", "minReplicas: 5"))
    edit = Run(repository, "set", "image", "resnet-serve", SERVE_IMAGE, "-e", "prod")
    edit.wait_for(WAITING)
    held.release()
    assert edit.finish()[0] == 0
    assert render.finish()[0] == 0
    assert "minReplicas: 5" in (repository / "rendered" / "prod" / "horizontalpodautoscaler-resnet-serve.yaml").read_text()
    assert SERVE_IMAGE in (repository / "rendered" / "prod" / "deployment-resnet-serve.yaml").read_text()
    # Whichever went first, rendered/ is the output of the files as both left them.
    check = run_cli("render", "--check", cwd=repository)
    assert check.exit_code == 0, check.stdout


def test_two_edits_of_one_file_keep_both(repository: Path, held: FileLock) -> None:
    image = Run(repository, "set", "image", "resnet-serve", SERVE_IMAGE, "-e", "prod")
    image.wait_for(WAITING)
    replicas = Run(repository, "set", "replicas", "resnet-serve", "--min", "4", "-e", "prod")
    replicas.wait_for(WAITING)
    held.release()
    assert image.finish()[0] == 0
    assert replicas.finish()[0] == 0
    prod = (repository / "environments" / "prod.yaml").read_text()
    assert SERVE_IMAGE in prod
    assert "minReplicas: 4" in prod
    assert run_cli("render", "--check", cwd=repository).exit_code == 0


def _leftovers(repository: Path) -> list[str]:
    return sorted(
        path.relative_to(repository).as_posix()
        for path in repository.rglob("*")
        if path.name.endswith(".mlgitops") or path.name.startswith((".mlgitops-new-", ".mlgitops-old-"))
    )


def test_what_a_killed_set_leaves_is_removed_by_the_next_run(repository: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = (repository / "environments" / "prod.yaml").read_bytes()
    import mlgitops.cli
    from mlgitops.output import safe_write

    # Killed between writing everything beside its target and swapping the first in.
    monkeypatch.setattr(safe_write, "commit_file", lambda staged: os.kill(os.getpid(), signal.SIGKILL))
    killed = run_forked("set", "replicas", "resnet-serve", "--min", "4", "-e", "prod", cwd=repository, timeout=60)
    monkeypatch.undo()
    assert killed.exit_code == -signal.SIGKILL
    assert mlgitops.cli  # the fork ran the CLI imported here
    left = _leftovers(repository)
    assert any(name.startswith("environments/.prod.yaml.") for name in left), left
    assert (repository / "environments" / "prod.yaml").read_bytes() == before
    check = run_cli("render", "--check", cwd=repository)
    assert check.exit_code == 0  # the edit never happened; the leftover is named
    assert any(line.startswith("warning: environments/.prod.yaml.") for line in check.stderr.splitlines()), check.stderr
    result = run_cli("render", cwd=repository)
    assert result.exit_code == 0, result.stderr
    assert "left by an interrupted mlgitops run" in result.stderr
    assert _leftovers(repository) == []


def test_a_pull_request_body_leftover_is_removed_with_the_next_one(repository: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    leftover = repository / ".body.md.0123456789ab.mlgitops"
    leftover.write_text("half a description")
    result = run_here(
        monkeypatch, repository, "set", "replicas", "resnet-serve", "--min", "4", "-e", "prod", "--pr-body", "body.md"
    )
    assert result.exit_code == 0, result.stderr
    assert "warning: removed .body.md.0123456789ab.mlgitops, left by an interrupted mlgitops run" in result.stderr
    assert not leftover.exists()
    assert (repository / "body.md").read_text().startswith("#")


@pytest.mark.parametrize("planted", ["link", "folder", "dangling-link"])
@pytest.mark.parametrize("git", [True, False], ids=["in-git", "outside-git"])
def test_a_link_or_folder_at_the_lock_path_is_refused(tmp_path: Path, planted: str, git: bool) -> None:
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    if git:
        (tmp_path / ".git").mkdir()
    lock = tmp_path / (".git/mlgitops.lock" if git else ".mlgitops.lock")
    shown = ".git/mlgitops.lock" if git else ".mlgitops.lock"
    if planted == "link":
        lock.symlink_to(victim)
    elif planted == "dangling-link":
        lock.symlink_to(tmp_path / "nowhere")
    else:
        lock.mkdir()
    what = "a folder" if planted == "folder" else "a symbolic link"
    for arguments in (("render",), ("set", "replicas", "resnet-serve", "--min", "4", "-e", "prod")):
        result = run_cli(*arguments, cwd=tmp_path, timeout=60)
        assert (result.exit_code, result.stderr) == (
            2,
            f"error: the lock file {shown} is {what}; mlgitops takes its lock on a regular file of its own there (remove it "
            "and run again)\n",
        ), arguments
    assert victim.read_text() == "keep me\n"
    assert not (tmp_path / "nowhere").exists()
    assert not (tmp_path / "rendered").exists()


def test_an_environment_file_changed_by_another_program_during_an_edit_is_not_overwritten(
    repository: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlgitops.edit.run as run

    prod = repository / "environments" / "prod.yaml"
    plan = run.plan_edit

    def plan_then_someone_writes(*args: object, **kwargs: object) -> object:
        planned = plan(*args, **kwargs)  # type: ignore[arg-type]
        prod.write_text(prod.read_text() + "# written by an editor meanwhile\n")
        return planned

    monkeypatch.setattr(run, "plan_edit", plan_then_someone_writes)
    rendered = {p: p.read_bytes() for p in (repository / "rendered").rglob("*") if p.is_file()}
    result = run_here(monkeypatch, repository, "set", "replicas", "resnet-serve", "--min", "4", "-e", "prod")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: environments/prod.yaml changed on disk while mlgitops was editing it (another program wrote it); nothing "
        "was written: run the command again\n",
    )
    assert prod.read_text().endswith("# written by an editor meanwhile\n")
    assert {p: p.read_bytes() for p in (repository / "rendered").rglob("*") if p.is_file()} == rendered
