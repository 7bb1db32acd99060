"""Environment files: reading them, the extends: merge, located errors, and the JSON Schema editors use."""
