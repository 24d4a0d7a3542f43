"""Finding the client secret in a server's text, however the server spelled it (no I/O)."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from httpie_trulioo.secret_echo import (
    MASK,
    MAX_SEARCHED,
    MAX_WINDOW_LOOKS,
    MAX_WORDS_SPANNED,
    MIN_RUN,
    SecretEcho,
    _masked,
)

SECRET = "Zq8!x(y)*k'Lm/Np+Rs7~Tu9-Vw0_Xy1.Ab2\"c\\d"
ACCENTED = "s3cr\u00e9t-Hq4Wm9Tz2Lp7Kd"
FORM = {"grant_type": "client_credentials", "client_id": "my-client", "client_secret": SECRET}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def wrapped(text: str, width: int = 76) -> str:
    return "\n".join(text[start : start + width] for start in range(0, len(text), width))


def escaped_every_5(text: str, escape: str) -> str:
    """``text`` cut every 5 characters by a backslash escape, as a server that wraps then escapes it."""
    return escape.join(text[start : start + 5] for start in range(0, len(text), 5))


ECHOES = {
    "as sent": lambda s: f"bad secret {s}",
    "cut to its first 20 characters": lambda s: f"bad secret '{s[:20]}...'",
    "split by a space": lambda s: f"{s[:12]} {s[12:]}",
    "form-encoded, in the whole body": lambda s: urlencode({**FORM, "client_secret": s}),
    "quote with its default safe slash": quote,
    "encodeURIComponent": lambda s: quote(s, safe="!'()*"),
    "double percent-encoding": lambda s: quote(quote_plus(s)),
    "JSON-escaped inside JSON, PHP slashes": lambda s: json.dumps(json.dumps(s)).replace("/", "\\/"),
    "Python repr": repr,
    "HTML &#39;": lambda s: s.replace("'", "&#39;").replace('"', "&quot;"),
    "HTML numeric entities for everything": lambda s: "".join(f"&#{ord(ch)};" for ch in s),
    "base64 of the whole form body": lambda s: "body was " + b64(urlencode({**FORM, "client_secret": s})),
    "base64url, no padding, glued to text": lambda s: "got" + b64(s).rstrip("=").replace("+", "-"),
    "MIME base64 wrapped at 76 columns": lambda s: wrapped(b64(urlencode({**FORM, "client_secret": s}))),
    "HTTP Basic credential": lambda s: "Basic " + b64(f"my-client:{quote_plus(s)}"),
    "hex": lambda s: s.encode().hex(),
    "hex in groups": lambda s: " ".join(s.encode().hex()[i : i + 4] for i in range(0, len(s) * 2, 4)),
    "hex of the whole form body": lambda s: urlencode({**FORM, "client_secret": s}).encode().hex(),
    "hex glued to a stray hex digit": lambda s: "sum=7" + s.encode().hex(),
    "every character a \\u escape": lambda s: "".join(f"\\u{ord(ch):04x}" for ch in s),
    "every byte a \\x escape": lambda s: "".join(f"\\x{byte:02x}" for byte in s.encode()),
    "an escaped line break every 5 characters": lambda s: escaped_every_5(s, "\\n"),
    "an escaped tab every 5 characters": lambda s: escaped_every_5(s, "\\t"),
    "an escaped carriage return every 5 characters": lambda s: escaped_every_5(s, "\\r"),
    "a NUL inside": lambda s: s[:10] + "\x00" + s[10:],
    "a zero-width space inside": lambda s: s[:10] + "\u200b" + s[10:],
    "upper case": lambda s: s.upper(),
    "octal escapes": lambda s: "".join(f"\\{byte:03o}" for byte in s.encode()),
    "full-width characters": lambda s: "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in s),
    "colon-separated hex": lambda s: ":".join(f"{byte:02x}" for byte in s.encode()),
    "base32": lambda s: base64.b32encode(s.encode()).decode(),
    "base32, lower case, no padding": lambda s: base64.b32encode(s.encode()).decode().rstrip("=").lower(),
}


@pytest.mark.parametrize("secret", [SECRET, ACCENTED], ids=["symbols", "accented"])
@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_every_spelling_of_the_secret_is_heard(secret: str, echo: str) -> None:
    assert SecretEcho(secret).heard_in(ECHOES[echo](secret))


def test_utf8_read_as_latin1_is_heard() -> None:
    assert SecretEcho(ACCENTED).heard_in(ACCENTED.encode().decode("latin-1"))


@pytest.mark.parametrize(
    "text",
    [
        "invalid_client",
        (
            "Client authentication failed (e.g., unknown client, no client authentication included, "
            "or unsupported authentication method)."
        ),
        "The requested scope is invalid, unknown, or malformed.",
        "fake-trulioo: invalid_client",
        "bearer",
        "3599",
        "eyJhbGciOiAiSFMyNTYifQ.eyJzdWIiOiAibXktY2xpZW50In0.c2lnbmF0dXJl",
        "",
        "client_id=my%FFclient: not UTF-8",
        "request ffeeddccbbaa99887766554433221100 refused",
        'expected "\\/" or a path such as C:\\Users\\x',
    ],
)
def test_ordinary_server_text_is_not_mistaken_for_the_secret(text: str) -> None:
    # Text that no reading can decode cleanly (bad UTF-8 escapes or hex, unknown backslash
    # escapes) is read as far as it goes, never an error.
    assert not SecretEcho(SECRET).heard_in(text)
    assert not SecretEcho(ACCENTED).heard_in(text)


def test_a_run_shorter_than_the_minimum_is_not_an_echo() -> None:
    letters = "".join(ch for ch in SECRET if ch.isalnum())
    assert not SecretEcho(SECRET).heard_in(f"see {letters[: MIN_RUN - 1]} there")
    assert SecretEcho(SECRET).heard_in(f"see {letters[:MIN_RUN]} there")
    assert not SecretEcho(SECRET).heard_in(f"see {letters[-MIN_RUN + 1 :]} there")
    assert SecretEcho(SECRET).heard_in(f"see {letters[-MIN_RUN:]} there")


def test_base64url_is_read_whatever_its_dashes_and_underscores_stand_for() -> None:
    secret = "~Moé~MoéT~99~7"  # in base64url: fk1vw6l-TW_DqVR-OTl-Nw
    echo = base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")
    assert "-" in echo
    assert "_" in echo
    assert SecretEcho(secret).heard_in(f"got {echo}")


def test_a_base64_run_is_read_to_its_last_character() -> None:
    secret = "sdDZth3xW"  # in base64: c2REWnRoM3hX, whose last 4 characters hold the last 3 letters
    assert SecretEcho(secret).heard_in(f"got {b64(secret)}")


def test_a_short_secret_is_looked_for_whole() -> None:
    echo = SecretEcho("a!b")
    assert echo.heard_in("got AB")
    assert echo.heard_in("got a b c")  # "abc" holds "ab": a short secret is masked eagerly
    assert not echo.heard_in("got a c")
    assert not SecretEcho("").heard_in("anything")


@pytest.mark.parametrize("secret", [SECRET, ACCENTED], ids=["symbols", "accented"])
@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_every_spelling_is_masked_where_it_stands_and_the_message_around_it_kept(
    secret: str, echo: str
) -> None:
    text = f"invalid_client: {ECHOES[echo](secret)} (see the docs)"
    masked = SecretEcho(secret).mask(text)
    assert not SecretEcho(secret).heard_in(masked)
    assert MASK in masked
    assert masked.startswith("invalid_client: ")
    assert masked.endswith(" (see the docs)")


def test_text_without_the_secret_is_kept_as_it_is() -> None:
    text = "Client authentication failed (e.g., unknown client)."
    assert SecretEcho(SECRET).mask(text) == text
    assert SecretEcho("").mask(text) == text


def test_a_short_secret_is_masked_just_where_it_stands() -> None:
    """A short secret in a longer word: the word's other letters are no part of it, and stay."""
    assert SecretEcho("client").mask("invalid_client") == "invalid_***"
    assert SecretEcho("client").mask("the client, and x=%63%6c%69%65%6e%74&y=1") == "the ***, and x=***&y=1"


def test_a_long_secret_takes_its_whole_word_and_the_groups_beside_it() -> None:
    hex_pairs = " ".join(f"{byte:02x}" for byte in SECRET.encode())
    assert SecretEcho(SECRET).mask(f"got {hex_pairs} end") == "got *** end"
    assert SecretEcho(SECRET).mask(f"got {' '.join(SECRET[:20])} end") == "got *** end"
    assert SecretEcho(SECRET).mask(f"bad secret {SECRET[:14]}, retry") == "bad secret *** retry"


def test_only_the_first_characters_are_searched_and_kept() -> None:
    """A server's megabyte of text costs the search no more than its first MAX_SEARCHED characters."""
    assert SecretEcho(SECRET).mask("x" * (MAX_SEARCHED + 100)) == "x" * MAX_SEARCHED
    assert SecretEcho(SECRET).mask("x" * MAX_SEARCHED + SECRET) == "x" * MAX_SEARCHED


def test_a_search_that_runs_out_of_time_keeps_nothing() -> None:
    text = f"bad secret {SECRET} given"
    assert SecretEcho(SECRET, until=10.0, clock=lambda: 9.0).mask(text) == "bad secret *** given"
    assert SecretEcho(SECRET, until=10.0, clock=lambda: 11.0).mask(text) == MASK
    assert SecretEcho(SECRET, until=10.0, clock=lambda: 11.0).mask("no echo here") == "no echo here"
    assert SecretEcho(SECRET, until=10.0, clock=lambda: 10.0).mask(text) == "bad secret *** given"


def test_a_short_secret_at_the_end_of_padded_base64_is_heard() -> None:
    """The last one or two bytes before '=' padding were dropped: hunter2 in a Basic credential leaked."""
    assert SecretEcho("hunter2").heard_in("Basic " + b64("my-client:hunter2"))
    masked = SecretEcho("hunter2").mask("Basic " + b64("my-client:hunter2"))
    assert masked.startswith("Basic ")
    assert MASK in masked
    assert not SecretEcho("hunter2").heard_in(masked)  # what is left decodes to the client id only
    assert SecretEcho("hunter2").heard_in(base64.b32encode(b"my-client:hunter2").decode())


def test_a_secret_without_ascii_letters_or_digits_is_not_heard_everywhere() -> None:
    assert not SecretEcho("пароль!").heard_in("invalid_client")
    assert SecretEcho("пароль!").heard_in("bad secret пароль!")


def hex_pairs(text: str) -> str:
    return " ".join(f"{byte:02x}" for byte in text.encode())


def test_a_secret_of_exactly_the_minimum_takes_its_whole_word() -> None:
    """Only a secret shorter than MIN_RUN is masked just where it stands in a word."""
    assert len("abcd1234") == MIN_RUN
    assert SecretEcho("abcd1234").mask("got xxabcd1234yy here") == "got *** here"


def test_a_secret_split_in_two_at_the_end_takes_both_words_and_leaves_the_one_before() -> None:
    # Each half is under MIN_RUN letters and digits, the second longer than the first, and
    # "given:" is not made of the halves' characters: it is no group of the secret.
    masked = SecretEcho("abcd1234efgh").mask("invalid_client! given: abcd1 234efgh")
    assert masked == "invalid_client! given: ***"


def test_a_whole_word_echo_and_a_split_one_are_each_masked_where_they_stand() -> None:
    """The words beside the first echo stay: a run of words is heard for that echo only once it is masked."""
    echo = SecretEcho("abcd1234efgh")
    assert echo.mask("bad secret abcd1234efgh; again: abcd1 234efgh") == "bad secret *** again: ***"
    text = "invalid_client: 'abcd1234efgh' is wrong, in hex 61 62 63 64 31 32 33 34 65 66 67 68 as sent"
    assert echo.mask(text) == "invalid_client: *** is wrong, in hex *** as sent"


def spelled_out(secret: str, separators: int) -> str:
    """``secret`` one character a word, with ``separators`` words of "-" shared out between them."""
    gaps = len(secret) - 1
    words = [secret[0]]
    for index, character in enumerate(secret[1:]):
        words += ["-"] * (separators // gaps + (index < separators % gaps)) + [character]
    return " ".join(words)


def test_a_secret_split_over_the_most_words_spanned_is_found_and_one_word_more_is_not() -> None:
    secret = "abcdefgh"
    within = spelled_out(secret, MAX_WORDS_SPANNED - len(secret))
    assert len(within.split()) == MAX_WORDS_SPANNED
    assert SecretEcho(secret).mask(f"got: {within}") == "got: ***"
    beyond = spelled_out(secret, MAX_WORDS_SPANNED - len(secret) + 1)
    assert len(beyond.split()) == MAX_WORDS_SPANNED + 1
    assert SecretEcho(secret).heard_in(beyond)
    assert SecretEcho(secret).mask(f"got: {beyond}") == MASK


def test_the_search_for_a_split_secret_stops_after_its_budget_of_looks() -> None:
    """A split secret found at the last look allowed is masked; one word more and nothing is kept.

    Split into 6 words at the end of n words, the secret is heard by the last run of 6: the
    search looks at n - 1 runs of 2, n - 2 of 3, ..., n - 5 of 6, that is 5 n - 15 runs.
    """
    split = "ab cd e f g h"
    words = (MAX_WINDOW_LOOKS + 15) // 5
    assert 5 * words - 15 == MAX_WINDOW_LOOKS
    text = "~ " * (words - 6) + split
    assert SecretEcho("abcdefgh").mask(text) == "~ " * (words - 6) + MASK
    assert SecretEcho("abcdefgh").mask("~ " + text) == MASK


@given(
    secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=MIN_RUN - 1),
    before=st.text(alphabet="~!,;*()[]@#$^", max_size=4),
    after=st.text(alphabet="~!,;*()[]@#$^", max_size=4),
)
@example(secret="a", before="~", after="")
@example(secret="a", before="", after="~")
@example(secret="abc", before="~~~~", after="~~~~")
def test_a_short_secret_is_masked_to_the_character(secret: str, before: str, after: str) -> None:
    """Of a word that holds a short secret among characters that are none of its, just the secret goes."""
    assert SecretEcho(secret).mask(before + secret + after) == before + MASK + after


def test_hex_pairs_are_masked_with_the_groups_beside_them_at_either_end_of_the_text() -> None:
    """The pairs of "~" each side of "abcd1234" are not heard in a run, but go with it."""
    pairs = hex_pairs("~abcd1234~")
    echo = SecretEcho("~abcd1234~")
    assert echo.mask(f"the error, got: {pairs} ok") == "the error, got: *** ok"
    assert echo.mask(f"{pairs} was sent: 4f") == "*** was sent: 4f"
    assert echo.mask(f"sent: {pairs}") == "sent: ***"
    # "ok" is of the base64 alphabet, not hex: hex groups do not take it.
    assert echo.mask(f"ok {pairs} ok") == "ok *** ok"


def test_spans_that_overlap_or_touch_are_masked_as_one() -> None:
    assert _masked("abcdefgh", [(1, 3), (2, 5)]) == "a***fgh"
    assert _masked("abcdefgh", [(2, 5), (1, 3)]) == "a***fgh"
    assert _masked("abcdefgh", [(1, 6), (2, 3)]) == "a***gh"
    assert _masked("abcdefgh", [(1, 3), (3, 5)]) == "a***fgh"
    assert _masked("abcdefgh", [(1, 3), (4, 5)]) == "a***d***fgh"
    assert _masked("abcdefgh", [(0, 1), (2, 3), (2, 6)]) == "***b***gh"


def test_an_escape_of_a_character_that_needs_none_reads_as_that_character() -> None:
    """``\\z`` is a "z": here only the escapes, read, spell the secret."""
    secret = "zKzQzWz9z8"
    echo = "".join(f"\\{ch}" if ch == "z" else f"\\x{ord(ch):02x}" for ch in secret)
    assert SecretEcho(secret).heard_in(echo)


def test_a_base64_run_split_by_spaces_and_lines_is_read_whole() -> None:
    """A short secret is heard only whole: the groups are read as one run."""
    assert b64("my-client:hunter2") == "bXktY2xpZW50Omh1bnRlcjI="
    assert SecretEcho("hunter2").heard_in("Basic bXktY2xp ZW50Omh1\nbnRlcjI=")


def test_the_last_character_of_an_unpadded_run_is_read_whatever_it_is() -> None:
    """Here an "X", the last character of a short secret's base64 and base32 alike."""
    assert b64("ky:s3cr3W") == "a3k6czNjcjNX"
    assert SecretEcho("s3cr3W").heard_in("got a3k6czNjcjNX")
    assert base64.b32encode(b"id:hunter7").decode() == "NFSDU2DVNZ2GK4RX"
    assert SecretEcho("hunter7").heard_in("got NFSDU2DVNZ2GK4RX")


@pytest.mark.parametrize("padding", ["", "===="], ids=["unpadded", "padded"])
def test_base32_glued_to_the_letters_before_it_is_read_from_where_it_starts(padding: str) -> None:
    # Read from its first letter the run decodes, but to noise: the base32 starts 2 letters in.
    run = "ID" + base64.b32encode(b"my-client:hunter2").decode().rstrip("=") + padding
    assert SecretEcho("hunter2").heard_in(f"got: {run}")


def test_unpadded_base32_is_padded_back_to_read_its_last_bytes() -> None:
    run = base64.b32encode(b"my-client:abc123").decode().rstrip("=")
    assert len(run) % 8 == 2  # 6 "=" make it whole
    assert SecretEcho("abc123").heard_in(f"got {run}")


def test_base32_of_a_length_no_encoder_writes_is_read_by_its_whole_blocks() -> None:
    secret = "Ab3Xk9Qm2Z"  # 10 bytes: 2 whole blocks of 8 letters
    run = base64.b32encode(secret.encode() + b"xyz").decode()
    assert SecretEcho(secret).heard_in(run[:16] + "Q")  # a stray letter after it
    assert SecretEcho(secret).heard_in(run[:19] + "======")  # cut short, padded anyway
