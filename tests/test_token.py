"""Unit tests for the pure token logic: no servers, no clocks."""

from __future__ import annotations

import json

import pytest
from fake_trulioo import make_jwt

from httpie_trulioo.entries import MAX_LIFETIME, is_fresh, refresh_margin
from httpie_trulioo.errors import InvalidTokenResponse, TokenRequestFailed
from httpie_trulioo.token import (
    describe_failure,
    jwt_expiry,
    parse_token_response,
    raise_for_failure,
    token_expiry,
)

NOW = 1_800_000_000.0


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


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
    assert not token.is_fresh(NOW, 60)


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


def test_no_expiry_at_all_is_unknown() -> None:
    token = parse_token_response(body(access_token="opaque"), NOW)
    assert token.expires_at is None
    assert not token.is_fresh(NOW, 60)


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
    assert is_fresh(expires_at, NOW, expires_at - 60.001, 60)
    assert not is_fresh(expires_at, NOW, expires_at - 60, 60)
    assert not is_fresh(expires_at, NOW, expires_at + 1, 60)


def test_short_lived_token_is_reused_for_half_its_life() -> None:
    expires_at = NOW + 10
    assert is_fresh(expires_at, NOW, NOW + 4.9, 60)
    assert not is_fresh(expires_at, NOW, NOW + 5, 60)


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
