"""Edits of environment files, in place, keeping every comment and the user's formatting.

`mlgitops set` and `mlgitops promote` change what `load/` reads, so this stage sits in front of
it: it works out which layer of an `extends:` chain holds a value (``layers.py``), loads the
file with ruamel.yaml's round-trip mode and refuses files that would not come back byte for
byte (``roundtrip.py``), edits the comment-carrying tree (``document.py``), and proves the result
loads to the intended model (``session.py``). Rendering and writing stay with `fleet/` and
`output/`. ruamel.yaml is imported only here, so `render`, `lint` and `--version` never load it.
"""
