"""Print the section of CHANGELOG.md for one version: the release workflow's GitHub release notes.

Usage: python3 .github/release_notes.py VERSION CHANGELOG.md. The changelog follows keepachangelog.com:
a section starts at a `## [VERSION] - YYYY-MM-DD` heading and ends at the next `## ` heading. Exits 1
with one line on stderr when the version has no section or the section is empty, so a tag whose
changelog was not written never becomes a release without notes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def section(version: str, changelog: str) -> str:
    """The body of the `## [version]` section (without its heading), stripped; "" when there is none."""
    heading = re.compile(rf"^## \[{re.escape(version)}\](?:\s|$)")
    lines: list[str] = []
    inside = False
    for line in changelog.splitlines():
        if line.startswith("## "):
            if inside:
                break
            inside = bool(heading.match(line))
            continue
        if inside:
            lines.append(line)
    return "\n".join(lines).strip()


def main(argv: list[str]) -> int:
    version, path = argv
    notes = section(version, Path(path).read_text(encoding="utf-8"))
    if not notes:
        print(f"{path}: no '## [{version}]' section with notes; write it before tagging v{version}", file=sys.stderr)
        return 1
    print(notes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
