"""User files (and stdin) as text: read in bounded memory, binary and non-UTF-8 content refused where it is.

Every input mlgitops reads has a size cap, and the cap is enforced while reading (one byte past
it, never the whole file): a multi-gigabyte file, a link to /dev/zero or an endless pipe is
refused in bounded memory. A NUL byte or an invalid UTF-8 sequence is reported at its own line
and column.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from mlgitops.errors import Location, UserError

# Caps on what mlgitops reads (bytes). Environment files are hand-written specs; manifests may be a
# fleet's worth of generated YAML; policies, configuration and CRDs sit in between.
ENVIRONMENT_FILE_BYTES = 1_000_000
MANIFEST_BYTES = 20_000_000
POLICY_FILE_BYTES = 256_000
CONFIG_FILE_BYTES = 64_000
CRD_FILE_BYTES = 8_000_000


def read_capped(path: Path | str, limit: int) -> tuple[bytes, int]:
    """At most ``limit + 1`` bytes of ``path`` and its size (as large as the file system says); OSError passes.

    Unbuffered (``os.open``/``os.read``): lint reads thousands of small files once each, where a
    buffered file object per file cost more than the reading (N = 1000 benchmark fleet, 8,800 files).
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(descriptor).st_size
        # Asking for the whole cap at once allocates it (20 MB for a manifest) on every read: ask for the size the
        # file system reports plus a byte, and go on up to the cap only when more came (a file still growing);
        # a file without a size (a pipe, /dev/zero) is read in chunks of 1 MiB up to the cap.
        ask = size + 1 if 0 < size < limit else min(limit + 1, 1 << 20)
        chunks: list[bytes] = []
        total = 0
        while total < limit + 1:
            chunk = os.read(descriptor, min(ask, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            ask = 1 << 20
        raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return raw, max(size, total)
    finally:
        os.close(descriptor)


def read_stream_capped(stream: IO[bytes], limit: int) -> bytes:
    """At most ``limit + 1`` bytes of a stream (stdin): enough to tell that it is over the cap."""
    chunks: list[bytes] = []
    remaining = limit + 1
    while remaining > 0:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def position(raw: bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column of byte ``offset``, the column counted in characters as editors count it."""
    start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, len(raw[start:offset].decode("utf-8", "replace")) + 1


def decode(raw: bytes, shown: str, binary: str, undecodable_hint: str = "") -> str:
    """``raw`` as UTF-8 text; a NUL byte (``binary`` says what that means) or bad UTF-8 is a located error."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise UserError(f"binary content (a NUL byte): {binary}", Location(shown, *position(raw, nul)))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(
            f"byte 0x{raw[error.start]:02x} is not valid UTF-8{undecodable_hint}", Location(shown, *position(raw, error.start))
        ) from None


def read_user_text(path: Path, shown: str, limit: int, what: str) -> str:
    """A small user file (a policy, the configuration, a CRD file) as text; ``what`` names the kind in messages."""
    try:
        raw, size = read_capped(path, limit)
    except OSError as error:
        raise UserError(f"cannot read {what}: {error.strerror or error}", Location(shown, 1, 1)) from None
    if len(raw) > limit:
        raise UserError(f"file is {size:,} bytes; {what} files are limited to {limit:,} bytes", Location(shown, 1, 1))
    return decode(raw, shown, f"not a {what} file")


__all__ = [
    "CONFIG_FILE_BYTES",
    "CRD_FILE_BYTES",
    "ENVIRONMENT_FILE_BYTES",
    "MANIFEST_BYTES",
    "POLICY_FILE_BYTES",
    "decode",
    "position",
    "read_capped",
    "read_stream_capped",
    "read_user_text",
]
