"""Each environment's ``kubernetesVersion``, read without building the models: what `lint` of rendered/ judges each
environment's objects at.

The value is followed through ``extends:`` (the nearest file that writes it wins, as load/merge.py merges: see
``load/extends_chain.py``). An environment whose files cannot be read, or that names no version, is left out: its
objects are judged at the run's version (``--kubernetes-version``), as before. Abstract bases are left out too.
"""

from __future__ import annotations

from pathlib import Path

from mlgitops.load.extends_chain import extends_chain


def kubernetes_versions(environments_dir: Path) -> dict[str, str]:
    """Environment name → its Kubernetes version (``1.34``), for every concrete environment file in the folder."""
    versions: dict[str, str] = {}
    if not environments_dir.is_dir():
        return versions
    for path in sorted(environments_dir.glob("*.yaml")):
        chain = extends_chain(path)
        if not chain or chain[0].get("abstract") is True:
            continue
        written = [layer["kubernetesVersion"] for layer in chain if isinstance(layer.get("kubernetesVersion"), str)]
        if written:
            versions[path.stem] = ".".join(written[0].removeprefix("v").split(".")[:2])
    return versions


__all__ = ["kubernetes_versions"]
