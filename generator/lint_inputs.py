"""What `mlgitops lint` reads: files, folders, stdin and kustomize roots, as located manifests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import Location, UserError, UserErrors
from generator.manifest import Manifest, load_manifests
from generator.yaml_reader import iter_documents

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# A kustomization using any of these changes objects, so its files alone do not say what is applied.
_TRANSFORMING = (
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
MAX_FILE_BYTES = 20_000_000
ENVIRONMENT_LABEL = "mlgitops.io/environment"


@dataclass
class LintInput:
    manifests: list[Manifest] = field(default_factory=list)
    files: int = 0
    notes: list[str] = field(default_factory=list)


def _shown(path: Path) -> str:
    from generator.paths import shown_path

    return shown_path(path)


def _read(path: Path) -> str:
    shown = _shown(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UserError(f"cannot read: {error.strerror}", Location(shown, 1, 1)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise UserError(f"file is {len(raw):,} bytes; mlgitops lints files up to {MAX_FILE_BYTES:,} bytes", Location(shown, 1, 1))
    if b"\x00" in raw:
        raise UserError("binary content (a NUL byte): not a YAML file", Location(shown, 1, 1))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        raise UserError(
            f"byte 0x{raw[error.start]:02x} is not valid UTF-8",
            Location(shown, before.count(b"\n") + 1, error.start - (before.rfind(b"\n") + 1) + 1),
        ) from None


def _kustomization(folder: Path) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def _kustomization_settings(path: Path) -> dict[str, Any]:
    documents = list(iter_documents(_read(path), _shown(path)))
    settings = documents[0][2] if documents else None
    return settings if isinstance(settings, dict) else {}


def _build_with_kustomize(folder: Path) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise UserError(f"{_shown(folder)} uses kustomize transformers; install kubectl to lint what it builds")
    built = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, check=False, timeout=600)
    if built.returncode != 0:
        message = " ".join(built.stderr.strip().splitlines()[-1:]) or "kubectl kustomize failed"
        raise UserError(f"kubectl kustomize {_shown(folder)}: {message}")
    return built.stdout


def _environment(manifest: Manifest) -> None:
    labels = (manifest.obj.get("metadata") or {}).get("labels") if isinstance(manifest.obj.get("metadata"), dict) else None
    if isinstance(labels, dict) and isinstance(labels.get(ENVIRONMENT_LABEL), str):
        manifest.environment = labels[ENVIRONMENT_LABEL]


def _default_namespace(manifests: list[Manifest], namespace: str | None) -> None:
    if not namespace:
        return
    for manifest in manifests:
        metadata = manifest.obj.setdefault("metadata", {})
        if isinstance(metadata, dict) and not metadata.get("namespace") and manifest.obj.get("kind") != "Namespace":
            metadata["namespace"] = namespace


def collect(paths: list[str]) -> LintInput:
    """Every manifest under ``paths``; unreadable or unparseable files are errors, never skipped."""
    found = LintInput()
    errors: list[UserError] = []
    seen: set[Path] = set()

    def add_file(path: Path, namespace: str | None) -> None:
        resolved = path.resolve()
        if resolved in seen or path.name in KUSTOMIZATION_NAMES:
            return
        seen.add(resolved)
        found.files += 1
        try:
            manifests = load_manifests(_read(path), _shown(path))
        except UserError as error:
            errors.append(error)
            return
        _default_namespace(manifests, namespace)
        found.manifests += manifests

    def add_folder(folder: Path, namespace: str | None) -> None:
        kustomization = _kustomization(folder)
        if kustomization is not None:
            try:
                settings = _kustomization_settings(kustomization)
            except UserError as error:
                errors.append(error)
                return
            if any(key in settings for key in _TRANSFORMING):
                try:
                    text = _build_with_kustomize(folder)
                except UserError as error:
                    errors.append(error)
                    return
                shown = f"{_shown(kustomization)} (built)"
                found.notes.append(f"{_shown(folder)}: linted the output of kubectl kustomize; lines refer to it")
                found.files += 1
                try:
                    found.manifests += load_manifests(text, shown)
                except UserError as error:
                    errors.append(error)
                for child in folder.rglob("*"):
                    seen.add(child.resolve())
                return
            namespace = settings.get("namespace") if isinstance(settings.get("namespace"), str) else namespace
        for child in sorted(folder.iterdir()):
            if child.name.startswith("."):
                continue
            if child.is_dir():
                add_folder(child, namespace)
            elif child.suffix in MANIFEST_SUFFIXES and child.is_file():
                add_file(child, namespace)

    for raw in paths:
        if raw == "-":
            found.files += 1
            try:
                found.manifests += load_manifests(sys.stdin.read(), "<stdin>")
            except UserError as error:
                errors.append(error)
            continue
        path = Path(raw)
        if path.is_dir():
            add_folder(path, None)
        elif path.is_file():
            add_file(path, None)
        else:
            errors.append(UserError(f"{raw}: no such file or folder"))
    if errors:
        raise UserErrors(errors)
    for manifest in found.manifests:
        _environment(manifest)
    return found
