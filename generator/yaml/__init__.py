"""YAML: read with positions (``reader.py``; the fast engine behind its screen in ``fast_reader.py``, chosen by
``engine.py``; ``source.py`` keeps positions for environment files), the values YAML readers disagree on, the
deterministic writer."""
