"""Helpers shared by tests: running the CLI in a fresh process, writing files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float | None = None
    """Wall-clock time of the run (forked runs only)."""
    grown_mb: float | None = None
    """Peak memory the run added to the process it ran in, in MB (forked runs only)."""


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
    """Run `mlgitops` in a fresh process, as a user or CI would: for tests of what only a fresh process shows
    (exit 3 of a bug, signals, locks between processes, the interpreter's own streams); others use
    :func:`run_in_process`."""
    completed = subprocess.run(
        [sys.executable, "-m", "mlgitops.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def run_in_process(*args: str, stdin: str | None = None, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    """`mlgitops ARGS` run in this process, through ``mlgitops.cli.main``: the same exit path as the console
    script (user errors printed and exit 2) without a fresh interpreter's imports. The suite's one in-process
    runner: ``cwd`` is the working folder for the run (the current one when None), ``env`` adds environment
    variables for the run. A bug of mlgitops raises here (MLGITOPS_DEBUG=1) instead of becoming exit 3; tests
    that prove what a fresh process does (exit 3, signals, locks, the installed script) use :func:`run_cli`."""
    from click.testing import CliRunner

    import mlgitops.cli

    runner = CliRunner()
    saved = {name: os.environ.get(name) for name in ["MLGITOPS_DEBUG", *(env or {})]}
    os.environ.update({**(env or {}), "MLGITOPS_DEBUG": "1"})
    folder = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with runner.isolation(input=stdin) as streams:
            try:
                mlgitops.cli.main(list(args))
                code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            sys.stdout.flush()
            sys.stderr.flush()
            stdout, stderr = streams[0].getvalue(), streams[1].getvalue()
    finally:
        os.chdir(folder)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return CliResult(int(code), stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))


def run_here(monkeypatch: Any, folder: Path, *args: str) -> CliResult:
    """`mlgitops ARGS` run in this process from ``folder`` (see :func:`run_in_process`)."""
    monkeypatch.chdir(folder)
    return run_in_process(*args)


def kubectl() -> str:
    """kubectl's path: tests that prove output builds with kustomize skip without it, except in CI."""
    import shutil

    import pytest

    found = shutil.which("kubectl")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is required in CI to prove output builds with kubectl kustomize")
        pytest.skip("kubectl is not installed")
    return found


def documentation_pages() -> dict[str, str]:
    """The documentation as written, by path relative to the repository: README.md, then every hand-written page
    of docs/ (sorted). The site's reference pages are generated when it is built (docs/hooks.py) and are not here."""
    paths = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    return {path.relative_to(REPO).as_posix(): path.read_text(encoding="utf-8") for path in paths}


def documentation() -> str:
    """The whole documentation as one text (README.md first, then each page of docs/, a blank line between): what
    tests read to check what the documentation says, wherever a section of it lives."""
    return "\n\n".join(documentation_pages().values())


def documentation_page(name: str) -> str:
    """One page of the documentation (``README.md``, ``docs/kinds/serving.md``…); a missing page fails the test."""
    pages = documentation_pages()
    assert name in pages, f"{name} is not a page of the documentation: {sorted(pages)}"
    return pages[name]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


SHARED = REPO.parent / "shared"
"""../shared beside the checkout (the workplace's): the YAML test suite, real-world manifests, every upstream CRD."""
SKIP_SHARED_VARIABLE = "MLGITOPS_SKIP_SHARED"
"""Set to 1 where ../shared cannot be (GitHub's runners, .github/workflows): tests that need it skip there."""
NEEDS_SHARED = "needs_shared"
"""The marker of the tests that need ../shared; tests/conftest.py checks them before they start."""
UPSTREAM = Path(__file__).resolve().parent / "upstream"
"""Upstream files the tests validate against, vendored with their origin (tests/upstream/SOURCES.md)."""

shared_allowed = False
"""Whether the running test is marked needs_shared (set by tests/conftest.py around each test)."""


def require_shared(shared: Path = SHARED) -> Path:
    """``shared`` if it exists; else skip the test where that is expected, and fail it in CI.

    Expected: outside CI (a clone elsewhere) or where CI says it has no ../shared (MLGITOPS_SKIP_SHARED=1).
    With CI=true and no such word, a missing ../shared is a broken CI run, never a quiet skip.
    """
    import pytest

    if shared.is_dir():
        return shared
    if os.environ.get("CI") == "true" and os.environ.get(SKIP_SHARED_VARIABLE) != "1":
        pytest.fail(f"{shared} is missing: CI must run the tests that need ../shared ({SKIP_SHARED_VARIABLE}=1 says it cannot)")
    pytest.skip(f"needs {shared} (the YAML test suite, real-world manifests, every upstream CRD), not beside this clone")


def shared_dir() -> Path:
    """../shared, for a test marked ``@pytest.mark.needs_shared`` (any other test calling it fails).

    Tests that only need a few upstream files use the vendored copies instead (:func:`upstream_crd`,
    :func:`sarif_schema`), so they run on every clone.
    """
    if not shared_allowed:
        raise AssertionError(f"a test that reads ../shared must be marked @pytest.mark.{NEEDS_SHARED}")
    return require_shared()


def upstream_crd(name: str) -> Path:
    """A vendored upstream CRD by file name (tests/upstream/crds; origin and licence in SOURCES.md)."""
    path = UPSTREAM / "crds" / name
    assert path.is_file(), f"{name} is not vendored in tests/upstream/crds (see SOURCES.md there)"
    return path


def sarif_schema() -> dict[str, Any]:
    """The SARIF 2.1.0 JSON schema (the errata01 OASIS Standard's), vendored in tests/upstream/schemas."""
    import json

    loaded: dict[str, Any] = json.loads((UPSTREAM / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return loaded


def lint_findings(text: str) -> list[dict[str, Any]]:
    """The findings of `lint -o json` output, after checking its envelope (output/machine.py)."""
    import json

    document = json.loads(text)
    assert document["kind"] == "LintReport"
    assert document["schemaVersion"] == 1
    findings: list[dict[str, Any]] = document["findings"]
    return findings


GENERATOR = str(REPO / "generator")
"""mlgitops's own code, whose lines ``lines_run`` counts."""


def lines_run(run: Callable[[], object]) -> int:
    """Lines of mlgitops executed (each loop iteration counts) plus calls into C made from them, during ``run()``."""
    count = 0

    def local(frame: FrameType, event: str, argument: Any) -> Callable[..., Any] | None:
        nonlocal count
        if event in ("line", "c_call"):
            count += 1
        return local

    def start(frame: FrameType, event: str, argument: Any) -> Callable[..., Any] | None:
        return local if frame.f_code.co_filename.startswith(GENERATOR) else None

    previous = sys.gettrace()  # a debugger's or coverage's, given back afterwards
    sys.settrace(start)
    try:
        run()
    finally:
        sys.settrace(previous)
    return count


def linted_lines(*args: str, cwd: Path | None = None) -> tuple[int, CliResult]:
    """``mlgitops lint -o json ARGS`` run in this process, and the lines of mlgitops it executed (``lines_run``)."""
    result: list[CliResult] = []
    used = lines_run(lambda: result.append(run_in_process("lint", "-o", "json", *args, cwd=cwd)))
    return used, result[0]


def lint_growth(folder: Path, shape: Callable[[int], str], size: int, exit_codes: tuple[int, ...] = (0, 1)) -> float:
    """``growth`` of the lines lint executes on one file of ``shape(N)`` objects, for ``size``, 2 and 4 x ``size`` (after
    one small run, so that imports and first-time work are not counted), each lint exiting with one of ``exit_codes``."""

    def work(count: int) -> int:
        manifest = write(folder / f"objects-{count}.yaml", shape(count))
        used, result = linted_lines(str(manifest))
        assert result.exit_code in exit_codes, result.stderr
        return used

    work(4)
    return growth(work, size)


def render_growth(folder: Path, environment: Callable[[int], str], size: int) -> float:
    """``growth`` of the lines ``render`` executes on one environment file ``environment(N)`` (written as
    environments/dev.yaml of a folder of its own), for ``size``, 2 and 4 x ``size`` (after one small run), each render
    succeeding."""

    def work(count: int) -> int:
        root = folder / f"fleet-{count}"
        write(root / "environments" / "dev.yaml", environment(count))
        result: list[CliResult] = []
        used = lines_run(lambda: result.append(run_in_process("render", cwd=root)))
        assert result[0].exit_code == 0, result[0].stderr
        return used

    work(4)
    return growth(work, size)


def growth(work: Callable[[int], int], size: int) -> float:
    """How the extra work grows from doubling the input once to doubling it again: 2 linear, towards 4 quadratic."""
    once, twice, four_times = work(size), work(2 * size), work(4 * size)
    return (four_times - twice) / (twice - once)
