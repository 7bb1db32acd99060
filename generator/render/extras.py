"""Extra manifests: plain YAML files of the repository copied into an environment's kustomize root.

They are written as they are (below the generated-file header) into `extra/<file name>`, listed in
kustomization.yaml, and deployed by the same Application or Kustomization. Their objects are
validated and linted like rendered ones, and every problem points into the file the user wrote.
"""

from __future__ import annotations

from mlgitops.errors import Location, UserError
from mlgitops.kube.manifest import Manifest, load_manifests
from mlgitops.render.rendered import FieldPath, Rendered
from mlgitops.spec.files import RepositoryFile
from mlgitops.yaml.writer import copy_header

EXTRA_FOLDER = "extra"


def extra_file_name(shown: str) -> str:
    """Where an extra manifest goes inside its root: `extra/<its file name>`."""
    return f"{EXTRA_FOLDER}/{shown.rpartition('/')[2]}"


def extra_objects(read: RepositoryFile, origin: FieldPath, namespace: str) -> list[Rendered]:
    """One Rendered per object of the file; the file's text travels with them, with the header on top."""
    manifests = load_manifests(read.text, read.shown)
    if not manifests:
        raise UserError("an extra manifest holds no Kubernetes object", Location(read.shown, 1, 1))
    text = copy_header(read.shown)
    # The copy keeps the original's bytes so a finding's line in one is the line in the other, less the header.
    copied = text + read.text if read.text.endswith("\n") else text + read.text + "\n"
    items = []
    for manifest in manifests:
        metadata = manifest.obj.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if not isinstance(name, str) or not name:
            raise UserError("an object of an extra manifest needs metadata.name", manifest.locate(("metadata",)))
        declared = metadata.get("namespace") if isinstance(metadata, dict) else None
        if declared is not None and declared != namespace:
            raise UserError(
                f"namespace {declared!r}: the environment's kustomize root puts every object into {namespace!r}; "
                "remove metadata.namespace (objects of another namespace belong to another environment)",
                manifest.locate(("metadata", "namespace")),
            )
        items.append(
            Rendered(
                manifest.obj,
                extra_file_name(read.shown),
                manifest.locate(()),
                origin=origin,
                text=copied,
                file=read.shown,
                document=manifest.document,
            )
        )
    return items


def as_manifest(item: Rendered, environment: str | None = None, namespace: str | None = None) -> Manifest:
    """An extra manifest's object located in the user's own file (findings and errors point there).

    With ``namespace`` (the environment's), an object written without one is judged in it: the environment's
    kustomize root sets it on every object it lists (render/kustomize.py), so that is where the object runs.
    """
    assert item.text is not None
    assert item.file is not None
    original = item.text.split("\n", 1)[1]
    obj = item.obj
    metadata = obj.get("metadata")
    if namespace is not None and isinstance(metadata, dict) and not metadata.get("namespace"):
        obj = {**obj, "metadata": {**metadata, "namespace": namespace}}
    return Manifest(obj=obj, file=item.file, document=item.document, text=original, environment=environment)
