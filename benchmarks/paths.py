"""Where the benchmark lives and what it runs: the repository, the virtualenv, installed peers."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"
VENV_BIN = Path(sys.executable).parent
PEERS_BIN = BENCHMARKS / ".peers" / "bin"
ENVIRONMENTS = ("dev", "staging", "prod")
KUSTOMIZATION = "kustomization.yaml"
