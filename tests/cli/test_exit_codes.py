"""Exit codes that do not lie: output the environment refuses is exit 2 in one line, never "a bug in mlgitops".

`> /dev/full` is a disk that is always full: every write fails with ENOSPC.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO

FULL = Path("/dev/full")
FULL_STDOUT = "error: cannot write to standard output: No space left on device\n"


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    if not FULL.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs on Linux, which has /dev/full")
        pytest.skip("no /dev/full on this system")
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    shutil.copytree(REPO / "rendered", tmp_path / "rendered")
    return tmp_path


def _run(cwd: Path, *args: str, stdout: str = "pipe", stderr: str = "pipe", how: str = "entry") -> tuple[int, str]:
    """Exit code and stderr of the console script (``entry``) or ``python -m mlgitops.cli`` (``main``)."""
    command = (
        [sys.executable, "-c", "from mlgitops.cli import entry; entry()"]
        if how == "entry"
        else [sys.executable, "-m", "mlgitops.cli"]
    )
    with open(FULL, "w") as full:
        done = subprocess.run(
            [*command, *args],
            cwd=cwd,
            stdout=full if stdout == "full" else subprocess.PIPE,
            stderr=full if stderr == "full" else subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    return done.returncode, done.stderr or ""


@pytest.mark.parametrize("how", ["entry", "main"])
@pytest.mark.parametrize(
    "args",
    [
        ("render", "--stdout"),
        ("template", "dev"),
        ("render", "--check"),
        ("lint", "rendered/dev", "-o", "json"),
        ("lint", "rendered/dev", "-o", "junit"),
        ("schema",),
        ("--version",),
        ("explain", "image-digest"),
        ("policy", "list"),
        ("completion", "bash"),
    ],
    ids=lambda args: " ".join(args),
)
def test_a_full_stdout_is_exit_2_in_one_line(repository: Path, args: tuple[str, ...], how: str) -> None:
    code, stderr = _run(repository, *args, stdout="full", how=how)
    assert (code, stderr.splitlines()[-1:]) == (2, [FULL_STDOUT.rstrip("\n")]), stderr
    assert "internal error" not in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("how", ["entry", "main"])
def test_bad_input_with_a_full_stderr_still_exits_2(repository: Path, how: str) -> None:
    assert _run(repository, "lint", "missing.yaml", stderr="full", how=how)[0] == 2
    assert _run(repository, "lint", "missing.yaml", stdout="full", stderr="full", how=how)[0] == 2
    # Findings stay findings, and success stays success, whatever stderr can take.
    assert _run(repository, "lint", "rendered/prod/deployment-resnet-serve.yaml", "-f", "info", stderr="full", how=how)[0] == 1
    assert _run(repository, "render", "-e", "prod", "--check", stderr="full", how=how)[0] == 0
    (repository / "environments" / "dev.yaml").write_text("namespace: [\n")
    assert _run(repository, "render", stderr="full", how=how)[0] == 2


def test_a_failing_stream_is_told_apart_from_a_bug() -> None:
    from mlgitops.cli import _GuardedStream
    from mlgitops.errors import OutputError

    class Failing:
        encoding = "utf-8"

        def write(self, text: str) -> int:
            raise OSError(errno.EIO, "Input/output error")

        def flush(self) -> None:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    guarded = _GuardedStream(Failing(), "standard output")
    with pytest.raises(OutputError) as raised:
        guarded.write("x")
    assert str(raised.value) == "cannot write to standard output: Input/output error"
    with pytest.raises(BrokenPipeError):  # the reader went away: not an error of the run
        guarded.flush()
    assert guarded.encoding == "utf-8"
