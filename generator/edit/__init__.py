"""Edits of environment files, in place, keeping every comment and the user's formatting.

`mlgitops set` and `mlgitops promote` change what `load/` reads: this stage works out which layer
of an `extends:` chain holds a value (``layers.py``), loads the file with ruamel.yaml's round-trip
mode and refuses files that would not come back byte for byte (``roundtrip.py``), edits the
comment-carrying tree (``document.py``), proves the result loads to the intended model
(``session.py``), and runs an edit in memory, re-renders what it affects (`fleet/`) and only then
writes all of it (``run.py``, through `output/`). ruamel.yaml is imported only here, so `render`,
`lint` and `--version` never load it.
"""
