"""Writing results: the deterministic YAML writer, the rendered tree, and reporters."""
