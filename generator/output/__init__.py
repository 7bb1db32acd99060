"""Writing results: the rendered tree (safe, atomic writes; ownership), file diffs, inert text per medium, reporters."""
