"""Finding the client secret in a server's text, however the server spelled it (no I/O)."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus, urlencode

import pytest

from httpie_trulioo.secret_echo import MASK, MAX_SEARCHED, MIN_RUN, SecretEcho

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


def test_a_whole_word_echo_and_a_split_one_are_each_masked_where_they_stand() -> None:
    """The words beside the first echo stay: a run of words is heard for that echo only once it is masked."""
    echo = SecretEcho("abcd1234efgh")
    assert echo.mask("bad secret abcd1234efgh; again: abcd1 234efgh") == "bad secret *** again: ***"
    text = "invalid_client: 'abcd1234efgh' is wrong, in hex 61 62 63 64 31 32 33 34 65 66 67 68 as sent"
    assert echo.mask(text) == "invalid_client: *** is wrong, in hex *** as sent"
