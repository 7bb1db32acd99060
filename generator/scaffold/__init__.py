"""Files `mlgitops init` writes into a new repository."""
