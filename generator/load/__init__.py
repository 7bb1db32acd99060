"""Environment files: the source tree with positions, the extends: merge, located errors."""
