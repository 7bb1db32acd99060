"""The layout shows the pipeline: packages in pipeline order, no loose modules, no import cycle, small files; tests mirror it."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import REPO

PACKAGE = REPO / "generator"
TOP_LEVEL_MODULES = {"__init__.py", "cli.py", "errors.py", "paths.py"}
MAX_LINES = 400


# Low to high, the order data flows in: a module may import its own package and packages before it, never one
# after it (a lazy import inside a function counts too). `processes` (the work split over two processes) is the
# lowest layer above errors and paths; `inputs` is lint's load stage (files, folders, stdin, kustomize roots).
PIPELINE_ORDER = (
    "mlgitops",  # __init__: the version and the project's home
    "errors",
    "paths",
    "processes",
    "yaml",
    "kube",
    "spec",
    "load",
    "inputs",
    "render",
    "policy",
    "fleet",
    "output",
    "edit",
    "review",
    "scaffold",
    "commands",
    "cli",
)


def _module_name(path: Path) -> str:
    parts = ["mlgitops", *path.relative_to(PACKAGE).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package(module: str) -> str:
    """The pipeline stage of a module: its first name below mlgitops (``errors`` for mlgitops.errors)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, known: set[str]) -> set[str]:
    """Every generator module ``path`` imports, at the top or inside a function (a lazy import is still a dependency)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("mlgitops"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return found & known


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, known) - {name} for name, path in modules.items()}


def test_only_the_entry_points_stay_at_the_top_of_the_package() -> None:
    loose = sorted(path.name for path in PACKAGE.glob("*.py") if path.name not in TOP_LEVEL_MODULES)
    assert loose == [], f"move these into the package of their pipeline stage: {loose}"


def test_nothing_below_the_cli_imports_a_command_module() -> None:
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if target.startswith("mlgitops.commands") and not module.startswith("mlgitops.commands") and module != "mlgitops.cli"
    )
    assert upward == []


def test_every_package_has_its_place_in_the_pipeline_order() -> None:
    assert sorted({_package(module) for module in _modules()} - set(PIPELINE_ORDER)) == []


def test_no_package_imports_a_later_stage_of_the_pipeline() -> None:
    rank = {name: index for index, name in enumerate(PIPELINE_ORDER)}
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if rank[_package(target)] > rank[_package(module)]
    )
    assert upward == []


def test_the_package_graph_has_no_cycle() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        packages.setdefault(_package(module), set()).update(_package(target) for target in targets)
    assert _cycle({name: targets - {name} for name, targets in packages.items()}) is None


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a list of modules (first == last), or None; iterative depth-first search."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            target = next(stack[-1], None)
            if target is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(target) == 1:
                return [*path[path.index(target) :], target]
            elif target not in state:
                state[target] = 1
                path.append(target)
                stack.append(iter(sorted(graph[target])))
    return None


def test_the_module_graph_has_no_import_cycle() -> None:
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_python_file_is_over_400_lines() -> None:
    files = [*PACKAGE.rglob("*.py"), *(REPO / "benchmarks").rglob("*.py")]
    long = sorted(
        f"{path.relative_to(REPO)}: {lines}"
        for path in files
        if ".peers" not in path.parts and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    )
    assert long == []


# The tests mirror the code: tests of one workload kind in tests/kinds/test_<kind>.py, of the rules of one checks
# module (or one group of policies) in tests/rules/test_<module>.py, of one package in tests/<package>/, shared
# manifests in tests/manifests/; only cross-cutting subjects (bad or hostile input, the README, the release,
# this layout) stay at the top of tests/.
TESTS = REPO / "tests"
TEST_HOMES = {"kinds", "rules"}
"""Test folders that are not a package of generator/: one file per workload kind, one per checks module."""
KIND_HELPERS = {"test_registry.py"}
"""The tests of the registry itself (spec/kinds.py, render/kinds.py), the one file of tests/kinds/ not about one kind."""


def _stages() -> set[str]:
    """The pipeline's packages and the modules at the top of the package (cli, errors, paths)."""
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    return {path.parent.name for path in PACKAGE.glob("*/__init__.py")} | modules


def _kinds() -> set[str]:
    from mlgitops.spec.kinds import KINDS

    return {row.kind for row in KINDS.values()}


def _named_kind(stem: str, kinds: set[str]) -> bool:
    """Whether a tests/kinds file stem names registered kinds: a kind (llm_serving), a kind and its variant
    (serving_kserve), or the family several kinds share (ray: ray-job and ray-service)."""
    name = stem.removeprefix("test_").replace("_", "-")
    return any(name == kind or name.startswith(f"{kind}-") or kind.startswith(f"{name}-") for kind in kinds)


def test_each_kinds_test_file_names_a_registered_kind() -> None:
    kinds = _kinds()
    files = sorted(path.name for path in (TESTS / "kinds").glob("test_*.py") if path.name not in KIND_HELPERS)
    assert files, "tests/kinds/ holds the tests of each workload kind"
    assert [name for name in files if not _named_kind(name.removesuffix(".py"), kinds)] == []


def test_each_registered_kind_has_its_tests_file() -> None:
    names = {path.stem.removeprefix("test_").replace("_", "-") for path in (TESTS / "kinds").glob("test_*.py")}
    untested = sorted(kind for kind in _kinds() if not any(kind == name or kind.startswith(f"{name}-") for name in names))
    assert untested == [], "add tests/kinds/test_<kind>.py"


def test_the_kind_name_rule_refuses_what_is_no_kind() -> None:
    kinds = {"serving", "ray-job", "ray-service"}
    assert [_named_kind(stem, kinds) for stem in ("test_serving", "test_serving_kserve", "test_ray")] == [True] * 3
    assert [_named_kind(stem, kinds) for stem in ("test_servings", "test_gpu", "test_ray_cluster")] == [False] * 3


def test_each_rules_test_file_names_a_checks_module_or_a_policy() -> None:
    checks = {path.stem for path in (PACKAGE / "policy" / "checks").glob("*.py")}
    policies = {path.stem.replace("-", "_") for path in (REPO / "policies").glob("*.yaml")}
    stems = sorted(path.stem.removeprefix("test_") for path in (TESTS / "rules").glob("test_*.py"))
    assert stems, "tests/rules/ holds the tests of each checks module"
    assert [stem for stem in stems if stem not in checks | policies] == []


def test_test_folders_mirror_the_packages() -> None:
    folders = {path.parent.relative_to(TESTS).parts[0] for path in TESTS.rglob("test_*.py") if path.parent != TESTS}
    assert sorted(folders - _stages() - TEST_HOMES) == []


def test_no_test_at_the_top_of_tests_has_a_home_below() -> None:
    """A top-level test file named after a package or a kind belongs in that package's folder or tests/kinds/."""
    homes = _stages() | {kind.replace("-", "_") for kind in _kinds()}
    misplaced = sorted(
        path.name
        for path in TESTS.glob("test_*.py")
        if any(path.stem == f"test_{home}" or path.stem.startswith(f"test_{home}_") for home in homes)
    )
    assert misplaced == []
