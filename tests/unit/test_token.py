"""Unit tests for the pure token rules: expiry, the refresh margin, freshness. No servers, no clocks."""

from __future__ import annotations

import pytest
from fake_trulioo import make_jwt
from hypothesis import given, settings
from hypothesis import strategies as st

from httpie_trulioo.token import (
    MAX_LIFETIME,
    MAX_TOKEN_LENGTH,
    VALID,
    Token,
    duration,
    fingerprint,
    freshness,
    is_token_text,
    jwt_expiry,
    refresh_margin,
    token_expiry,
)

NOW = 1_800_000_000.0


def fresh(expires_at: float, obtained_at: float, now: float, buffer: float) -> bool:
    """Whether the one freshness rule lets a token with these times be sent at ``now``."""
    return freshness(Token("t", obtained_at, expires_at), now, buffer) == VALID


def test_jwt_exp_is_read_without_a_signature_check() -> None:
    assert jwt_expiry(make_jwt({"exp": NOW + 100})) == NOW + 100


def test_jwt_exp_is_read_whatever_the_other_claims_say() -> None:
    """Not yet valid (nbf, iat in the future), for an audience, from an issuer: the server checks those."""
    claims = {"exp": NOW + 100, "nbf": NOW + 50, "iat": NOW + 50, "aud": "some-api", "iss": "https://issuer"}
    assert jwt_expiry(make_jwt(claims)) == NOW + 100


@pytest.mark.parametrize(
    "access_token",
    ["opaque-token", "a.b.c", make_jwt({"sub": "x"}), make_jwt({"exp": "tomorrow"}), make_jwt({"exp": True})],
)
def test_no_usable_exp_means_no_jwt_expiry(access_token: str) -> None:
    assert jwt_expiry(access_token) is None


def test_expiry_is_the_earlier_of_exp_and_expires_in() -> None:
    early_jwt = make_jwt({"exp": NOW + 100})
    assert token_expiry(early_jwt, 3599, NOW) == NOW + 100
    late_jwt = make_jwt({"exp": NOW + 5000})
    assert token_expiry(late_jwt, 3599, NOW) == NOW + 3599


def test_expiry_of_an_opaque_token_comes_from_expires_in() -> None:
    assert token_expiry("opaque", 3599, NOW) == NOW + 3599


def test_expiry_from_exp_alone_is_capped_at_a_day() -> None:
    assert token_expiry(make_jwt({"exp": NOW + 10 * MAX_LIFETIME}), None, NOW) == NOW + MAX_LIFETIME


def test_without_expires_in_or_exp_the_expiry_is_unknown_unless_a_default_lifetime_is_given() -> None:
    assert token_expiry("opaque", None, NOW) is None
    assert token_expiry(make_jwt({"sub": "x"}), None, NOW) is None
    assert token_expiry("opaque", None, NOW, 600) == NOW + 600
    assert token_expiry(make_jwt({"sub": "x"}), None, NOW, 600) == NOW + 600


@pytest.mark.parametrize(
    ("access_token", "expires_in", "expiry"),
    [
        ("opaque", 3599, NOW + 3599),
        ("opaque", 0, NOW),  # an expires_in of 0 is an expiry given: the token is not reused
        (make_jwt({"exp": NOW + 100}), None, NOW + 100),
        (make_jwt({"exp": NOW + 100}), 3599, NOW + 100),
    ],
)
def test_a_default_lifetime_never_replaces_an_expiry_the_server_gave(
    access_token: str, expires_in: float | None, expiry: float
) -> None:
    assert token_expiry(access_token, expires_in, NOW, 600) == expiry


def test_a_default_lifetime_is_capped_at_a_day_like_any_other() -> None:
    assert token_expiry("opaque", None, NOW, 10 * MAX_LIFETIME) == NOW + MAX_LIFETIME


@pytest.mark.parametrize(
    ("lifetime", "buffer", "margin"),
    [(3600, 60, 60), (60, 60, 30), (10, 60, 5), (3600, 0, 0), (0, 60, 0), (-5, 60, 0)],
)
def test_margin_is_the_buffer_but_at_most_half_the_lifetime(
    lifetime: float, buffer: float, margin: float
) -> None:
    assert refresh_margin(NOW + lifetime, NOW, buffer) == margin


def test_freshness_ends_a_margin_before_expiry() -> None:
    expires_at = NOW + 3600
    assert fresh(expires_at, NOW, expires_at - 60.001, 60)
    assert not fresh(expires_at, NOW, expires_at - 60, 60)
    assert not fresh(expires_at, NOW, expires_at + 1, 60)


@pytest.mark.parametrize(
    ("expires_at", "now", "reason"),
    [
        (None, NOW, "no expiry"),
        (NOW + 3600, NOW + 3600, "expired"),
        (NOW + 3600, NOW + 7200, "expired"),
        (NOW + 3600, NOW + 3540, "refresh due"),
        (NOW + 3600, NOW + 3539, VALID),
    ],
)
def test_freshness_says_why_a_token_may_not_be_sent(
    expires_at: float | None, now: float, reason: str
) -> None:
    """The words the cache-miss log line and ``status`` show."""
    assert freshness(Token("t", NOW, expires_at), now, 60) == reason


def test_without_a_buffer_a_token_is_sent_until_its_last_moment() -> None:
    assert freshness(Token("t", NOW, NOW + 10), NOW + 9.5, 0) == VALID


@pytest.mark.parametrize(
    ("expires_in", "min_ttl", "reason"),
    [
        (300, 600, "expires in 5 min, sooner than the 600 s asked for"),
        (600, 600, VALID),
        (599, 600, "expires in 10 min, sooner than the 600 s asked for"),
        (30, 45.5, "expires in 30 s, sooner than the 45.5 s asked for"),
    ],
)
def test_a_token_that_lives_less_than_min_ttl_says_so(expires_in: float, min_ttl: float, reason: str) -> None:
    now = NOW + 1000
    token = Token("t", NOW, now + expires_in)
    assert freshness(token, now, 0, min_ttl) == reason


def test_short_lived_token_is_reused_for_half_its_life() -> None:
    expires_at = NOW + 10
    assert fresh(expires_at, NOW, NOW + 4.9, 60)
    assert not fresh(expires_at, NOW, NOW + 5, 60)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (45, "45 s"),
        (89.4, "89 s"),
        (-30, "-30 s"),
        (90, "2 min"),
        (720, "12 min"),
        (5399, "90 min"),
        (5400, "1.5 h"),
        (6301, "1.8 h"),
        (MAX_LIFETIME, "24.0 h"),
    ],
)
def test_durations_are_shown_in_the_unit_people_read(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


def test_a_fingerprint_is_the_last_six_hex_digits_of_the_sha256() -> None:
    # SHA-256("abc") is the FIPS 180-2 test vector ba7816bf...f20015ad.
    assert fingerprint("abc") == "0015ad"


def test_a_token_repr_shows_its_fingerprint_never_the_token() -> None:
    token = Token("abc", NOW, NOW + 60, "napi.api")
    assert (
        repr(token) == "Token(…0015ad, obtained_at=1800000000.0, expires_at=1800000060.0, scope='napi.api')"
    )


def test_tokens_are_equal_and_hash_alike_by_their_values() -> None:
    token = Token("t", NOW, NOW + 60, "s")
    assert token == Token("t", NOW, NOW + 60, "s")
    assert hash(token) == hash(Token("t", NOW, NOW + 60, "s"))
    assert token != Token("t", NOW, NOW + 60, None)
    assert token != ("t", NOW, NOW + 60, "s")
    assert len({token, Token("t", NOW, NOW + 60, "s"), Token("u", NOW, NOW + 60, "s")}) == 2


@pytest.mark.parametrize(
    ("value", "fits"),
    [
        ("a" * MAX_TOKEN_LENGTH, True),
        ("a" * (MAX_TOKEN_LENGTH + 1), False),
        ("", False),
        ("eyJ.x-y_z~+/=", True),
        ("two words", False),
        ("tab\there", False),
        ("caf\u00e9", False),
        (b"bytes", False),
    ],
)
def test_only_visible_ascii_of_a_sane_length_goes_in_a_header(value: object, fits: bool) -> None:
    assert is_token_text(value) is fits


times = st.floats(min_value=-1e10, max_value=1e10, allow_nan=False)


@given(
    obtained_at=times, lifetime=st.floats(min_value=-1e9, max_value=1e9), buffer=st.floats(0, 1e9), now=times
)
@settings(max_examples=1000, deadline=None)
def test_a_token_is_never_used_past_expiry_and_the_margin_is_at_most_half(
    obtained_at: float, lifetime: float, buffer: float, now: float
) -> None:
    expires_at = obtained_at + lifetime
    margin = refresh_margin(expires_at, obtained_at, buffer)
    assert 0 <= margin <= max(expires_at - obtained_at, 0) / 2 + 1e-6
    assert margin <= buffer
    if fresh(expires_at, obtained_at, now, buffer):
        assert now < expires_at
