"""What a kustomization would make `kubectl kustomize` fetch or read: refused unless the user allows it.

`lint` builds a kustomize root that transforms its objects with ``kubectl kustomize``. Kustomize
fetches ``resources:`` (and ``components:``, legacy ``bases:``) given as git or HTTP URLs, and reads
folders anywhere on disk. A pull request could thus make CI fetch from the network or read outside
the repository. Before building, every such entry of the root (and of the local kustomizations it
includes) must be a file or folder inside the repository; otherwise `lint` stops with one line
naming the entry, unless ``--allow-remote`` is given.

Source: kustomize's `resources` field (files, directories, or remote targets such as
``https://github.com/org/repo//path?ref=v1`` and ``github.com/org/repo``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlgitops.errors import UserError
from mlgitops.kube.manifest import Manifest
from mlgitops.paths import is_inside, shown_path

SOURCE_FIELDS = ("resources", "components", "bases")
# Fields whose entries kustomize loads as files: its loader fetches one given as an http(s) URL.
_FILE_LISTS = ("crds", "configurations", "generators", "transformers", "validators", "patchesStrategicMerge")
_PATH_ITEMS = ("patches", "patchesJson6902", "replacements")
_GENERATORS = ("configMapGenerator", "secretGenerator")
_SCHEMES = ("://", "git@")
# Nested kustomizations deeper than this are a loop or an attack.
_MAX_DEPTH = 32


def check_sources(
    folder: Path,
    kustomization: Manifest,
    repository: Path,
    kustomization_of: Callable[[Path], Manifest | None],
) -> None:
    """Raise UserError, at the entry's line, for the first entry that is remote or leads outside ``repository``.

    ``kustomization_of(folder)`` reads a folder's kustomization (None when it has none).
    """
    pending: list[tuple[Path, Manifest, int]] = [(folder, kustomization, 0)]
    # Fields that name files: a URL there is fetched by kustomize's loader.
    seen: set[str] = set()
    while pending:
        current, located, depth = pending.pop()
        fields = located.obj
        for path, entry in _file_entries(fields):
            if any(scheme in entry for scheme in _SCHEMES) and "\n" not in entry:
                raise UserError(
                    f"{'.'.join(map(str, path))}: {entry!r} is a URL; mlgitops does not let kubectl kustomize fetch remote "
                    "files (pass --allow-remote to allow it)",
                    located.locate(path),
                )
        if depth > _MAX_DEPTH:
            raise UserError(f"{shown_path(current)}: kustomizations include each other more than {_MAX_DEPTH} levels deep")
        for field in SOURCE_FIELDS:
            entries = fields.get(field)
            for index, entry in enumerate(entries if isinstance(entries, list) else []):
                if not isinstance(entry, str):
                    continue
                target = current / entry
                where = f"{field}[{index}]: {entry!r}"
                at = located.locate((field, index))
                if "://" in entry or entry.startswith("git@") or not os.path.lexists(target):
                    raise UserError(
                        f"{where} is not a file or folder in the repository; mlgitops does not let kubectl kustomize "
                        "fetch remote resources (pass --allow-remote to allow it)",
                        at,
                    )
                if not is_inside(target, repository):
                    raise UserError(
                        f"{where} leads outside the repository ({shown_path(repository)}/); mlgitops reads nothing outside it "
                        "(pass --allow-remote to allow it)",
                        at,
                    )
                real = os.path.realpath(target)
                if os.path.isdir(real) and real not in seen:
                    seen.add(real)
                    nested = kustomization_of(Path(real))
                    if nested is not None:
                        pending.append((target, nested, depth + 1))


def _file_entries(fields: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Every entry of ``fields`` that kustomize loads as a file, with its field path."""
    found: list[tuple[tuple[str | int, ...], str]] = []

    def strings(path: tuple[str | int, ...], values: Any) -> None:
        for index, value in enumerate(values if isinstance(values, list) else []):
            if isinstance(value, str):
                found.append(((*path, index), value))

    for field in _FILE_LISTS:
        strings((field,), fields.get(field))
    for field in _PATH_ITEMS:
        for index, item in enumerate(fields.get(field) or [] if isinstance(fields.get(field), list) else []):
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                found.append(((field, index, "path"), item["path"]))
    for field in _GENERATORS:
        for index, item in enumerate(fields.get(field) or [] if isinstance(fields.get(field), list) else []):
            if isinstance(item, dict):
                for key in ("files", "envs"):
                    strings((field, index, key), item.get(key))
                if isinstance(item.get("env"), str):
                    found.append(((field, index, "env"), item["env"]))
    openapi = fields.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        found.append((("openapi", "path"), openapi["path"]))
    return found


__all__ = ["SOURCE_FIELDS", "check_sources"]
