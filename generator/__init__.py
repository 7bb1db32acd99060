"""mlgitops: typed ML workload specs rendered into kustomize-ready Kubernetes manifests."""

__version__ = "0.1.0"
