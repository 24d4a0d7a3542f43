"""Whether text a server sent back gives away the client secret, whole or in part: pure, no I/O.

A server may echo what it received in any spelling: as sent, form- or URL-encoded (by any of
several rules), JSON-, HTML- or backslash-escaped, in base64 or hex, re-decoded in the wrong
character set, cut short, or split by spaces. Rather than list spellings of the secret, the
text is read in each of those ways, reduced to its letters and digits, and searched for any
run of the secret's own letters and digits long enough not to occur by chance.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterator
from urllib.parse import unquote, unquote_plus

# A run of this many of the secret's letters and digits, in a row, found in a server's text is
# an echo: long enough that no error message matches a random secret by chance, short enough
# that a secret cut short, split or partly escaped is still caught.
MIN_RUN = 8
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{16,}")
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|\\(.)", re.DOTALL)


class SecretEcho:
    """Finds the client secret in a server's text, in whatever spelling the server used."""

    def __init__(self, secret: str) -> None:
        """Prepare the runs of ``secret`` to look for."""
        self._whole = secret.casefold()
        self._runs: set[str] = set()
        for squeezed in _squeezings(self._whole):
            length = min(MIN_RUN, len(squeezed))
            self._runs.update(squeezed[start : start + length] for start in range(len(squeezed) - length + 1))
        self._lengths = {len(run) for run in self._runs}

    def heard_in(self, text: str) -> bool:
        """Tell whether ``text`` holds the secret, or ``MIN_RUN`` of its letters and digits in a row."""
        if not self._whole:
            return False
        for reading in _readings(text):
            folded = reading.casefold()
            if self._whole in folded:
                return True
            for squeezed in _squeezings(folded):
                for length in self._lengths:
                    if any(
                        squeezed[start : start + length] in self._runs
                        for start in range(len(squeezed) - length + 1)
                    ):
                        return True
        return False


def _squeezings(text: str) -> tuple[str, str]:
    """The letters and digits of ``text``, then only its ASCII ones (mojibake drops the rest)."""
    letters = "".join(ch for ch in text if ch.isalnum())
    return letters, "".join(ch for ch in letters if ch.isascii())


def _readings(text: str) -> Iterator[str]:
    """``text`` as sent, then as each decoding a server might have applied would read it."""
    yield text
    yield unquote_plus(unquote_plus(text))
    yield unquote(text, errors="replace")
    yield html.unescape(html.unescape(text))
    yield _ESCAPE.sub(_unescape, text)
    yield _misread_utf8(text)
    compact = "".join(text.split())  # base64 wrapped at 76 columns, hex in groups
    for match in _BASE64_RUN.finditer(compact):
        yield from _from_base64(match.group())
    for match in _HEX_RUN.finditer(compact):
        for start in (0, 1):
            digits = match.group()[start:]
            yield bytes.fromhex(digits[: len(digits) // 2 * 2]).decode("utf-8", errors="replace")


def _misread_utf8(text: str) -> str:
    """``text`` as it was before UTF-8 was read as Latin-1 (a servlet's default); else as it is."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _from_base64(run: str) -> Iterator[str]:
    """A base64 (or base64url) run decoded from each of the four places it may start."""
    standard = run.rstrip("=").replace("-", "+").replace("_", "/")
    for start in range(4):
        part = standard[start:]
        try:
            decoded = base64.b64decode(part[: len(part) // 4 * 4])
        except (binascii.Error, ValueError):
            continue
        yield decoded.decode("utf-8", errors="replace")


def _unescape(match: re.Match[str]) -> str:
    code, byte, other = match.groups()
    if code or byte:
        return chr(int(code or byte, 16))
    return {"n": "\n", "t": "\t", "r": "\r"}.get(other, other)
