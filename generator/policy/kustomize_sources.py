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

from generator.errors import UserError
from generator.kube.manifest import Manifest
from generator.paths import is_inside, shown_path

SOURCE_FIELDS = ("resources", "components", "bases")
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
    seen: set[str] = set()
    while pending:
        current, located, depth = pending.pop()
        fields = located.obj
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


__all__ = ["SOURCE_FIELDS", "check_sources"]
