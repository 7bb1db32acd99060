"""How the running mlgitops was installed, and so what another machine can install to run the same.

Source: PEP 610 (packaging.python.org, "Recording the Direct URL Origin of installed distributions"). An
installer writes ``direct_url.json`` into the distribution's metadata when it installs from a URL rather than
from an index: ``{"url": ..., "vcs_info": {"vcs": "git", "commit_id": ...}}`` for a VCS checkout,
``{"url": "file://...", "dir_info": {"editable": true}}`` for a local folder (editable or not), and
``{"url": ..., "archive_info": {...}}`` for a wheel or sdist file or URL. No file means an index (PyPI).

What follows from it:

- a release from an index: ``mlgitops==X.Y.Z``, pre-commit at the tag ``vX.Y.Z``, documentation links at the tag;
- a git install: that repository URL at that commit (``mlgitops @ git+URL@SHA``), pre-commit at the commit,
  documentation links at the commit when the URL is the project's own repository on GitHub;
- a local folder or an archive: the version pin ``mlgitops==X.Y.Z``, with a note that it installs only once
  that version is published (nothing else on another machine names the same code), and no documentation links.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

from mlgitops import HOME, __version__


@dataclass(frozen=True)
class Installation:
    """What a CI job or pre-commit installs to run this mlgitops.

    ``requirement`` is a pip requirement line; ``pre_commit_repo``/``pre_commit_rev`` the hooks' repository and
    revision; ``docs_ref`` the git ref whose files document this code (None: no published documentation to link
    to); ``note`` one sentence for the user when the requirement cannot name exactly this code (None otherwise).
    """

    requirement: str
    pre_commit_repo: str
    pre_commit_rev: str
    docs_ref: str | None
    note: str | None

    @property
    def source(self) -> str:
        """A short name of where this mlgitops came from, for messages: 'index', 'git' or 'local'."""
        if self.requirement.startswith("mlgitops @ git+"):
            return "git"
        return "local" if self.note else "index"


def released(version: str = __version__) -> Installation:
    """A release of ``version`` installed from an index (PyPI)."""
    return Installation(f"mlgitops=={version}", HOME, f"v{version}", f"v{version}", None)


def from_direct_url(direct_url: dict[str, object] | None, version: str = __version__) -> Installation:
    """The installation a PEP 610 ``direct_url.json`` (parsed; None when absent) describes."""
    if direct_url is None:
        return released(version)
    url = str(direct_url.get("url", ""))
    vcs_info = direct_url.get("vcs_info")
    if isinstance(vcs_info, dict) and vcs_info.get("vcs") == "git" and vcs_info.get("commit_id"):
        commit = str(vcs_info["commit_id"])
        repository = url.removeprefix("git+")
        own = repository.removesuffix(".git").rstrip("/") == HOME
        return Installation(f"mlgitops @ git+{repository}@{commit}", repository, commit, commit if own else None, None)
    where = "an editable checkout" if _editable(direct_url) else "a local file or folder"
    note = (
        f"this mlgitops was installed from {where} ({url}); the files pin mlgitops=={version}, which another "
        f"machine can install only once {version} is published: otherwise replace it with "
        f'"mlgitops @ git+{HOME}@<commit>"'
    )
    return Installation(f"mlgitops=={version}", HOME, f"v{version}", None, note)


@lru_cache(maxsize=1)
def current() -> Installation:
    """How the running mlgitops was installed (a release of this version when its metadata cannot be read)."""
    # pip's install record (a .dist-info folder) wins over a build's leftover mlgitops.egg-info in a checkout,
    # which sys.path may list first and which never holds direct_url.json.
    found = sorted(metadata.distributions(name="mlgitops"), key=lambda each: not _installed_by_pip(each))
    if not found:
        return from_direct_url({"url": "(not installed)", "dir_info": {}})
    text = found[0].read_text("direct_url.json")
    if text is None:
        return released()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = {"url": "(unreadable direct_url.json)", "dir_info": {}}
    return from_direct_url(parsed if isinstance(parsed, dict) else {"url": "", "dir_info": {}})


def _installed_by_pip(distribution: metadata.Distribution) -> bool:
    return distribution.read_text("INSTALLER") is not None


def _editable(direct_url: dict[str, object]) -> bool:
    dir_info = direct_url.get("dir_info")
    return isinstance(dir_info, dict) and dir_info.get("editable") is True


__all__ = ["Installation", "current", "from_direct_url", "released"]
