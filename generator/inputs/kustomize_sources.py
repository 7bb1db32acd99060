"""What a kustomization would make `kubectl kustomize` fetch, run or read: refused before the build.

`lint` builds a kustomize root that transforms its objects with ``kubectl kustomize``. A pull request
controls that root, so before the build every entry kustomize would load is checked, in the root and in
every kustomization it reaches, and the first that would do any of the following stops `lint` with one
line at the entry:

- **fetch**: an entry kustomize reads as a remote (``https://…``, ``git@host:…``, ``ssh://…``,
  ``file://…``, and the scheme-less ``github.com/org/repo`` shorthand). kustomize tries the remote
  reading of a folder entry *before* the local folder (kustomize v5 ``api/internal/target``:
  ``accumulateResources`` → ``loader.New``, which parses ``git.NewRepoSpecFromURL`` first): even a
  folder of the repository named ``github.com/acme/base`` makes it run ``git fetch``. Such entries are
  refused unless ``--allow-remote`` is given; ``./github.com/acme/base`` names the folder;
- **read outside the repository**: a folder kustomize loads as a kustomization (``resources``,
  ``components``, ``bases``, and ``generators``, ``transformers`` and ``validators``, whose folder
  entries are kustomizations too) that leads outside the repository, or a kustomization file that is a
  link leading out. kustomize's own load restrictor (``LoadRestrictionsRootOnly``) keeps the *files* a
  kustomization reads inside its folder, so checking every kustomization folder keeps every read inside;
- **run a program**: ``helmCharts``/``helmGlobals`` (helm, which may also download charts), and
  generator, transformer and validator configurations that are KRM functions
  (``config.kubernetes.io/function``: a container image, an executable or starlark) or that name
  anything but a kustomize built-in (``apiVersion: builtin``), which kustomize runs as an exec or Go
  plugin. These are refused whatever the flags: mlgitops never runs what a pull request names. Build
  such a root yourself and lint its output (``kubectl kustomize --enable-helm DIR | mlgitops lint -``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgitops.errors import UserError
from mlgitops.inputs.kustomize_roots import kustomization_file
from mlgitops.kube.manifest import Manifest
from mlgitops.paths import is_inside, shown_path
from mlgitops.yaml.reader import load_documents
from mlgitops.yaml.text import decode, read_capped

FieldPath = tuple[str | int, ...]
# Fields whose entries kustomize loads as a file or, for a folder, as a kustomization of its own.
SOURCE_FIELDS = ("resources", "components", "bases")
PLUGIN_FIELDS = ("generators", "transformers", "validators")
KUSTOMIZATION_FIELDS = SOURCE_FIELDS + PLUGIN_FIELDS
# Fields whose entries kustomize loads as files only: its loader fetches one given as an http(s) URL.
_FILE_LISTS = ("crds", "configurations", "patchesStrategicMerge")
_PATH_ITEMS = ("patches", "patchesJson6902", "replacements")
_GENERATORS = ("configMapGenerator", "secretGenerator")
# Fields that make kustomize run helm (`kubectl kustomize --enable-helm`).
HELM_FIELDS = ("helmCharts", "helmGlobals", "helmChartInflationGenerator")
FUNCTION_ANNOTATIONS = ("config.kubernetes.io/function", "config.k8s.io/function")
# kustomize v5's built-in plugins (api/internal/builtins), configured with `apiVersion: builtin`.
BUILTIN_KINDS = frozenset(
    {
        "AnnotationsTransformer",
        "ConfigMapGenerator",
        "HashTransformer",
        "IAMPolicyGenerator",
        "ImageTagTransformer",
        "LabelTransformer",
        "NamespaceTransformer",
        "PatchJson6902Transformer",
        "PatchStrategicMergeTransformer",
        "PatchTransformer",
        "PrefixSuffixTransformer",
        "PrefixTransformer",
        "ReplacementTransformer",
        "ReplicaCountTransformer",
        "SecretGenerator",
        "SortOrderTransformer",
        "SuffixTransformer",
        "ValueAddTransformer",
    }
)
# Nested kustomizations deeper than this are a loop or an attack.
_MAX_DEPTH = 32
# A generator or transformer configuration is a small file; read at most this much of one.
_CONFIG_BYTES = 1_000_000
_OPT_IN = "(pass --allow-remote to allow it)"
_BUILD_IT_YOURSELF = "build the root yourself and lint the output (kubectl kustomize … | mlgitops lint -)"


@dataclass(frozen=True)
class _Kustomization:
    folder: Path
    located: Manifest
    depth: int
    configures: bool
    """Reached through generators/transformers/validators: the objects it lists are plugin configurations."""


def check_sources(
    folder: Path,
    kustomization: Manifest,
    repository: Path,
    read: Callable[[Path], Manifest],
    allow_remote: bool = False,
) -> None:
    """Raise UserError, at the entry's line, for the first entry that would make kustomize fetch, run a program,
    or read outside ``repository`` (fetching and reading outside are allowed with ``allow_remote``).

    ``read(path)`` reads a kustomization file into its fields with their positions.
    """
    pending = [_Kustomization(folder, kustomization, 0, configures=False)]
    seen: set[str] = {os.path.realpath(folder)}
    while pending:
        current = pending.pop()
        if current.depth > _MAX_DEPTH:
            raise UserError(f"{shown_path(current.folder)}: kustomizations include each other more than {_MAX_DEPTH} levels deep")
        fields = current.located.obj
        _refuse_helm(current.located)
        for path, entry in _file_entries(fields):
            if not allow_remote and _is_url(entry):
                fetch = f"mlgitops does not let kubectl kustomize fetch remote files {_OPT_IN}"
                raise UserError(f"{_shown_field(path)}: {entry!r} is a URL; {fetch}", current.located.locate(path))
        for path, entry in _kustomization_entries(fields):
            at = current.located.locate(path)
            where = f"{_shown_field(path)}: {entry!r}"
            configures = current.configures or path[0] in PLUGIN_FIELDS
            inline = _inline_configs(entry) if path[0] in PLUGIN_FIELDS else []
            if inline:
                _refuse_plugins(inline, f"{_shown_field(path)}: the inline configuration", at)
                continue
            target = current.folder / entry
            problem = _problem(entry, target, repository, allow_remote)
            if problem is not None:
                raise UserError(f"{where} {problem}", at)
            real = os.path.realpath(target)
            if os.path.isdir(real):
                nested = kustomization_file(Path(real))
                if nested is None or real in seen:
                    continue
                seen.add(real)
                if not allow_remote and not is_inside(nested, repository):
                    raise UserError(f"{where}: its {nested.name} is a symbolic link leading outside the repository {_OPT_IN}", at)
                pending.append(_Kustomization(target, read(nested), current.depth + 1, configures))
            elif configures and os.path.isfile(real):
                _refuse_plugins(_file_configs(real), where, at)


def _problem(entry: str, target: Path, repository: Path, allow_remote: bool) -> str | None:
    """Why kustomize must not load the kustomization entry ``entry`` (at ``target``), or None."""
    if allow_remote:
        return None
    try:
        is_file = os.path.isfile(target)
        exists = os.path.lexists(target)
    except (OSError, ValueError):
        return "is not a usable file name"
    if not is_file and _names_a_remote(entry):
        if exists:
            return (
                "is how kustomize names a remote git repository (it would run git fetch), even though a folder of that name "
                f"exists; write './{entry}' to mean the folder {_OPT_IN}"
            )
        return (
            f"is not a file or folder in the repository; mlgitops does not let kubectl kustomize fetch remote resources {_OPT_IN}"
        )
    if not exists:
        # A name kustomize finds neither as a file nor as a folder, it tries as a remote.
        return (
            f"is not a file or folder in the repository; mlgitops does not let kubectl kustomize fetch remote resources {_OPT_IN}"
        )
    if not is_inside(target, repository):
        return f"leads outside the repository ({shown_path(repository)}/); mlgitops reads nothing outside it {_OPT_IN}"
    return None


def _is_url(entry: str) -> bool:
    return "\n" not in entry and ("://" in entry or entry.startswith("git@"))


def _names_a_remote(entry: str) -> bool:
    """Whether kustomize may read the (non-file) entry as a remote: a scheme, ``user@host:path``, ``host:path``,
    a first segment that is a host name (``github.com/org/repo``), a ``//`` subfolder or a ``?ref=`` query.

    Wider than any one kustomize release's parser (``api/internal/git/repospec.go``), on purpose: a local
    folder so named can always be written ``./name``.
    """
    first, slash, _ = entry.replace("\\", "/").partition("/")
    return (
        "://" in entry
        or "::" in entry
        or "//" in entry
        or "?" in entry
        or ":" in first
        or "@" in first
        or (bool(slash) and "." in first and first not in (".", ".."))
    )


def _refuse_helm(located: Manifest) -> None:
    for field in HELM_FIELDS:
        if located.obj.get(field):
            raise UserError(
                f"{field}: kustomize would run helm (which may also download charts); mlgitops never runs programs a "
                f"kustomization names: {_BUILD_IT_YOURSELF.replace('kustomize …', 'kustomize --enable-helm …')}",
                located.locate((field,), key=True),
            )


def _refuse_plugins(configs: list[Any], where: str, at: Any) -> None:
    for config in configs:
        problem = _plugin_problem(config)
        if problem is not None:
            raise UserError(f"{where} {problem}; mlgitops never runs programs a kustomization names: {_BUILD_IT_YOURSELF}", at)


def _plugin_problem(config: Any) -> str | None:
    """Why kustomize would run a program for this generator/transformer/validator configuration, or None."""
    if not isinstance(config, dict):
        return None
    metadata = config.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(annotations, dict) and any(key in annotations for key in FUNCTION_ANNOTATIONS):
        return "configures a KRM function (a container image, an executable or starlark that kustomize would run)"
    kind = config.get("kind")
    if kind == "HelmChartInflationGenerator":
        return "configures helm chart inflation (kustomize would run helm, which may also download charts)"
    if config.get("apiVersion") != "builtin" or kind not in BUILTIN_KINDS:
        return f"configures the plugin {str(kind)!r}, not a kustomize built-in (kustomize would run it as a program)"
    return None


def _inline_configs(entry: str) -> list[Any]:
    """The configurations written inline in a generators/transformers/validators entry (none for a path).

    kustomize reads an entry as inline configuration when it parses as objects (kusttarget.go
    ``configureExternalGenerators``), and as a path otherwise.
    """
    if "\n" not in entry and not entry.lstrip().startswith("{"):
        return []
    try:
        documents = load_documents(entry, "<inline>")
    except UserError:
        return []
    return [document for document in documents if isinstance(document, dict)]


def _file_configs(path: str) -> list[Any]:
    """The configurations a generator/transformer file holds (none when unreadable: kubectl then says why)."""
    try:
        raw, _ = read_capped(path, _CONFIG_BYTES)
        return [document for document in load_documents(decode(raw[:_CONFIG_BYTES], path, "not YAML"), path) if document]
    except (OSError, UserError):
        return []


def _shown_field(path: FieldPath) -> str:
    return "".join(f"[{segment}]" if isinstance(segment, int) else f".{segment}" for segment in path).lstrip(".")


def _kustomization_entries(fields: dict[str, Any]) -> Iterator[tuple[FieldPath, str]]:
    for field in KUSTOMIZATION_FIELDS:
        entries = fields.get(field)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, str):
                yield (field, index), entry


def _file_entries(fields: dict[str, Any]) -> list[tuple[FieldPath, str]]:
    """Every entry of ``fields`` that kustomize loads as a file, with its field path."""
    found: list[tuple[FieldPath, str]] = []

    def strings(path: FieldPath, values: Any) -> None:
        for index, value in enumerate(values if isinstance(values, list) else []):
            if isinstance(value, str):
                found.append(((*path, index), value))

    def items(field: str) -> list[Any]:
        values = fields.get(field)
        return values if isinstance(values, list) else []

    for field in _FILE_LISTS:
        strings((field,), fields.get(field))
    for field in _PATH_ITEMS:
        for index, item in enumerate(items(field)):
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                found.append(((field, index, "path"), item["path"]))
    for field in _GENERATORS:
        for index, item in enumerate(items(field)):
            if isinstance(item, dict):
                for key in ("files", "envs"):
                    strings((field, index, key), item.get(key))
                if isinstance(item.get("env"), str):
                    found.append(((field, index, "env"), item["env"]))
    openapi = fields.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        found.append((("openapi", "path"), openapi["path"]))
    return found


__all__ = ["KUSTOMIZATION_FIELDS", "SOURCE_FIELDS", "check_sources"]
