"""Unit tests for the token request: its form and headers, and reading the answer. Pure, no servers."""

from __future__ import annotations

import base64
import contextlib
import json
import math
from typing import Any
from urllib.parse import unquote_plus, urlencode

import pytest
from fake_trulioo import make_jwt
from hypothesis import given, settings
from hypothesis import strategies as st

from httpie_trulioo.endpoint import (
    TokenRequest,
    client_credentials_request,
    describe_failure,
    parse_token_response,
    raise_for_failure,
)
from httpie_trulioo.errors import InvalidTokenResponse, TokenRequestFailed, TruliooError
from httpie_trulioo.secret_echo import SecretEcho
from httpie_trulioo.settings import load_settings
from httpie_trulioo.token import MAX_LIFETIME, VALID, freshness

NOW = 1_800_000_000.0


def request(*, client_id: str, client_secret: str, scope: str, auth_method: str, **more: Any) -> TokenRequest:
    """The request for these settings, as the provider builds it."""
    chosen = load_settings({}, client_id=client_id, scope=scope, auth_method=auth_method, **more)
    return client_credentials_request(chosen, client_secret)


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_post_is_the_form_trulioo_documents() -> None:
    grant = request(
        client_id="id", client_secret="s", scope="workflow.studio.api", auth_method="client_secret_post"
    )
    assert grant.form == {
        "grant_type": "client_credentials",
        "scope": "workflow.studio.api",
        "client_id": "id",
        "client_secret": "s",
    }
    assert list(grant.form) == ["grant_type", "scope", "client_id", "client_secret"]
    assert grant.headers == {}


@pytest.mark.parametrize(
    ("client_id", "client_secret", "credentials"),
    [
        ("client", "secret", "client:secret"),
        ("demo-client", "demo-secret:with-colon", "demo-client:demo-secret%3Awith-colon"),
        ("a b", "p+q r/%é", "a+b:p%2Bq+r%2F%25%C3%A9"),
    ],
)
def test_basic_form_encodes_id_and_secret_then_base64s_them(
    client_id: str, client_secret: str, credentials: str
) -> None:
    grant = request(
        client_id=client_id, client_secret=client_secret, scope="s", auth_method="client_secret_basic"
    )
    scheme, _, encoded = grant.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == credentials
    decoded_id, _, decoded_secret = base64.b64decode(encoded).decode().partition(":")
    assert (unquote_plus(decoded_id), unquote_plus(decoded_secret)) == (client_id, client_secret)
    assert grant.form == {"grant_type": "client_credentials", "scope": "s"}


def test_empty_fields_are_not_sent_and_set_ones_are() -> None:
    bare = request(client_id="i", client_secret="s", scope="", auth_method="client_secret_basic")
    assert bare.form == {"grant_type": "client_credentials"}
    full = request(
        client_id="i",
        client_secret="s",
        scope="read write",
        auth_method="client_secret_post",
        audience="https://api.example.com/",
        resource="urn:example:api",
    )
    assert full.form["audience"] == "https://api.example.com/"
    assert full.form["resource"] == "urn:example:api"
    assert full.form["scope"] == "read write"


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_every_shape_the_secret_takes_on_the_wire_is_known_to_the_masking(method: str) -> None:
    client_id, secret = "id/with:odd chars", "s3cr:et with space/é~*"
    grant = request(client_id=client_id, client_secret=secret, scope="", auth_method=method)
    on_the_wire = [secret, urlencode({"client_secret": secret}).partition("=")[2]]
    if method == "client_secret_basic":
        on_the_wire.append(grant.headers["Authorization"].split(" ")[1])
    hidden = SecretEcho(secret)
    for shape in on_the_wire:
        assert hidden.heard_in(f"server says {shape}!"), shape


# Reading the answer ------------------------------------------------------------------------


def test_trulioo_shape_is_read() -> None:
    token = parse_token_response(
        body(Token="abc", TokenType="bearer", ExpiresIn=3599, scope="workflow.studio.api"), NOW
    )
    assert token.access_token == "abc"
    assert token.expires_at == NOW + 3599
    assert token.obtained_at == NOW
    assert token.scope == "workflow.studio.api"


def test_oauth_shape_is_read() -> None:
    token = parse_token_response(body(access_token="xyz", token_type="Bearer", expires_in=300), NOW)
    assert (token.access_token, token.expires_at) == ("xyz", NOW + 300)


def test_token_type_may_be_absent() -> None:
    assert parse_token_response(body(access_token="xyz", expires_in=1), NOW).access_token == "xyz"


@pytest.mark.parametrize("token_type", ["mac", "DPoP", 7])
def test_other_token_types_are_refused(token_type: object) -> None:
    with pytest.raises(InvalidTokenResponse, match="only bearer"):
        parse_token_response(body(access_token="xyz", token_type=token_type, expires_in=1), NOW)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html>502 Bad Gateway</html>", "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"expires_in": 3600}', "without a token"),
        (b'{"access_token": ""}', "visible ASCII"),
        (b'{"access_token": 12}', "visible ASCII"),
        (b'{"access_token": "a b"}', "visible ASCII"),
        (b'{"access_token": "ab\\r\\nX-Evil: 1"}', "visible ASCII"),
    ],
)
def test_unusable_answers_are_clear_errors(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidTokenResponse, match=message):
        parse_token_response(raw, NOW)


@pytest.mark.parametrize(("given", "lifetime"), [("600", 600.0), (" 60 ", 60.0), (12.5, 12.5)])
def test_expires_in_may_be_a_numeric_string_or_float(given: object, lifetime: float) -> None:
    token = parse_token_response(body(access_token="a", expires_in=given), NOW)
    assert token.expires_at == NOW + lifetime


@pytest.mark.parametrize("given", ["soon", True, [], {}, "nan", "inf"])
def test_expires_in_that_is_not_a_number_is_an_error(given: object) -> None:
    with pytest.raises(InvalidTokenResponse, match="ExpiresIn"):
        parse_token_response(body(access_token="a", expires_in=given), NOW)


def test_huge_expires_in_is_capped_at_a_day() -> None:
    token = parse_token_response(body(access_token="a", expires_in=10**400), NOW)
    assert token.expires_at == NOW + MAX_LIFETIME


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"expires_in": -(10**11)}, NOW - MAX_LIFETIME),
        ({"expires_in": -(10**400)}, NOW - MAX_LIFETIME),
        ({"access_token": make_jwt({"exp": -(10**15)})}, NOW - MAX_LIFETIME),
        ({"access_token": make_jwt({"exp": -(10**15)}), "expires_in": 60}, NOW - MAX_LIFETIME),
    ],
)
def test_wild_expiries_stay_within_a_day_of_the_request(fields: dict[str, object], expected: float) -> None:
    # A year -1142 cannot be written as a date: token --json and status would fail to show it.
    token = parse_token_response(body(**{"access_token": "a", **fields}), NOW)
    assert token.expires_at == expected


@pytest.mark.parametrize("given", [0, -30])
def test_zero_or_negative_expires_in_gives_an_expired_token(given: int) -> None:
    token = parse_token_response(body(access_token="a", expires_in=given), NOW)
    assert token.expires_at is not None
    assert token.expires_at <= token.obtained_at
    assert freshness(token, NOW, 60) != VALID


def test_no_expiry_at_all_is_unknown() -> None:
    token = parse_token_response(body(access_token="opaque"), NOW)
    assert token.expires_at is None
    assert freshness(token, NOW, 60) != VALID


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        ("invalid_client", "check the client id and secret"),
        ("invalid_scope", "TRULIOO_SCOPE"),
        ("unsupported_grant_type", "client_credentials grant"),
        ("something_new", "see the server's reason"),
        ("invalid_request", "see the server's reason"),
    ],
)
def test_oauth_errors_are_one_line_with_a_hint(error: str, hint: str) -> None:
    message = describe_failure(400, body(error=error, error_description="because"))
    assert message.startswith(f"the token endpoint answered 400 {error} (because): ")
    assert hint in message
    assert "\n" not in message


def test_error_without_description() -> None:
    assert describe_failure(400, body(error="invalid_client")).startswith(
        "the token endpoint answered 400 invalid_client: check"
    )


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        (
            "invalid_request",
            "check TRULIOO_TOKEN_URL (is it an OAuth 2.0 token endpoint?) and TRULIOO_AUTH_METHOD.",
        ),
        ("something_new", "check the client id, secret, TRULIOO_SCOPE and TRULIOO_TOKEN_URL."),
    ],
)
def test_without_the_servers_reason_the_hint_guesses(error: str, hint: str) -> None:
    assert describe_failure(400, body(error=error)) == f"the token endpoint answered 400 {error}: {hint}"


@pytest.mark.parametrize("error", ["invalid_request", "invalid_grant", "access_denied", "something_new"])
def test_a_servers_reason_is_shown_and_never_contradicted(error: str) -> None:
    message = describe_failure(400, body(error=error, error_description="missing parameter: resource"))
    assert message == (
        f"the token endpoint answered 400 {error} (missing parameter: resource): see the server's reason; "
        "what is sent is set by TRULIOO_TOKEN_URL, TRULIOO_AUTH_METHOD, TRULIOO_SCOPE, TRULIOO_AUDIENCE "
        "and TRULIOO_RESOURCE."
    )
    assert "Trulioo token endpoint" not in message


@pytest.mark.parametrize(
    ("method", "sent", "other"),
    [
        ("client_secret_post", "in the form (client_secret_post)", "TRULIOO_AUTH_METHOD=client_secret_basic"),
        (
            "client_secret_basic",
            "as HTTP Basic (client_secret_basic)",
            "TRULIOO_AUTH_METHOD=client_secret_post",
        ),
    ],
)
@pytest.mark.parametrize(
    ("status", "raw"),
    [
        (400, body(error="invalid_client")),
        (401, body(error="invalid_client", error_description="no")),
        (401, b""),
    ],
)
def test_invalid_client_names_the_method_used_and_suggests_the_other(
    method: str, sent: str, other: str, status: int, raw: bytes
) -> None:
    message = describe_failure(status, raw, auth_method=method)
    assert f"check the client id and secret, sent {sent}; if the server wants" in message
    assert message.endswith(f"set {other}.")


def test_invalid_scope_blames_the_scope_only_when_one_was_sent() -> None:
    sent = describe_failure(400, body(error="invalid_scope"), scope_sent=True)
    assert sent.endswith(
        "check TRULIOO_SCOPE: this client may not be allowed the scope asked for "
        "(an empty TRULIOO_SCOPE asks for none)."
    )
    none = describe_failure(400, body(error="invalid_scope"), scope_sent=False)
    assert none.endswith(
        "no scope was asked for (TRULIOO_SCOPE is empty): set TRULIOO_SCOPE to one this client is allowed."
    )


def test_invalid_target_follows_whether_a_resource_was_sent() -> None:
    raw = body(error="invalid_target", error_description="unknown resource")
    assert describe_failure(400, raw, resource_sent=True).endswith(
        "(unknown resource): check TRULIOO_RESOURCE: this server does not accept it for this client."
    )
    assert describe_failure(400, raw, resource_sent=False).endswith(
        "(unknown resource): this server may want a resource indicator: set TRULIOO_RESOURCE."
    )


def test_server_text_cannot_inject_terminal_escapes_or_lines() -> None:
    message = describe_failure(
        400, body(error="invalid_client", error_description="a\x1b[31mb\nc" + "x" * 500)
    )
    assert "\x1b" not in message
    assert "\n" not in message
    assert len(message) < 400


@pytest.mark.parametrize(
    ("status", "raw", "expected"),
    [
        (500, b"oops", "500: the token service has a problem"),
        (502, b"<html>Bad Gateway</html>", "502: the token service has a problem"),
        (302, b"", "302, a redirect; it is not followed"),
        (404, b"not found", "404: check TRULIOO_TOKEN_URL"),
    ],
)
def test_other_failures_are_described(status: int, raw: bytes, expected: str) -> None:
    assert expected in describe_failure(status, raw)


def test_only_200_passes() -> None:
    raise_for_failure(200, b"")
    with pytest.raises(TokenRequestFailed):
        raise_for_failure(201, b"{}")


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
