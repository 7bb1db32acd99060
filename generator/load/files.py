"""Read the repository files an environment names: ConfigMap files and extra manifests.

A path is relative to the environment file that wrote it (a base's paths stay relative to the
base), and must lead to a regular file inside the repository: a pull request must not be able to
copy a runner's files into rendered/ (and so into a diff or a comment).
"""

from __future__ import annotations

from pathlib import Path

from mlgitops.errors import UserError, UserErrors
from mlgitops.paths import shown_path
from mlgitops.spec.environment import Environment
from mlgitops.spec.files import FieldPath, RepositoryFile
from mlgitops.yaml.source import SourceNode, locate, read_text


def repository_root(environments: Path) -> Path:
    """The folder holding `.git` above the environments folder, or the environments folder's parent."""
    start = environments.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start.parent


def named_files(spec: Environment) -> list[FieldPath]:
    """Spec paths of every field that names a repository file."""
    paths: list[FieldPath] = [("manifests", i) for i in range(len(spec.manifests))]
    for index, workload in enumerate(spec.workloads):
        paths += [("workloads", index, "manifests", i) for i in range(len(workload.manifests))]
    for index, config_map in enumerate(spec.config_maps):
        paths += [("configMaps", index, "files", i, "path") for i in range(len(config_map.files))]
    return paths


def _value(spec: Environment, path: FieldPath) -> str:
    node: object = spec
    for segment in path:
        node = node[segment] if isinstance(segment, int) else getattr(node, _attribute(segment))  # type: ignore[index]
    return str(node)


def _attribute(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def read_named_files(spec: Environment, tree: SourceNode, layers: dict[str, Path], root: Path) -> dict[FieldPath, RepositoryFile]:
    """The text of every file ``spec`` names; ``layers`` maps each layer's shown path to its real path."""
    repository = repository_root(root)
    found: dict[FieldPath, RepositoryFile] = {}
    errors: list[UserError] = []
    for path in named_files(spec):
        where, shown_field = locate(tree, path)
        written = _value(spec, path)
        writer = layers.get(where.file)
        base = writer.parent if writer is not None else root
        target = base / written
        try:
            real = target.resolve()
            inside = real.is_relative_to(repository)
            regular = real.is_file()
        except (OSError, ValueError, RuntimeError):
            errors.append(UserError(f"{shown_field}: {written!r} is not a usable file name", where))
            continue
        if not inside:
            errors.append(
                UserError(f"{shown_field}: {written!r} leads outside the repository ({shown_path(repository)}/)", where)
            )
        elif not regular:
            errors.append(UserError(f"{shown_field}: file {written!r} not found next to {where.file}", where))
        else:
            shown = shown_path(target)
            try:
                found[path] = RepositoryFile(shown, read_text(target, shown))
            except UserError as error:
                errors.append(error)
    if errors:
        raise UserErrors(errors)
    return found
