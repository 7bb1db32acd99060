"""How bad a finding is: one enum for policy files, `.mlgitops.yaml`, findings, reporters and `--fail-on`."""

from __future__ import annotations

from enum import Enum


class Severity(str, Enum):
    """A finding's severity. The value is the word every report prints (``error``, ``warning``, ``info``).

    A ``str`` so that the word reaches JSON, SARIF and JUnit as it always has; ordered by ``rank``
    (``info`` < ``warning`` < ``error``), which is what ``--fail-on`` compares.
    """

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for error."""
        return _RANK[self]

    def at_least(self, threshold: Severity) -> bool:
        """Whether this severity is ``threshold`` or worse."""
        return self.rank >= threshold.rank


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}
WORDS = tuple(severity.value for severity in Severity)
"""The severities as written in policy files, `.mlgitops.yaml` and on the command line: error, warning, info."""
