"""Container image references: `[registry[:port]/]path[:tag][@digest]`.

The grammar is the one container runtimes and registries parse (distribution/reference,
reference.go: path components of lower-case letters and digits joined by `.`, `_`, `__` or
dashes; tags `[\\w][\\w.-]{0,127}`; digests `algorithm:hex` with at least 32 hex digits, sha256
having exactly 64). Used to check what `mlgitops set image` writes, and to replace only the tag
or the digest of an image already in a spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?"
)
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class ImageReference:
    """An image reference split into repository name, tag and digest."""

    name: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def parse_image(text: str) -> ImageReference:
    """Split ``text``; ValueError (a sentence saying what is wrong) when it is not an image reference."""
    match = _REFERENCE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not an image reference such as 'ghcr.io/acme/serve:1.5.0' or "
            "'ghcr.io/acme/serve:1.5.0@sha256:<64 hex digits>' (repository paths are lower case)"
        )
    if len(match["name"]) > MAX_NAME_LENGTH:
        raise ValueError(f"the repository name of {text[:60]!r}... is longer than {MAX_NAME_LENGTH} characters")
    digest = match["digest"]
    if digest is not None:
        algorithm, _, hexadecimal = digest.partition(":")
        if algorithm == "sha256" and not re.fullmatch(r"[0-9a-f]{64}", hexadecimal):
            raise ValueError(f"the sha256 digest of {text!r} must be 64 lower-case hex digits")
    return ImageReference(match["name"], match["tag"], digest)


def updated_image(current: str | None, given: str) -> str:
    """The image after an update: ``given`` in full, or only a new `:tag` or `@digest` for ``current``.

    ``:TAG`` keeps the repository and drops the old digest (it belonged to the old tag);
    ``@DIGEST`` keeps the repository and tag. ValueError for anything that does not parse.
    """
    if given.startswith((":", "@")):
        if not current:
            raise ValueError(f"{given!r} changes only the tag or digest, but there is no image to change yet")
        base = parse_image(current)
        if given.startswith(":"):
            return str(parse_image(f"{base.name}{given}"))
        return str(parse_image(f"{ImageReference(base.name, base.tag)}{given}"))
    return str(parse_image(given))


__all__ = ["ImageReference", "parse_image", "updated_image"]
