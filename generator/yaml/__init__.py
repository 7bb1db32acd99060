"""YAML: read with positions, the values YAML readers disagree on, the deterministic writer."""
