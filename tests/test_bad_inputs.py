"""The bad-input corpus: every broken environment file and manifest gets its exact one-line error.

Each file in tests/bad_inputs/ starts with `# expect: <exit code> <first line of the report>`,
where {file} stands for the case's path and {rendered} for its rendered folder; an optional
second line `# never echoed: TEXT` names a secret no message may repeat. Every case must also
finish quickly, print no traceback, and leave an existing rendered/ tree byte-identical.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import pkgutil
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import pytest

from tests.support import REPO, CliResult, run_cli, write

CORPUS = REPO / "tests" / "bad_inputs"
ENVIRONMENT_CASES = sorted((CORPUS / "environments").iterdir())
MANIFEST_CASES = sorted((CORPUS / "manifests").iterdir())
POLICY_CASES = sorted((CORPUS / "policies").iterdir())
CRD_CASES = sorted((CORPUS / "crds").iterdir())
CONFIG_CASES = sorted((CORPUS / "configs").iterdir())
KUSTOMIZATION_CASES = sorted((CORPUS / "kustomizations").iterdir())
TIMEOUT = 30
# What a case may add to the memory of the process it runs in (generous: the machine is shared).
MEMORY_GROWTH_MB = 600


def _expectation(path: Path) -> tuple[int, str]:
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    assert first.startswith("# expect: "), f"{path.name} has no expectation line"
    code, _, line = first.removeprefix("# expect: ").partition(" ")
    return int(code), line


def _never_echoed(path: Path) -> str | None:
    """A secret the case holds (`# never echoed: TEXT` on its second line) that no message may repeat."""
    lines = path.read_bytes().split(b"\n", 2)
    second = lines[1].decode("utf-8", errors="replace") if len(lines) > 1 else ""
    return second.removeprefix("# never echoed: ") if second.startswith("# never echoed: ") else None


@functools.cache
def _import_everything_once() -> None:
    # Commands import their modules lazily; a child would pay for them again and again.
    import mlgitops

    for module in pkgutil.walk_packages(mlgitops.__path__, "mlgitops."):
        importlib.import_module(module.name)


def _resident_mb() -> float:
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_forked(*args: str, cwd: Path, timeout: float = TIMEOUT, stdin: bytes | None = None) -> CliResult:
    """Run `mlgitops ARGS` in a child process forked from this one, killed after ``timeout`` seconds.

    The child is a process of its own (working directory, output, exit code), but starts with the
    CLI already imported: ~120 cases then cost seconds, not the ~0.4 s import each a fresh
    interpreter pays. MLGITOPS_DEBUG=1 lets an internal error through as a traceback, so the
    "no traceback" assertion has teeth. Tests below still run `python -m mlgitops.cli` itself.
    """
    import mlgitops.cli

    _import_everything_once()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as given:
        given.write(stdin or b"")
        given.seek(0)
        baseline = _resident_mb()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: never return into pytest
            code = 70
            try:
                os.chdir(cwd)
                os.dup2(given.fileno(), 0)
                sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
                os.environ["MLGITOPS_DEBUG"] = "1"
                sys.stdout = open(os.dup(out.fileno()), "w", encoding="utf-8")  # noqa: SIM115
                sys.stderr = open(os.dup(err.fileno()), "w", encoding="utf-8")  # noqa: SIM115
                try:
                    mlgitops.cli.main(list(args))
                    code = 0
                except SystemExit as stop:
                    code = stop.code if isinstance(stop.code, int) else 1
                except BaseException:
                    traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        deadline = time.monotonic() + timeout
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail(f"mlgitops {' '.join(args)[:200]} did not finish within {timeout} s")
            time.sleep(0.005)
        out.seek(0)
        err.seek(0)
        # ru_maxrss (KiB) counts the pages the child shares with this process at the fork, too.
        grown = usage.ru_maxrss / 1024 - baseline
        return CliResult(
            os.waitstatus_to_exitcode(status),
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            seconds=time.monotonic() - started,
            grown_mb=grown,
        )


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_corpus_is_large_enough() -> None:
    assert len(ENVIRONMENT_CASES) >= 50
    assert len(MANIFEST_CASES) >= 30
    assert min(len(POLICY_CASES), len(CRD_CASES), len(CONFIG_CASES), len(KUSTOMIZATION_CASES)) >= 3
    # Messages about env vars are where a secret would leak; several cases guard that.
    assert sum(_never_echoed(case) is not None for case in ENVIRONMENT_CASES) >= 5


@pytest.mark.parametrize("case", ENVIRONMENT_CASES, ids=[p.stem for p in ENVIRONMENT_CASES])
def test_broken_environment_file(tmp_path: Path, case: Path) -> None:
    code, line = _expectation(case)
    shutil.copytree(REPO / "rendered", tmp_path / "rendered")
    (tmp_path / "environments").mkdir()
    shutil.copy(case, tmp_path / "environments" / case.name)
    before = _digest(tmp_path / "rendered")
    result = run_forked("render", cwd=tmp_path)
    expected = line.replace("{file}", f"environments/{case.name}").replace("{rendered}", f"rendered/{case.stem}")
    assert result.exit_code == code, result.stderr
    assert result.stderr.splitlines()[0] == (f"error: {expected}" if code == 2 else expected)
    assert "Traceback" not in result.stderr
    assert _digest(tmp_path / "rendered") == before
    _assert_bounded(result)
    secret = _never_echoed(case)
    if secret is not None:
        assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize("case", MANIFEST_CASES, ids=[p.name for p in MANIFEST_CASES])
def test_broken_manifest(tmp_path: Path, case: Path) -> None:
    shutil.copy(case, tmp_path / case.name)
    _check(case, run_forked("lint", case.name, cwd=tmp_path), case.name)


def _assert_bounded(result: CliResult) -> None:
    assert result.grown_mb is not None
    assert result.grown_mb < MEMORY_GROWTH_MB, f"grew by {result.grown_mb:.0f} MB"


def _check(case: Path, result: CliResult, shown: str) -> None:
    code, line = _expectation(case)
    expected = line.replace("{file}", shown)
    assert result.exit_code == code, result.stdout + result.stderr
    report = result.stderr if code == 2 else result.stdout
    assert report.splitlines()[0] == (f"error: {expected}" if code == 2 else expected)
    assert "Traceback" not in result.stderr
    _assert_bounded(result)
    secret = _never_echoed(case)
    if secret is not None:
        assert secret not in result.stdout + result.stderr


POD = """\
spec: {size: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"}
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: ml}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ml, labels: [x]}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
    - name: c
      image: registry.example/c:1.0
      resources: {requests: {cpu: "1", memory: 1Gi}, limits: {memory: 1Gi}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: ml}
spec: {podSelector: {}, policyTypes: [Ingress]}
"""


@pytest.mark.parametrize("case", POLICY_CASES, ids=[p.stem for p in POLICY_CASES])
def test_broken_policy(tmp_path: Path, case: Path) -> None:
    """A user policy (`--policies DIR`) that is broken, slow or reaches outside: one located line, bounded."""
    write(tmp_path / "pod.yaml", POD)
    (tmp_path / "policies").mkdir()
    shutil.copy(case, tmp_path / "policies" / case.name)
    _check(case, run_forked("lint", "pod.yaml", "--policies", "policies", cwd=tmp_path), f"policies/{case.name}")


@pytest.mark.parametrize("case", CRD_CASES, ids=[p.stem for p in CRD_CASES])
def test_broken_crd(tmp_path: Path, case: Path) -> None:
    """A `--crd` file that is broken, slow or reaches outside: one located line, bounded."""
    write(tmp_path / "pod.yaml", POD)
    shutil.copy(case, tmp_path / case.name)
    _check(case, run_forked("lint", "pod.yaml", "--crd", case.name, cwd=tmp_path), case.name)


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[p.stem for p in CONFIG_CASES])
def test_broken_config(tmp_path: Path, case: Path) -> None:
    """A repository's .mlgitops.yaml that is broken: blamed at its own line, never on the manifests."""
    (tmp_path / ".git").mkdir()
    write(tmp_path / "pod.yaml", POD)
    shutil.copy(case, tmp_path / ".mlgitops.yaml")
    _check(case, run_forked("lint", "pod.yaml", cwd=tmp_path), ".mlgitops.yaml")


@pytest.mark.parametrize("case", KUSTOMIZATION_CASES, ids=[p.stem for p in KUSTOMIZATION_CASES])
def test_broken_kustomization(tmp_path: Path, case: Path) -> None:
    """A kustomize root that would fetch from the network or read outside the repository: refused at the entry."""
    (tmp_path / ".git").mkdir()
    write(tmp_path / "root" / "pod.yaml", POD.split("---")[1])
    write(tmp_path / "root" / "base" / "kustomization.yaml", "resources: [../pod.yaml]\n")
    shutil.copy(case, tmp_path / "root" / "kustomization.yaml")
    _check(case, run_forked("lint", "root", cwd=tmp_path), "root/kustomization.yaml")


BASE = 'namespace: ml\nkubernetesVersion: "1.32"\n'


def test_extends_cycle(tmp_path: Path) -> None:
    write(tmp_path / "environments" / "a.yaml", "extends: b.yaml\n" + BASE)
    write(tmp_path / "environments" / "b.yaml", "extends: a.yaml\n" + BASE)
    result = run_cli("render", "--env", "a", cwd=tmp_path, timeout=TIMEOUT)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: environments/b.yaml:1:10: extends: cycle environments/a.yaml -> environments/b.yaml -> environments/a.yaml "
        "(breaks environment a)"
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


def test_a_multi_gigabyte_environment_file_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    # Sparse: 3 GiB on paper, no disk used. Under a 1 GiB address-space cap, reading it whole fails.
    (tmp_path / "environments").mkdir()
    with (tmp_path / "environments" / "huge.yaml").open("wb") as stream:
        stream.truncate(3 * 2**30)
    cap = 2**30
    completed = subprocess.run(
        [sys.executable, "-m", "mlgitops.cli", "render"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)),
        check=False,
    )
    assert (completed.returncode, completed.stderr) == (
        2,
        "error: environments/huge.yaml:1:1: file is 3,221,225,472 bytes; environment files are limited to 1,000,000 bytes "
        "(split it, or move data out of the spec)\n",
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
    assert "Invalid value for '-o' / '--output-format' / '--format': 'xml'" in result.stderr


def test_an_environments_folder_linked_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    # git carries a relative link in a pull request: `render --check` would print what it leads to.
    write(tmp_path / "outside" / "dev.yaml", BASE + "labels: {token: SENTINEL-0c1d}\n")
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    (repository / "environments").symlink_to("../outside")
    for arguments in (("render",), ("render", "--check"), ("template",), ("set", "replicas", "w", "2", "-e", "dev")):
        result = run_cli(*arguments, cwd=repository, timeout=TIMEOUT)
        assert (result.exit_code, result.stderr) == (
            2,
            "error: environments folder 'environments' is a symbolic link leading outside the repository (./); mlgitops "
            "reads nothing outside it (pass the folder itself with --environments-dir)\n",
        ), arguments
        assert "SENTINEL" not in result.stdout
    assert not (repository / "rendered").exists()
    # A link to a folder inside the repository is fine, and naming the folder itself is the user's choice.
    (repository / "environments").unlink()
    write(repository / "config" / "envs" / "dev.yaml", BASE)
    (repository / "environments").symlink_to("config/envs")
    assert run_cli("render", "--check", cwd=repository, timeout=TIMEOUT).exit_code == 1
    assert run_cli("render", "--check", "-d", str(tmp_path / "outside"), cwd=repository, timeout=TIMEOUT).exit_code == 1


@pytest.mark.parametrize("kind", ["fifo", "folder", "dangling-link"])
def test_an_environment_file_that_is_not_a_regular_file_is_refused_and_nothing_deleted(tmp_path: Path, kind: str) -> None:
    write(tmp_path / "environments" / "dev.yaml", BASE)
    write(tmp_path / "environments" / "prod.yaml", BASE)
    assert run_cli("render", cwd=tmp_path, timeout=TIMEOUT).exit_code == 0
    before = _digest(tmp_path / "rendered")
    (tmp_path / "environments" / "prod.yaml").unlink()
    prod = tmp_path / "environments" / "prod.yaml"
    regular = "not a regular file; environment files must be regular files (remove or rename it)"
    if kind == "fifo":
        os.mkfifo(prod)
        expected = f"this is a named pipe (FIFO), {regular}"
    elif kind == "folder":
        prod.mkdir()
        expected = f"this is a folder, {regular}"
    else:
        prod.symlink_to("gone.yaml")
        expected = "this file is a symbolic link leading nowhere (its target is missing, or it loops); fix or remove it"
    for arguments in (("render",), ("render", "--check")):
        result = run_cli(*arguments, cwd=tmp_path, timeout=TIMEOUT)
        assert (result.exit_code, result.stderr) == (2, f"error: environments/prod.yaml:1:1: {expected}\n"), arguments
    assert _digest(tmp_path / "rendered") == before  # rendered/prod is still there
