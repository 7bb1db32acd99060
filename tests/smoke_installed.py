"""Run an installed mlgitops the way a new user does, far from any checkout of this repository.

Used by the release workflow (on Linux, macOS and Windows, with the wheel installed from dist/) and by
tests/test_release.py (with the wheel built from this tree):

    python tests/smoke_installed.py [--install WHEEL] VENV WORKDIR

VENV is a virtual environment holding mlgitops (``--install`` pip-installs WHEEL into it first);
WORKDIR is an empty scratch folder outside the checkout. The script runs ``mlgitops --version``,
``policy list``, ``init``, ``render``, ``render --check``, ``lint`` and ``lint -o sarif`` there, checks
that the package came from VENV (not from a source tree on the path), and exits non-zero on the
first thing that is wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path


def _executable(venv: Path, name: str) -> Path:
    for candidate in (venv / "bin" / name, venv / "Scripts" / f"{name}.exe"):
        if candidate.exists():
            return candidate
    raise SystemExit(f"smoke test: {venv} has no {name} executable")


def _run(command: list[str], cwd: Path, expect: int = 0) -> str:
    # Away from the checkout: no PYTHONPATH and no working directory that holds the sources.
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    environment["NO_COLOR"] = "1"
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=environment, check=False, timeout=600)
    if done.returncode != expect:
        raise SystemExit(
            f"smoke test: {' '.join(command[1:]) or command[0]} exited {done.returncode} (expected {expect})\n"
            f"{done.stdout}{done.stderr}"
        )
    return done.stdout


def smoke(venv: Path, workdir: Path) -> list[str]:
    """Run every check; returns one line per check that passed."""
    python, mlgitops = str(_executable(venv, "python")), str(_executable(venv, "mlgitops"))
    workdir.mkdir(parents=True, exist_ok=True)
    passed = []
    location = _run([python, "-c", "import mlgitops, mlgitops_policies; print(mlgitops.__file__)"], workdir).strip()
    if not Path(location).resolve().is_relative_to(venv.resolve()):
        raise SystemExit(f"smoke test: mlgitops was imported from {location}, not from {venv}")
    passed.append(f"imported from {location}")
    # The distribution installs only mlgitops and mlgitops_policies: the source folder's name is not a module.
    _run([python, "-c", "import generator"], workdir, expect=1)
    passed.append("no top-level generator module")
    version = _run([python, "-c", "import mlgitops; print(mlgitops.__version__)"], workdir).strip()
    shown = _run([mlgitops, "--version"], workdir).strip()
    if shown != f"mlgitops, version {version}":
        raise SystemExit(f"smoke test: --version printed {shown!r}")
    passed.append(shown)
    rules = _run([mlgitops, "policy", "list"], workdir).splitlines()
    if len(rules) < 10 or not any(line.startswith("gpu-limits ") for line in rules):
        raise SystemExit(f"smoke test: policy list printed {len(rules)} rules:\n" + "\n".join(rules))
    passed.append(f"policy list: {len(rules)} rules")
    _run([mlgitops, "init", "fleet"], workdir)
    fleet = workdir / "fleet"
    workflow = (fleet / ".github" / "workflows" / "mlgitops.yml").read_text(encoding="utf-8")
    # A wheel from an index or a file pins the version; a git install pins its commit (output/installation.py).
    if f'"mlgitops=={version}"' not in workflow and '"mlgitops @ git+' not in workflow:
        raise SystemExit(f"smoke test: the workflow init wrote pins neither mlgitops=={version} nor a git commit")
    passed.append("init")
    passed.append(_run([mlgitops, "render"], fleet).strip())
    passed.append(_run([mlgitops, "render", "--check"], fleet).strip())
    _run([mlgitops, "lint", "rendered"], fleet)
    passed.append("lint rendered: clean")
    sarif = json.loads(_run([mlgitops, "lint", "rendered", "-o", "sarif"], fleet))
    if sarif.get("version") != "2.1.0" or sarif["runs"][0]["invocations"][0]["exitCode"] != 0:
        raise SystemExit("smoke test: lint -o sarif wrote no SARIF 2.1.0 log with a clean invocation")
    passed.append("lint -o sarif")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--install", metavar="WHEEL", help="pip-install this wheel (with its dependencies) into VENV first")
    parser.add_argument("venv", type=Path)
    parser.add_argument("workdir", type=Path)
    args = parser.parse_args(argv)
    if args.install:
        wheels = sorted(Path().glob(args.install)) if any(c in args.install for c in "*?[") else [Path(args.install)]
        if len(wheels) != 1:
            raise SystemExit(f"smoke test: {args.install} matches {len(wheels)} wheels")
        _run([str(_executable(args.venv, "python")), "-m", "pip", "install", str(wheels[0].resolve())], args.venv)
    for line in smoke(args.venv.resolve(), args.workdir.resolve()):
        print(f"ok: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
