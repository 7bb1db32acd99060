"""Each environment's ``kubernetesVersion``, read without building the models: what `lint` of rendered/ judges each
environment's objects at.

The value is followed through ``extends:`` (the nearest file that writes it wins, as load/merge.py merges: see
``load/extends_chain.py``). An environment whose files cannot be read, or that names no version, is left out: its
objects are judged at the run's version (``--kubernetes-version``), as before. Abstract bases are left out too.
"""

from __future__ import annotations

from pathlib import Path

from mlgitops.load.extends_chain import Read, extends_chain


def kubernetes_versions(environments_dir: Path, read: Read | None = None) -> dict[str, str]:
    """Environment name → its Kubernetes version (``1.34``), for every concrete environment file in the folder.

    ``read``: files already read in this run (``load.extends_chain.Read``), kept for the next call."""
    versions: dict[str, str] = {}
    if not environments_dir.is_dir():
        return versions
    for path in sorted(environments_dir.glob("*.yaml")):
        version = environment_version(path, read)
        if version is not None:
            versions[path.stem] = version
    return versions


def environment_version(path: Path, read: Read | None = None) -> str | None:
    """The Kubernetes minor version (``1.34``) environment file ``path`` names through its ``extends:`` chain, or None
    (unreadable, abstract, or no version written). ``read`` as for :func:`kubernetes_versions`."""
    chain = extends_chain(path, read)
    if not chain or chain[0].get("abstract") is True:
        return None
    written = [layer["kubernetesVersion"] for layer in chain if isinstance(layer.get("kubernetesVersion"), str)]
    return ".".join(written[0].removeprefix("v").split(".")[:2]) if written else None


__all__ = ["environment_version", "kubernetes_versions"]
