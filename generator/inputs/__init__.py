"""What `mlgitops lint` reads: files, folders, stdin and kustomize roots, as located manifests.

Lint's load stage: it enters the pipeline at check with manifests read from disk (`collect.py`), builds the
kustomize roots that need a build (`kustomize_roots.py`, `kustomize_build.py`) and refuses entries that would
read or fetch outside the repository (`kustomize_sources.py`).
"""
