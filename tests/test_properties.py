"""Property tests of the pure parts: any token answer, any cache file, any clock."""

from __future__ import annotations

import contextlib
import json
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpie_trulioo.cache import CacheKey, TokenCache
from httpie_trulioo.entries import MAX_LIFETIME, is_fresh, refresh_margin
from httpie_trulioo.errors import TruliooError
from httpie_trulioo.token import Token, parse_token_response

NOW = 1_800_000_000.0

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)
token_field = st.sampled_from(["access_token", "Token", "token", "ACCESS_TOKEN"])
type_field = st.sampled_from(["token_type", "TokenType"])
expiry_field = st.sampled_from(["expires_in", "ExpiresIn"])
plausible_answers = st.fixed_dictionaries(
    {},
    optional={
        "access_token": json_values | st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126)),
        "Token": json_values,
        "token_type": st.sampled_from(["bearer", "Bearer", "mac"]) | json_values,
        "ExpiresIn": st.integers() | st.floats() | st.text() | json_values,
        "expires_in": st.integers(min_value=-(10**20), max_value=10**20),
        "scope": json_values,
    },
)


def check_answer(document: object) -> None:
    try:
        body = json.dumps(document).encode()
    except ValueError:
        body = b"{}"
    try:
        token = parse_token_response(body, NOW)
    except TruliooError as error:
        assert "\n" not in str(error)  # noqa: PT017 - any answer, so no single pytest.raises
        return
    assert isinstance(token.access_token, str)
    assert token.access_token
    assert token.obtained_at == NOW
    if token.expires_at is not None:
        assert math.isfinite(token.expires_at)
        assert token.expires_at <= NOW + MAX_LIFETIME


@given(json_values)
@settings(max_examples=400, deadline=None)
def test_any_json_value_is_a_token_or_a_clear_error(document: object) -> None:
    check_answer(document)


@given(plausible_answers)
@settings(max_examples=400, deadline=None)
def test_any_token_shaped_answer_is_a_token_or_a_clear_error(document: dict[str, object]) -> None:
    check_answer(document)


@given(st.binary(max_size=2048))
@settings(max_examples=300, deadline=None)
def test_any_bytes_are_a_token_answer_or_a_clear_error(body: bytes) -> None:
    with contextlib.suppress(TruliooError):
        parse_token_response(body, NOW)


KEY = CacheKey.build("https://auth.example/connect/token", "workflow.studio.api", "client", "secret")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> TokenCache:
    folder = tmp_path_factory.mktemp("properties-cache")
    folder.chmod(0o700)
    return TokenCache(str(folder), 1)


def valid_entry(token: str, expires_at: float) -> bytes:
    entry = {
        "version": 1,
        "token": token,
        "expires_at": expires_at,
        "obtained_at": NOW,
        "token_url": KEY.token_url,
        "scope": KEY.scope,
        "client_id": KEY.client_id,
    }
    return json.dumps(entry).encode()


@given(
    st.binary(max_size=4096)
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.builds(valid_entry, st.text(), st.floats(allow_nan=True, allow_infinity=True))
    | st.builds(
        lambda data, cut: data[:cut],
        st.builds(valid_entry, st.just("tok"), st.just(NOW)),
        st.integers(0, 300),
    )
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_bytes_in_a_cache_file_are_a_token_or_a_miss(cache: TokenCache, data: bytes) -> None:
    path = cache.path(KEY)
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)
    lookup = cache.load(KEY)
    if lookup.token is None:
        assert lookup.reason == "corrupt"
    else:
        assert isinstance(lookup.token, Token)
        assert all("!" <= ch <= "~" for ch in lookup.token.access_token)
        assert lookup.token.expires_at is not None
        assert math.isfinite(lookup.token.expires_at)


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
    if is_fresh(expires_at, obtained_at, now, buffer):
        assert now < expires_at
