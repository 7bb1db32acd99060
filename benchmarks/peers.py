"""The commands compared: mlgitops, kubectl kustomize, the kubernetes-validate CLI, checkov, and the YAML floors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from corpus import Workspace, kustomize_roots, manifest_files
from fleet import KUBERNETES_VERSION
from measure import Command, find_tool, mlgitops
from paths import PEERS_BIN

# The parse floor: read every file with libyaml, build the Python objects, nothing else.
_LOAD_TEMPLATE = r"""
import sys, ENGINE
documents = 0
for path in open(sys.argv[1], encoding="utf-8").read().splitlines():
    with open(path, "rb") as stream:
        documents += COUNT
print(documents, "loaded (documents; files for yaml-rs, which returns a stream as one value)")
"""
LOAD_FLOOR = _LOAD_TEMPLATE.replace("ENGINE", "yaml").replace(
    "COUNT", "sum(1 for _ in yaml.load_all(stream, Loader=yaml.CSafeLoader))"
)

# The write floor: the same objects (unpickled, the cheapest way to have them in memory) written
# back to one file each with libyaml's emitter, keys in their given order as mlgitops writes them.
_DUMP_TEMPLATE = r"""
import os, pickle, sys, ENGINE
with open(sys.argv[1], "rb") as stream:
    files = pickle.load(stream)
made = set()
for relative, documents in files:
    target = os.path.join(sys.argv[2], relative)
    folder = os.path.dirname(target)
    if folder not in made:
        os.makedirs(folder, exist_ok=True)
        made.add(folder)
    with open(target, "w", encoding="utf-8") as stream:
        WRITE
print(len(files), "files")
"""
DUMP_FLOOR = _DUMP_TEMPLATE.replace("ENGINE", "yaml").replace(
    "WRITE", "yaml.dump_all(documents, stream, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False)"
)

# The same two floors with the fast engine mlgitops reads with (yaml-rs): the fastest parse and emit
# a Python tool can have today; its `dumps` writes its own style, so these are floors, not targets.
FAST_LOAD_FLOOR = _LOAD_TEMPLATE.replace("ENGINE", "yaml_rs").replace(
    "COUNT", "yaml_rs.loads(stream.read().decode('utf-8'), parse_datetime=False) is not None"
)
FAST_DUMP_FLOOR = _DUMP_TEMPLATE.replace("ENGINE", "yaml_rs").replace(
    "WRITE", 'stream.write("".join(yaml_rs.dumps(document) for document in documents))'
)


def _reset(folder: Path) -> Callable[[], None]:
    def reset() -> None:
        if folder.exists():
            shutil.rmtree(folder)

    return reset


def lint_available() -> str | None:
    """None when `mlgitops lint` works here, else why not (it is being written concurrently)."""
    completed = subprocess.run([*mlgitops(), "lint", "--help"], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        return "mlgitops lint is not available in this checkout"
    return None


def fleet_commands(workspace: Workspace, *, slow_peers: bool = True, kustomize_once: bool = False) -> list[Command]:
    """Every command timed on one fleet size.

    ``slow_peers=False`` leaves out kubernetes-validate and checkov (at N = 10,000 one run of
    each takes a quarter of an hour here, and no target compares with them at that size);
    ``kustomize_once`` runs kubectl kustomize once over every shard root instead of every round.
    """
    env_dir = str(workspace.environments)
    python = sys.executable
    kubectl = shutil.which("kubectl")
    validate = find_tool("kubernetes-validate")
    checkov = find_tool("checkov", PEERS_BIN)
    files = [str(p) for p in manifest_files(workspace.tree)]
    lint_missing = lint_available()
    return [
        Command(
            "render",
            "mlgitops render (empty folder)",
            [[*mlgitops(), "render", "--environments-dir", env_dir, "--output", str(workspace.render_target)]],
            prepare=_reset(workspace.render_target),
        ),
        Command(
            "render_check",
            "mlgitops render --check (no change)",
            [[*mlgitops(), "render", "--check", "--environments-dir", env_dir, "--output", str(workspace.rendered)]],
        ),
        Command(
            "lint",
            "mlgitops lint (seeded tree)",
            [[*mlgitops(), "lint", str(workspace.tree)]],
            # 1 means findings, which the seeded faults must produce.
            ok_exit_codes=frozenset({0, 1}),
            unavailable=lint_missing,
        ),
        Command(
            "kustomize",
            "kubectl kustomize (every root)",
            [[kubectl or "kubectl", "kustomize", str(root)] for root in kustomize_roots(workspace.tree)],
            unavailable=None if kubectl else "kubectl is not on PATH",
            rounds=1 if kustomize_once else None,
        ),
        Command(
            "kubernetes_validate",
            "kubernetes-validate --strict",
            [[validate or "kubernetes-validate", "--strict", "-k", f"{KUBERNETES_VERSION}.0", *files]],
            # 1: it found problems (the seeded faults include schema-invalid objects).
            ok_exit_codes=frozenset({0, 1}),
            unavailable=_slow_peer(slow_peers) or (None if validate else "kubernetes-validate is not installed"),
        ),
        Command(
            "checkov",
            "checkov --framework kubernetes",
            [
                [
                    checkov or "checkov",
                    "--directory",
                    str(workspace.tree),
                    "--framework",
                    "kubernetes",
                    "--quiet",
                    "--compact",
                    # No network here; without this checkov tries to fetch policy metadata.
                    "--skip-download",
                ]
            ],
            ok_exit_codes=frozenset({0, 1}),
            unavailable=_slow_peer(slow_peers)
            or (None if checkov else "checkov is not installed (benchmarks/.peers/bin/pip install checkov, or put it on PATH)"),
        ),
        Command(
            "floor_load",
            "floor: PyYAML C loader",
            [[python, "-c", LOAD_FLOOR, str(workspace.root / "files.txt")]],
        ),
        Command(
            "floor_dump",
            "floor: PyYAML C dumper",
            [[python, "-c", DUMP_FLOOR, str(workspace.root / "objects.pickle"), str(workspace.dump_target)]],
            prepare=_reset(workspace.dump_target),
        ),
        Command(
            "floor_load_fast",
            "floor: yaml-rs load",
            [[python, "-c", FAST_LOAD_FLOOR, str(workspace.root / "files.txt")]],
        ),
        Command(
            "floor_dump_fast",
            "floor: yaml-rs dump",
            [[python, "-c", FAST_DUMP_FLOOR, str(workspace.root / "objects.pickle"), str(workspace.dump_target)]],
            prepare=_reset(workspace.dump_target),
        ),
    ]


def _slow_peer(wanted: bool) -> str | None:
    return None if wanted else "not run at this size (one run takes ~15 min here; no target compares with it)"


def startup_commands() -> list[Command]:
    return [
        Command("version", "mlgitops --version", [[*mlgitops(), "--version"]]),
        Command("import_click", 'python -c "import click"', [[sys.executable, "-c", "import click"]]),
    ]
