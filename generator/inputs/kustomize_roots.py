"""Kustomize roots as lint finds them: which file is the kustomization, and whether only a build shows the objects.

A root whose kustomization only lists its own files (and sets a ``namespace:``) is linted file by
file, as written, which keeps every finding at its own file and line; a root that changes what its
files say, or reaches beyond its folder, is built with ``kubectl kustomize`` first
(``inputs/kustomize_build.py``). The fields follow kustomize v5's Kustomization type.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

TRANSFORMING = (
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "generators",
    "transformers",
    "components",
    "replacements",
    "images",
    "replicas",
    "namePrefix",
    "nameSuffix",
    "helmCharts",
    "commonLabels",
    "commonAnnotations",
    "vars",
)


def leads_inside(path: Path, root: str) -> bool:
    target = os.path.realpath(path)
    return target == root or target.startswith(root.rstrip(os.sep) + os.sep)


def kustomization_file(folder: Path) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        try:
            if (folder / name).is_file():
                return folder / name
        except OSError:  # a folder that cannot be searched: the walk reports it when it lists the folder
            return None
    return None


def _labels_reach_selectors(settings: dict[str, Any]) -> bool:
    """Whether a kustomize v5 ``labels:`` entry also writes selectors or pod templates (``includeSelectors``,
    ``includeTemplates``). Entries that only label objects' metadata (as mlgitops's own roots do, on
    objects that already carry the labels) leave the files to be linted as written."""
    entries = settings.get("labels")
    return any(
        isinstance(entry, dict) and (entry.get("includeSelectors") is True or entry.get("includeTemplates") is True)
        for entry in (entries if isinstance(entries, list) else [])
    )


def _reaches_beyond(folder: Path, settings: dict[str, Any]) -> bool:
    """Whether the kustomization's ``resources`` (or ``bases``) name anything but files inside ``folder``:
    another folder (a base), a file outside, or a remote. Only kustomize can say what such a root holds."""
    for key in ("resources", "bases"):
        entries = settings.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, str):
                return True  # kubectl's to refuse, with its own message
            try:
                if "/" not in entry and "\\" not in entry and entry not in (".", ".."):
                    # A file of this folder (the common case, thousands of them): one stat; a link among
                    # them that leads outside is refused by the walk itself.
                    if not os.path.isfile(os.path.join(folder, entry)):
                        return True
                elif not (folder / entry).is_file() or not leads_inside(folder / entry, os.path.realpath(folder)):
                    return True
            except (OSError, ValueError):
                return True
    return False


def needs_build(folder: Path, settings: dict[str, Any]) -> bool:
    """Whether only ``kubectl kustomize`` shows what the root at ``folder`` holds: its kustomization
    (``settings``) transforms its files, writes labels into selectors or templates, or reaches beyond the folder."""
    return any(key in settings for key in TRANSFORMING) or _labels_reach_selectors(settings) or _reaches_beyond(folder, settings)
