"""The CLI's commands, one module per command family (``console.py`` and ``options.py`` are what they share): each
parses its flags, calls the pipeline and picks a reporter; `cli.py` alone turns a user error into exit 2."""
