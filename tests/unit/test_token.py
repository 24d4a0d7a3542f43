"""Unit tests for the pure token rules: expiry, the refresh margin, freshness. No servers, no clocks."""

from __future__ import annotations

import pytest
from fake_trulioo import make_jwt
from hypothesis import given, settings
from hypothesis import strategies as st

from httpie_trulioo.token import (
    MAX_LIFETIME,
    VALID,
    Token,
    freshness,
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


def test_short_lived_token_is_reused_for_half_its_life() -> None:
    expires_at = NOW + 10
    assert fresh(expires_at, NOW, NOW + 4.9, 60)
    assert not fresh(expires_at, NOW, NOW + 5, 60)


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
