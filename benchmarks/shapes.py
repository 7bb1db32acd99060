"""Shapes of input beside the clean fleet (issue 30): where lint must stay linear and near the floor.

- **dirty**: the fleet's rendered tree with a finding in most files (an invalid label value on three
  objects of four, and the first container's resources removed from every other workload), as on a
  team's first lint of an existing repository. Timed: lint, the PyYAML load floor over the same files,
  the PyYAML dump floor over the same objects, the kubernetes-validate CLI (up to --slow-peers-up-to).
- **stream**: every manifest of the seeded tree as one multi-document stream on standard input
  (`mlgitops lint -`, as after `kustomize build` or `helm template`), against lint of the tree.
- **one file / N files**: N small Deployments (each with findings) in one file, and the same N
  objects as N files.
- **findings in one object**: a ConfigMap with K and with 4K plain `kN: yes` values (two findings each); a Secret
  with K and 4K keys that are not valid key names (each finding redacted against every value of the Secret); a
  ConfigMap with K and 4K labels left as `<fill-me-N>` (each finding about one gives way to the placeholder note).
- **patches on one workload**: `render` of an environment whose one workload has K and 4K patches, each adding an env
  variable (one-operation JSON patches; strategic merge patches, merged into the env list by name).

Every target is a ratio of two commands of the same run.
"""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path
from typing import Any

import yaml
from corpus import Workspace, manifest_files
from finding_objects import invalid_secret_keys, labels_to_fill, yes_values
from fleet import KUBERNETES_VERSION
from measure import Command, Row, find_tool, mlgitops
from peers import DUMP_FLOOR, LOAD_FLOOR
from report import Target, at_least, at_most, median_of, time_ratio, why_missing

LINT_EXITS = frozenset({0, 1})
"""1: findings, which every shape here has."""


def _reset(folder: Path) -> Any:
    def reset() -> None:
        if folder.exists():
            shutil.rmtree(folder)

    return reset


def _dirty(obj: dict[str, Any], index: int) -> None:
    """A finding for most objects: an invalid label value (3 of 4), no resources on a workload's container (1 of 2)."""
    if index % 4 != 3:
        obj.setdefault("metadata", {}).setdefault("labels", {})["cost-center"] = "ML Platform"
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if obj.get("kind") == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    pod = spec.get("template", {}).get("spec", {}) if isinstance(spec.get("template"), dict) else {}
    containers = pod.get("containers") if isinstance(pod, dict) else None
    if index % 2 == 0 and isinstance(containers, list) and containers and isinstance(containers[0], dict):
        containers[0].pop("resources", None)


def prepare_dirty(workspace: Workspace) -> tuple[Path, int, int]:
    """Copy the rendered tree with findings seeded; returns the dirty tree, its manifest files and how many were changed."""
    dirty = workspace.root / "dirty"
    if dirty.exists():
        shutil.rmtree(dirty)
    shutil.copytree(workspace.rendered, dirty)
    files = manifest_files(dirty)
    changed = 0
    contents = []
    for index, path in enumerate(files):
        with path.open("rb") as stream:
            documents = [doc for doc in yaml.load_all(stream, Loader=yaml.CSafeLoader) if doc is not None]
        before = pickle.dumps(documents)
        for document in documents:
            if isinstance(document, dict):
                _dirty(document, index)
        if pickle.dumps(documents) != before:
            changed += 1
            with path.open("w", encoding="utf-8") as stream:
                yaml.dump_all(documents, stream, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False)
        contents.append((path.relative_to(dirty).as_posix(), documents))
    (workspace.root / "dirty-files.txt").write_text("\n".join(str(p) for p in files), encoding="utf-8")
    with (workspace.root / "dirty-objects.pickle").open("wb") as stream:
        pickle.dump(contents, stream, protocol=pickle.HIGHEST_PROTOCOL)
    return dirty, len(files), changed


def dirty_commands(workspace: Workspace, dirty: Path, python: str, *, slow_peers: bool) -> list[Command]:
    """Lint of the dirty tree, the two PyYAML floors over the same files and objects, kubernetes-validate."""
    files = [str(p) for p in manifest_files(dirty)]
    validate = find_tool("kubernetes-validate")
    target = workspace.root / "dirty-dump-floor"
    unavailable = None if validate else "kubernetes-validate is not installed"
    if not slow_peers:
        unavailable = "not run at this size (no target compares with it)"
    return [
        Command("dirty_lint", "mlgitops lint (dirty tree)", [[*mlgitops(), "lint", str(dirty)]], ok_exit_codes=LINT_EXITS),
        Command(
            "dirty_floor_load",
            "floor: PyYAML C loader (dirty)",
            [[python, "-c", LOAD_FLOOR, str(workspace.root / "dirty-files.txt")]],
        ),
        Command(
            "dirty_floor_dump",
            "floor: PyYAML C dumper (dirty)",
            [[python, "-c", DUMP_FLOOR, str(workspace.root / "dirty-objects.pickle"), str(target)]],
            prepare=_reset(target),
        ),
        Command(
            "dirty_kubernetes_validate",
            "kubernetes-validate --strict (dirty)",
            [[validate or "kubernetes-validate", "--strict", "-k", f"{KUBERNETES_VERSION}.0", *files]],
            ok_exit_codes=LINT_EXITS,
            unavailable=unavailable,
        ),
    ]


def dirty_targets(dirty: dict[str, Row], fleet: dict[str, Row], count: int) -> list[Target]:
    """Issue 30's dirty-corpus targets: near the floor at N = 1000, far ahead of kubernetes-validate at N = 100."""
    lint, load, dump = (median_of(dirty, k) for k in ("dirty_lint", "dirty_floor_load", "dirty_floor_dump"))
    targets = []
    if count >= 1000:
        targets.append(
            at_most(
                "dirty: lint <= 0.7 x PyYAML load floor",
                time_ratio(lint, load),
                0.7,
                "x",
                why_missing(dirty, "dirty_lint", "dirty_floor_load"),
            )
        )
        render = median_of(fleet, "render")
        why = why_missing(fleet, "render") or why_missing(dirty, "dirty_floor_dump")
        targets.append(at_most("dirty: render <= 0.9 x PyYAML dump floor", time_ratio(render, dump), 0.9, "x", why))
    if count <= 100:
        validate = median_of(dirty, "dirty_kubernetes_validate")
        why = why_missing(dirty, "dirty_lint", "dirty_kubernetes_validate")
        targets.append(at_least("dirty: lint >= 15 x faster than kubernetes-validate", time_ratio(validate, lint), 15, "x", why))
    return targets


def prepare_stream(workspace: Workspace) -> tuple[Path, int]:
    """Every manifest file of the seeded tree, in path order, as one stream; returns it and its size in bytes."""
    stream = workspace.root / "stream.yaml"
    with stream.open("w", encoding="utf-8") as out:
        for path in manifest_files(workspace.tree):
            text = path.read_text(encoding="utf-8")
            out.write(text if text.startswith("---") else f"---\n{text}")
            if not text.endswith("\n"):
                out.write("\n")
    return stream, stream.stat().st_size


def stream_commands(stream: Path) -> list[Command]:
    return [
        Command("stream_lint", "mlgitops lint - (fleet as one stream)", [[*mlgitops(), "lint", "-"]], LINT_EXITS, stdin=stream)
    ]


def stream_targets(stream: dict[str, Row], fleet: dict[str, Row]) -> list[Target]:
    ratio = time_ratio(median_of(stream, "stream_lint"), median_of(fleet, "lint"))
    why = why_missing(stream, "stream_lint") or why_missing(fleet, "lint")
    return [at_most("stream: lint - <= 1.5 x lint of the same files", ratio, 1.5, "x", why)]


def small_deployment(index: int) -> str:
    """A Deployment with findings (no resources, may run as root): the shape of `kustomize build` output."""
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        f"  name: app-{index}\n  namespace: team-a\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n"
        f"      app: app-{index}\n  template:\n    metadata:\n      labels:\n        app: app-{index}\n"
        f"    spec:\n      containers:\n      - name: main\n        image: ghcr.io/acme/app:1.{index % 10}.0\n"
    )


def prepare_objects(root: Path, count: int) -> tuple[Path, Path]:
    """``count`` small Deployments as one file, and as ``count`` files in a folder."""
    folder = root / f"objects-{count}"
    if folder.exists():
        shutil.rmtree(folder)
    many = folder / "files"
    many.mkdir(parents=True)
    texts = [small_deployment(index) for index in range(count)]
    one = folder / "one.yaml"
    one.write_text("---\n".join(texts), encoding="utf-8")
    for index, text in enumerate(texts):
        (many / f"deployment-{index:05d}.yaml").write_text(text, encoding="utf-8")
    return one, many


def object_commands(one: Path, many: Path, count: int) -> list[Command]:
    return [
        Command(f"one_file_{count}", f"lint one file of {count} objects", [[*mlgitops(), "lint", str(one)]], LINT_EXITS),
        Command(f"many_files_{count}", f"lint {count} files of one object", [[*mlgitops(), "lint", str(many)]], LINT_EXITS),
    ]


def object_targets(rows: dict[str, Row], count: int) -> list[Target]:
    one, many = f"one_file_{count}", f"many_files_{count}"
    ratio = time_ratio(median_of(rows, one), median_of(rows, many))
    return [at_most(f"one file of {count} objects <= 1.5 x {count} files", ratio, 1.5, "x", why_missing(rows, one, many))]


# (key prefix, what the object is, what the target calls it, the object with K findings)
FINDING_OBJECTS = (
    ("findings", "ConfigMap of {k} `kN: yes`", "one object", yes_values),
    ("findings_secret", "Secret of {k} invalid keys", "one Secret (redacted)", invalid_secret_keys),
    ("findings_placeholder", "{k} labels left `<fill-me>`", "one object's placeholders", labels_to_fill),
)


def prepare_findings(root: Path, count: int) -> dict[str, tuple[Path, Path]]:
    """For each of ``FINDING_OBJECTS``, the object with ``count`` findings and with 4 x ``count``, by key prefix."""
    folder = root / "findings"
    folder.mkdir(parents=True, exist_ok=True)
    prepared = {}
    for prefix, _, _, text in FINDING_OBJECTS:
        paths = []
        for values in (count, 4 * count):
            path = folder / f"{prefix}-{values}.yaml"
            path.write_text(text(values), encoding="utf-8")
            paths.append(path)
        prepared[prefix] = (paths[0], paths[1])
    return prepared


def findings_commands(prepared: dict[str, tuple[Path, Path]], count: int) -> list[Command]:
    commands = []
    for prefix, label, _, _ in FINDING_OBJECTS:
        small, large = prepared[prefix]
        commands += [
            Command(f"{prefix}_small", f"lint {label.format(k=count)}", [[*mlgitops(), "lint", str(small)]], LINT_EXITS),
            Command(f"{prefix}_large", f"lint {label.format(k=4 * count)}", [[*mlgitops(), "lint", str(large)]], LINT_EXITS),
        ]
    return commands


def findings_targets(rows: dict[str, Row]) -> list[Target]:
    targets = []
    for prefix, _, what, _ in FINDING_OBJECTS:
        small, large = f"{prefix}_small", f"{prefix}_large"
        ratio = time_ratio(median_of(rows, large), median_of(rows, small))
        name = f"4 x the findings in {what} <= 5 x the time"
        targets.append(at_most(name, ratio, 5.0, "x", why_missing(rows, small, large)))
    return targets


# (key prefix, what the patches are, one patch adding env variable N to the workload's Job)
PATCH_KINDS = (
    (
        "patches_json",
        "JSON patches",
        "  - {{target: {{kind: Job}}, jsonPatch: [{{op: add, path: {env}/-, value: {{name: V{n}, value: x}}}}]}}\n",
    ),
    (
        "patches_merge",
        "strategic merge patches",
        "  - {{target: {{kind: Job}}, strategicMerge: {{spec: {{template: {{spec: {{containers: "
        "[{{name: train, env: [{{name: V{n}, value: x}}]}}]}}}}}}}}}}\n",
    ),
)
ENV_LIST = "/spec/template/spec/containers/0/env"


def patched_environment(patch: str, count: int) -> str:
    """An environment whose one training workload has ``count`` patches made from ``patch`` (and, first, one that gives
    its container an empty env list)."""
    first = f"  - {{target: {{kind: Job}}, jsonPatch: [{{op: add, path: {ENV_LIST}, value: []}}]}}\n"
    patches = "".join(patch.format(env=ENV_LIST, n=index) for index in range(count))
    return (
        f'namespace: ml\nkubernetesVersion: "{KUBERNETES_VERSION}"\nnetworkPolicy: {{}}\nworkloads:\n- name: train\n'
        '  kind: training\n  image: "registry.example/train:1"\n  resources: {cpu: "1", memory: 1Gi}\n'
        f"  patches:\n{first}{patches}"
    )


def prepare_patches(root: Path, count: int) -> dict[str, tuple[Path, Path]]:
    """For each of ``PATCH_KINDS``, an environments folder with ``count`` patches and one with 4 x ``count``."""
    prepared = {}
    for prefix, _, patch in PATCH_KINDS:
        folders = []
        for patches in (count, 4 * count):
            folder = root / "patches" / f"{prefix}-{patches}"
            if folder.exists():
                shutil.rmtree(folder)
            (folder / "environments").mkdir(parents=True)
            (folder / "environments" / "dev.yaml").write_text(patched_environment(patch, patches), encoding="utf-8")
            folders.append(folder)
        prepared[prefix] = (folders[0], folders[1])
    return prepared


def patches_commands(prepared: dict[str, tuple[Path, Path]], count: int) -> list[Command]:
    commands = []
    for prefix, what, _ in PATCH_KINDS:
        for size, folder, patches in (("small", prepared[prefix][0], count), ("large", prepared[prefix][1], 4 * count)):
            out = folder / "rendered"
            step = [*mlgitops(), "render", "-d", str(folder / "environments"), "--output", str(out)]
            commands.append(Command(f"{prefix}_{size}", f"render {patches} {what} on one workload", [step], prepare=_reset(out)))
    return commands


def patches_targets(rows: dict[str, Row]) -> list[Target]:
    targets = []
    for prefix, what, _ in PATCH_KINDS:
        small, large = f"{prefix}_small", f"{prefix}_large"
        ratio = time_ratio(median_of(rows, large), median_of(rows, small))
        name = f"4 x the {what} on one workload <= 5 x the time"
        targets.append(at_most(name, ratio, 5.0, "x", why_missing(rows, small, large)))
    return targets
