"""YAML: read with positions (`source.py` keeps them for environment files), the values YAML readers disagree on,
the deterministic writer."""
