"""Writing results: the rendered tree (safe, atomic writes; ownership; the repository's one lock), file diffs, inert
text per medium, reporters and SARIF."""
