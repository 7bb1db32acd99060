"""Kubernetes facts the pipeline relies on: names, quantities, manifests with positions, schemas and CRDs, pod
templates of every workload kind, accelerators, whether pods fit, Kueue's admission, the API server's own rules."""
