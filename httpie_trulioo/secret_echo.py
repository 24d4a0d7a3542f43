"""Whether text a server sent back gives away the client secret, whole or in part, and masking it: pure.

A server may echo what it received in any spelling: as sent, form- or URL-encoded (by any of
several rules), JSON-, HTML- or backslash-escaped (octal too), in base64, base32 or hex (in
groups, colon-separated), in full-width or other compatibility characters, re-decoded in the
wrong character set, cut short, or split by spaces. Rather than list spellings of the secret,
the text is read in each of those ways, reduced to its letters and digits, and searched for any
run of the secret's own letters and digits long enough not to occur by chance.

``mask`` then replaces just the words (or the part of a word) that echo it, so that the rest
of the server's message, an ``invalid_client`` say, is still shown. Only the first
``MAX_SEARCHED`` characters are searched and kept: the search is bounded in time whatever the
server sends.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from urllib.parse import unquote, unquote_plus

# A run of this many of the secret's letters and digits, in a row, found in a server's text is
# an echo: long enough that no error message matches a random secret by chance, short enough
# that a secret cut short, split or partly escaped is still caught.
MIN_RUN = 8
# Server text beyond this is dropped before the search: ten times what an error shows
# (endpoint.MAX_DESCRIPTION), and small enough that the search takes milliseconds at worst.
MAX_SEARCHED = 2000
# Words a masked span may cover: a secret in hex, in groups of two, is 16 words of 2 digits.
MAX_WORDS_SPANNED = 24
# How many runs of words the search for a split secret may look at: a few milliseconds.
MAX_WINDOW_LOOKS = 2000
MASK = "***"
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")
_BASE32_RUN = re.compile(r"[A-Za-z2-7]{16,}={0,6}")
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{16,}")
_HEX_SEPARATORS = re.compile(r"[\s:.,-]")  # de:ad:be:ef, de-ad, de.ad
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|\\([0-7]{1,3})|\\(.)", re.DOTALL)
_WORD = re.compile(r"\S+")
_HEX_ALPHABET = frozenset("0123456789abcdefABCDEF")
_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")


class SecretEcho:
    """Finds the client secret in a server's text, in whatever spelling the server used."""

    def __init__(
        self, secret: str, *, until: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Prepare the runs of ``secret`` to look for; ``mask`` gives up at ``until`` on ``clock``."""
        self._until = until
        self._clock = clock
        self._whole = secret.casefold()
        self._runs: set[str] = set()
        for squeezed in _squeezings(self._whole):
            if not squeezed:
                continue  # no letters or digits (or no ASCII ones) to look for: "" is in every text
            length = min(MIN_RUN, len(squeezed))
            self._runs.update(squeezed[start : start + length] for start in range(len(squeezed) - length + 1))
        self._lengths = {len(run) for run in self._runs}
        # A secret shorter than a run is itself the only run: the part of a word that echoes it
        # is exactly it, and masking just that part leaves none of it. Of a longer secret, any
        # part left beside a masked run could still hold some of it: the whole word goes.
        self._short = all(len(squeezed) < MIN_RUN for squeezed in _squeezings(self._whole))

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

    def mask(self, text: str) -> str:
        """``text`` (its first ``MAX_SEARCHED`` characters) with each echo of the secret masked.

        The words that echo it are masked first (of a secret shorter than ``MIN_RUN``, just the
        part that does), then runs of words that echo it together (a secret split by spaces),
        with the words beside them made of the same characters. If an echo is still heard after
        that, or the time given runs out first, nothing of the text is kept.
        """
        text = text[:MAX_SEARCHED]
        if not self.heard_in(text):
            return text
        words = [(found.start(), found.end()) for found in _WORD.finditer(text)]
        spans: list[tuple[int, int]] = []
        for start, end in words:
            if self._out_of_time():
                return MASK
            if self.heard_in(text[start:end]):
                spans.append(self._narrowed(text, start, end) if self._short else (start, end))
        looks = MAX_WINDOW_LOOKS
        for size in range(2, MAX_WORDS_SPANNED + 1):
            if not self.heard_in(_masked(text, spans)):
                return _masked(text, spans)
            for first in range(len(words) - size + 1):
                start, end = words[first][0], words[first + size - 1][1]
                if any(left < end and start < right for left, right in spans):
                    continue  # heard for an echo masked already, it would take its neighbours along
                looks -= 1
                if looks < 0 or self._out_of_time():
                    return MASK
                if self.heard_in(text[start:end]):
                    spans.append(_widened(text, words, first, first + size - 1))
        masked = _masked(text, spans)
        return masked if not self.heard_in(masked) else MASK

    def _out_of_time(self) -> bool:
        return self._until is not None and self._clock() > self._until

    def _narrowed(self, text: str, start: int, end: int) -> tuple[int, int]:
        """The narrowest part of ``text[start:end]``, which echoes the secret, that still does.

        Found by halving: a part that echoes the secret goes on doing so as it grows.
        """
        low, high = start, end - 1  # the last start that still echoes it is in [low, high]
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if self.heard_in(text[middle:end]) else (low, middle - 1)
        start = low
        low, high = start + 1, end  # the first end that still echoes it is in [low, high]
        while low < high:
            middle = (low + high) // 2
            low, high = (low, middle) if self.heard_in(text[start:middle]) else (middle + 1, high)
        return start, low


def _widened(text: str, words: list[tuple[int, int]], first: int, last: int) -> tuple[int, int]:
    """The span of words ``first`` to ``last``, and of the words beside them that look like them.

    A secret split into groups (hex pairs, base64 lines, single characters) has groups on either
    side of the run that was heard, each too short to be heard: they go with it. A word looks
    like the groups when it is no longer than the longest and, if they are all hex digits or
    all of the base64 alphabet, is made of those too.
    """
    run = [text[start:end] for start, end in words[first : last + 1]]
    alphabet = set("".join(run))
    kind = next((kind for kind in (_HEX_ALPHABET, _BASE64_ALPHABET) if kind.issuperset(alphabet)), None)
    longest = max(map(len, run))

    def alike(index: int) -> bool:
        word = text[words[index][0] : words[index][1]]
        return len(word) <= longest and (kind is None or kind.issuperset(word))

    while first > 0 and alike(first - 1):
        first -= 1
    while last < len(words) - 1 and alike(last + 1):
        last += 1
    return words[first][0], words[last][1]


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span replaced by MASK; overlapping or touching spans become one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    pieces, at = [], 0
    for start, end in merged:
        pieces += [text[at:start], MASK]
        at = end
    pieces.append(text[at:])
    return "".join(pieces)


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
    yield unicodedata.normalize("NFKC", text)  # full-width and other compatibility forms
    compact = "".join(text.split())  # base64 wrapped at 76 columns
    for match in _BASE64_RUN.finditer(compact):
        yield from _from_base64(match.group())
    for match in _BASE32_RUN.finditer(compact):
        yield from _from_base32(match.group())
    for match in _HEX_RUN.finditer(_HEX_SEPARATORS.sub("", text)):  # hex in groups, or colon-separated
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
        part = part[: len(part) - (len(part) % 4 == 1)]  # a lone last character holds no whole byte
        # Padded back, so that the last one or two bytes are read too: a short secret ends there.
        decoded = base64.b64decode(part + "=" * (-len(part) % 4))
        yield decoded.decode("utf-8", errors="replace")


def _from_base32(run: str) -> Iterator[str]:
    """A base32 run decoded from each of the eight places it may start."""
    letters = run.rstrip("=").upper()
    for start in range(8):
        part = letters[start:]
        for tried in (part + "=" * (-len(part) % 8), part[: len(part) // 8 * 8]):  # the last bytes too
            try:
                decoded = base64.b32decode(tried)
            except (binascii.Error, ValueError):
                continue  # a length no encoder writes: read the whole blocks only
            yield decoded.decode("utf-8", errors="replace")
            break


def _unescape(match: re.Match[str]) -> str:
    code, byte, octal, other = match.groups()
    if code or byte:
        return chr(int(code or byte, 16))
    if octal:
        return chr(int(octal, 8))
    return {"n": "\n", "t": "\t", "r": "\r"}.get(other, other)
