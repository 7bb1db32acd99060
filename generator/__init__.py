"""mlgitops: typed ML workload specs rendered into kustomize-ready Kubernetes manifests."""

__version__ = "0.1.0"

HOME = "https://github.com/mlgitops/mlgitops"
"""The project's one home: its repository, issues, releases and the action `uses:` it (pyproject's URLs agree)."""
