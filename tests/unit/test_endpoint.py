"""The token request: its form and headers and reading the answer (pure), then sending it.

The second half talks to real servers on 127.0.0.1: the fake Trulioo, and endpoints played by
hand on a socket (one that stalls, floods, hangs up or is a proxy), to hold the limits a hostile
or broken endpoint meets: no redirect followed, no netrc or proxy where none belongs, at most
1 MiB read, one deadline for the whole exchange, and no secret in any error.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import importlib.metadata
import ipaddress
import json
import logging
import math
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlencode

import pytest
import trustme
from fake_trulioo import FakeTrulioo, RunningServer, make_jwt
from helpers import CLIENT_ID, CLIENT_SECRET, Clock, refusing_port
from hypothesis import given, settings
from hypothesis import strategies as st
from peers import ConnectProxy, Recorder

from httpie_trulioo import endpoint
from httpie_trulioo.endpoint import (
    FORM_ENCODED,
    FORM_ENCODED_THEN_AS_IS,
    TokenRequest,
    basic_encoding_matters,
    client_credentials_request,
    client_refused,
    describe_failure,
    fetch_token,
    parse_token_response,
    raise_for_failure,
)
from httpie_trulioo.errors import (
    InvalidTokenResponse,
    TokenEndpointUnreachable,
    TokenRequestFailed,
    TruliooError,
)
from httpie_trulioo.secret_echo import MASK, SecretEcho
from httpie_trulioo.settings import load_settings
from httpie_trulioo.token import MAX_LIFETIME, VALID, Token, freshness

NOW = 1_800_000_000.0
NOT_JSON = "the token endpoint answered 200, but the body is not JSON: check TRULIOO_TOKEN_URL."
NOT_AN_OBJECT = "the token endpoint answered 200, but the body is not a JSON object: check TRULIOO_TOKEN_URL."
NO_TOKEN = (
    "the token endpoint answered 200 without a token (no access_token or Token field): "
    "check TRULIOO_TOKEN_URL."
)
# The hint when the server gave its own reason, and the one for a wrong client id or secret (posted).
NEUTRAL = (
    "see the server's reason; what is sent is set by TRULIOO_TOKEN_URL, TRULIOO_AUTH_METHOD, TRULIOO_SCOPE, "
    "TRULIOO_AUDIENCE and TRULIOO_RESOURCE."
)
CHECK_POSTED = (
    "check the client id and secret, sent in the form (client_secret_post); if the server wants HTTP Basic, "
    "set TRULIOO_AUTH_METHOD=client_secret_basic."
)
# The hint for an OAuth error this package knows nothing of, with no reason given.
GUESSED = "check the client id, secret, TRULIOO_SCOPE and TRULIOO_TOKEN_URL."
# A client secret, for what a server may echo of it.
SECRET = "Zq8!x(y)*k'Lm/Np+Rs7~Tu9"
NOT_VISIBLE = (
    "the token endpoint answered 200, but its token is not a string of visible ASCII "
    "characters (at most 16 KiB)."
)


def request(
    *, client_id: str, client_secret: str, scope: str, auth_method: str, as_is: bool = False, **more: Any
) -> TokenRequest:
    """The request for these settings, as the provider builds it (``as_is``: its retry of HTTP Basic)."""
    chosen = load_settings({}, client_id=client_id, scope=scope, auth_method=auth_method, **more)
    return client_credentials_request(chosen, client_secret, as_is=as_is)


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


@pytest.mark.parametrize(
    ("client_id", "client_secret"),
    [("client", "secret"), ("demo-client", "demo-secret:with-colon"), ("a b", "p+q r/%é==")],
)
def test_basic_as_is_sends_id_and_secret_as_they_are_and_only_basic_changes(
    client_id: str, client_secret: str
) -> None:
    grant = request(
        client_id=client_id,
        client_secret=client_secret,
        scope="s",
        auth_method="client_secret_basic",
        as_is=True,
    )
    scheme, _, encoded = grant.headers["Authorization"].partition(" ")
    assert (scheme, base64.b64decode(encoded).decode()) == ("Basic", f"{client_id}:{client_secret}")
    assert grant.form == {"grant_type": "client_credentials", "scope": "s"}
    posted = {"client_id": client_id, "client_secret": client_secret, "scope": "s"}
    assert request(**posted, auth_method="client_secret_post", as_is=True) == request(
        **posted, auth_method="client_secret_post"
    )


@pytest.mark.parametrize(
    ("client_id", "client_secret", "matters"),
    [
        ("client", "s3cret-._~", False),  # what form-encoding leaves alone
        ("client", "c2VjcmV0", False),
        ("client", "c2VjcmV0+/==", True),  # base64, as many servers generate secrets
        ("client", "with:colon", True),
        ("client", "with space", True),
        ("client", "caf\u00e9", True),
        ("urn:client", "secret", True),
        ("a/b", "secret", True),
    ],
)
def test_basic_encoding_matters_when_it_changes_the_id_or_the_secret(
    client_id: str, client_secret: str, matters: bool
) -> None:
    basic = load_settings({}, client_id=client_id, auth_method="client_secret_basic")
    assert basic_encoding_matters(basic, client_secret) is matters
    posted = load_settings({}, client_id=client_id, auth_method="client_secret_post")
    assert basic_encoding_matters(posted, client_secret) is False


@pytest.mark.parametrize(
    ("status", "raw", "refused"),
    [
        (400, b'{"error": "invalid_client"}', True),
        (401, b'{"error": "invalid_client", "error_description": "bad"}', True),
        (403, b'{"error": "invalid_client"}', True),
        (401, b"", True),  # a bare 401
        (401, b'{"error": "access_denied", "error_description": "Unauthorized"}', True),  # Auth0's
        (400, b'{"error": "invalid_scope"}', False),
        (400, b'{"error": "unauthorized_client"}', False),  # authenticated, but not allowed the grant
        (400, b"", False),
        (500, b"invalid_client", False),
        (200, b'{"access_token": "t"}', False),
    ],
)
def test_a_client_is_refused_by_invalid_client_or_a_401(status: int, raw: bytes, refused: bool) -> None:
    assert client_refused(status, raw) is refused


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
        as_is = request(client_id=client_id, client_secret=secret, scope="", auth_method=method, as_is=True)
        on_the_wire.append(as_is.headers["Authorization"].split(" ")[1])
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


@pytest.mark.parametrize(("token_type", "shown"), [("mac", "mac"), ("DPoP", "DPoP"), (7, "7")])
@pytest.mark.parametrize("field", ["token_type", "TokenType"])
def test_other_token_types_are_refused(field: str, token_type: object, shown: str) -> None:
    with pytest.raises(InvalidTokenResponse) as raised:
        parse_token_response(body(access_token="xyz", **{field: token_type}), NOW)
    assert str(raised.value) == (
        f"the token endpoint gave a token of type '{shown}'; only bearer tokens are supported."
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html>502 Bad Gateway</html>", NOT_JSON),
        (b"", NOT_JSON),
        (b"[1, 2]", NOT_AN_OBJECT),
        (b'{"expires_in": 3600}', NO_TOKEN),
        (b'{"access_token": ""}', NOT_VISIBLE),
        (b'{"access_token": 12}', NOT_VISIBLE),
        (b'{"access_token": "a b"}', NOT_VISIBLE),
        (b'{"access_token": "ab\\r\\nX-Evil: 1"}', NOT_VISIBLE),
    ],
)
def test_unusable_answers_are_clear_errors(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidTokenResponse) as raised:
        parse_token_response(raw, NOW)
    assert str(raised.value) == message


@pytest.mark.parametrize(("given", "lifetime"), [("600", 600.0), (" 60 ", 60.0), (12.5, 12.5)])
def test_expires_in_may_be_a_numeric_string_or_float(given: object, lifetime: float) -> None:
    token = parse_token_response(body(access_token="a", expires_in=given), NOW)
    assert token.expires_at == NOW + lifetime


@pytest.mark.parametrize(
    ("given", "shown"),
    [("soon", "soon"), (True, "True"), ([], "[]"), ({}, "{}"), ("nan", "nan"), ("inf", "inf")],
)
@pytest.mark.parametrize("field", ["expires_in", "ExpiresIn"])
def test_expires_in_that_is_not_a_number_is_an_error(field: str, given: object, shown: str) -> None:
    with pytest.raises(InvalidTokenResponse) as raised:
        parse_token_response(body(access_token="a", **{field: given}), NOW)
    assert (
        str(raised.value)
        == f"the token endpoint gave an ExpiresIn that is not a number of seconds: '{shown}'."
    )


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
    ("fields", "expiry"),
    [
        ({"access_token": "opaque"}, NOW + 600),
        ({"access_token": make_jwt({"sub": "x"})}, NOW + 600),
        ({"access_token": "opaque", "ExpiresIn": 30}, NOW + 30),
        ({"access_token": "opaque", "expires_in": "0"}, NOW),
        ({"access_token": make_jwt({"exp": NOW + 90})}, NOW + 90),
    ],
    ids=["opaque", "JWT without exp", "ExpiresIn", "expires_in 0", "JWT exp"],
)
def test_a_default_lifetime_stands_in_only_for_an_expiry_the_answer_lacks(
    fields: dict[str, object], expiry: float
) -> None:
    token = parse_token_response(body(**fields), NOW, default_lifetime=600)
    assert (token.obtained_at, token.expires_at) == (NOW, expiry)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"token_type": f"mac {SECRET}"},
            f"the token endpoint gave a token of type 'mac {MASK}'; only bearer tokens are supported.",
        ),
        (
            {"ExpiresIn": f"{SECRET} seconds"},
            f"the token endpoint gave an ExpiresIn that is not a number of seconds: '{MASK} seconds'.",
        ),
    ],
)
def test_an_answer_that_echoes_the_secret_is_quoted_without_it(fields: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidTokenResponse) as raised:
        parse_token_response(body(access_token="a", **fields), NOW, SecretEcho(SECRET))
    assert str(raised.value) == message


def test_a_granted_scope_that_echoes_the_secret_is_masked() -> None:
    token = parse_token_response(body(access_token="a", scope=f"read {SECRET}"), NOW, SecretEcho(SECRET))
    assert token.scope == f"read {MASK}"


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


BASIC_SENT = "check the client id and secret, sent as HTTP Basic (client_secret_basic)"
OR_IN_THE_FORM = "; if the server wants them in the form, set TRULIOO_AUTH_METHOD=client_secret_post."


@pytest.mark.parametrize(
    ("basic_encoding", "sent"),
    [
        ("", ""),
        (FORM_ENCODED, " form-encoded as RFC 6749 section 2.3.1 asks"),
        (FORM_ENCODED_THEN_AS_IS, " form-encoded as RFC 6749 section 2.3.1 asks, then as they are"),
    ],
)
@pytest.mark.parametrize(
    ("status", "raw", "start"),
    [
        (400, body(error="invalid_client"), "400 invalid_client: "),
        (401, body(error="invalid_client", error_description="no"), "401 invalid_client (no): "),
        (401, b"", "401: "),
    ],
)
def test_a_refused_client_is_told_how_its_basic_credentials_were_encoded(
    basic_encoding: str, sent: str, status: int, raw: bytes, start: str
) -> None:
    message = describe_failure(status, raw, auth_method="client_secret_basic", basic_encoding=basic_encoding)
    assert message == f"the token endpoint answered {start}{BASIC_SENT}{sent}{OR_IN_THE_FORM}"
    assert (
        raised_for(status, raw, auth_method="client_secret_basic", basic_encoding=basic_encoding) == message
    )


def test_how_basic_credentials_were_encoded_changes_no_other_hint() -> None:
    raw = body(error="invalid_scope")
    assert describe_failure(400, raw, basic_encoding=FORM_ENCODED_THEN_AS_IS) == describe_failure(400, raw)


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
    ("description", "shown"),
    [
        ("a\x1b[31mb\nc\t", "a [31mb c"),
        ("x" * 200, "x" * 200),
        ("x" * 201, "x" * 199 + "…"),
    ],
    ids=["control characters", "200 characters", "201 characters"],
)
def test_server_text_is_shown_printable_and_at_most_200_characters(description: str, shown: str) -> None:
    message = describe_failure(400, body(error="access_denied", error_description=description))
    assert message == f"the token endpoint answered 400 access_denied ({shown}): {NEUTRAL}"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            body(error="invalid_client", error_description=f"secret {SECRET} is wrong"),
            f"the token endpoint answered 401 invalid_client (secret {MASK} is wrong): {CHECK_POSTED}",
        ),
        (
            body(error=f"bad_{SECRET}"),
            f"the token endpoint answered 401 {MASK}: {GUESSED}",
        ),
    ],
    ids=["in the description", "in the error"],
)
def test_a_refusal_that_echoes_the_secret_is_quoted_without_it(raw: bytes, expected: str) -> None:
    assert describe_failure(401, raw, SecretEcho(SECRET)) == expected


REDIRECT = (
    "a redirect; it is not followed so that the secret goes nowhere else: set TRULIOO_TOKEN_URL to the "
    "final address."
)


@pytest.mark.parametrize(
    ("status", "raw", "expected"),
    [
        (500, b"oops", "500: the token service has a problem, try again later."),
        (502, b"<html>Bad Gateway</html>", "502: the token service has a problem, try again later."),
        (300, b"", f"300, {REDIRECT}"),
        (302, b"", f"302, {REDIRECT}"),
        (399, b"", f"399, {REDIRECT}"),
        (400, b"", "400: check TRULIOO_TOKEN_URL."),
        (401, b"", f"401: {CHECK_POSTED}"),
        (404, b"not found", "404: check TRULIOO_TOKEN_URL."),
        (400, b"[1, 2]", "400: check TRULIOO_TOKEN_URL."),
        (400, body(error=42, error_description="why"), "400: check TRULIOO_TOKEN_URL."),
        (400, body(error_description="why"), "400: check TRULIOO_TOKEN_URL."),
    ],
)
def test_other_failures_are_described(status: int, raw: bytes, expected: str) -> None:
    assert describe_failure(status, raw) == f"the token endpoint answered {expected}"


def test_only_200_passes() -> None:
    raise_for_failure(200, b"")
    with pytest.raises(TokenRequestFailed):
        raise_for_failure(201, b"{}")


def raised_for(status: int, raw: bytes, **sent: Any) -> str:
    """The message raise_for_failure raises with."""
    with pytest.raises(TokenRequestFailed) as raised:
        raise_for_failure(status, raw, **sent)
    return str(raised.value)


@pytest.mark.parametrize("describe", [describe_failure, raised_for], ids=["described", "raised"])
def test_unless_told_what_was_sent_a_posted_scope_and_no_resource_are_assumed(
    describe: Callable[..., str],
) -> None:
    assert (
        describe(400, body(error="invalid_client"))
        == f"the token endpoint answered 400 invalid_client: {CHECK_POSTED}"
    )
    assert describe(400, body(error="invalid_scope")) == (
        "the token endpoint answered 400 invalid_scope: check TRULIOO_SCOPE: this client may not be allowed "
        "the scope asked for (an empty TRULIOO_SCOPE asks for none)."
    )
    assert describe(400, body(error="invalid_target")) == (
        "the token endpoint answered 400 invalid_target: this server may want a resource indicator: "
        "set TRULIOO_RESOURCE."
    )


@pytest.mark.parametrize(
    ("raw", "sent"),
    [
        (body(error="invalid_client"), {"auth_method": "client_secret_basic"}),
        (body(error="invalid_scope"), {"scope_sent": False}),
        (body(error="invalid_target"), {"resource_sent": True}),
        (body(error="invalid_client", error_description=f"not {SECRET}"), {"hidden": SecretEcho(SECRET)}),
    ],
)
def test_a_refusal_raised_says_what_it_describes(raw: bytes, sent: dict[str, Any]) -> None:
    assert raised_for(400, raw, **sent) == describe_failure(400, raw, **sent)


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


# Talking to the token endpoint: real sockets on 127.0.0.1 ------------------------------------


class HandPlayed:
    """A token endpoint (or proxy) on 127.0.0.1 whose answer the test plays by hand on a real socket.

    Each connection's first bytes are kept in ``received``; then ``play(client, stop)`` answers.
    Over TLS if given a context. Leaving it ends every connection still open.
    """

    def __init__(
        self, play: Callable[[socket.socket, threading.Event], None], tls: ssl.SSLContext | None = None
    ) -> None:
        """Listen now on a free port; serve once entered."""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._play, self._tls = play, tls
        self.received: list[bytes] = []
        self.stop = threading.Event()
        self.host = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.url = f"{'https' if tls else 'http'}://{self.host}"
        self.token_url = f"{self.url}/connect/token"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(client,), daemon=True).start()

    def _answer(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError), contextlib.ExitStack() as stack:
            client = stack.enter_context(client)
            client.settimeout(10)
            if self._tls is not None:
                client = stack.enter_context(self._tls.wrap_socket(client, server_side=True))
            self.received.append(client.recv(65536))
            self._play(client, self.stop)

    def __enter__(self) -> HandPlayed:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._thread.join()
        self._listener.close()


class Stall:
    """Sends ``head``, then ``drip`` (a header line) every 0.1 s, for ever; ``hung_up`` once the client goes.

    With ``drip=b""`` it falls silent after ``head``.
    """

    def __init__(self, head: bytes = b"HTTP/1.1 200 OK\r\n", drip: bytes = b"X-Stall: 1\r\n") -> None:
        self.head, self.drip = head, drip
        self.hung_up = threading.Event()

    def __call__(self, client: socket.socket, stop: threading.Event) -> None:
        with contextlib.suppress(OSError):
            client.sendall(self.head)
            while not stop.wait(0.1):
                client.sendall(self.drip)
                readable, _, _ = select.select([client], [], [], 0)
                pending = isinstance(client, ssl.SSLSocket) and client.pending()  # read, not yet taken
                if (readable or pending) and not client.recv(65536):  # the rest of the request, or the end
                    break
        if not stop.is_set():
            self.hung_up.set()


class Flood:
    """Answers 200 with a body of spaces that would go on for ``limit`` bytes; ``cut_off`` if hung up on."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.cut_off = threading.Event()
        self.done = threading.Event()

    def __call__(self, client: socket.socket, stop: threading.Event) -> None:
        chunk = b" " * 65536
        try:
            client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
            for _ in range(self.limit // len(chunk)):
                client.sendall(chunk)
        except OSError:
            self.cut_off.set()
        finally:
            self.done.set()


def hang_up_after(raw: bytes) -> Callable[[socket.socket, threading.Event], None]:
    """A play that sends ``raw`` and closes the connection."""
    return lambda client, stop: client.sendall(raw)


@pytest.fixture(autouse=True)
def _nothing_of_this_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy, CA bundle or ~/.netrc of whoever runs the tests: each test sets what it needs."""
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], str]]:
    """Host names the test resolves itself, each to the address its function returns.

    Any other name is unknown (as to a resolver that has never heard of it), so no test ever
    asks a DNS server; addresses resolve as usual.
    """
    answers: dict[str, Callable[[], str]] = {}
    resolve = socket.getaddrinfo

    def getaddrinfo(host: str | bytes | None, port: str | int | None, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name in answers:
            return resolve(answers[name](), port, *args, **kwargs)
        try:
            ipaddress.ip_address(name or "")
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return resolve(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def authority(tmp_path: Path) -> tuple[trustme.CA, Path]:
    """A throwaway CA and the file that trusts it."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return ca, ca_file


def server_tls(ca: trustme.CA, *hosts: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*hosts).configure_cert(context)
    return context


def fetch(token_url: str, secret: str = CLIENT_SECRET, **more: Any) -> Token:
    """A token for the demo client from ``token_url``, as the provider asks for one."""
    return fetch_token(load_settings({}, client_id=CLIENT_ID, token_url=token_url, **more), secret, Clock())


def fetch_fails(error: type[TruliooError], token_url: str, secret: str = CLIENT_SECRET, **more: Any) -> str:
    """The message of the ``error`` that fetching a token from ``token_url`` raises."""
    with pytest.raises(error) as raised:
        fetch(token_url, secret, **more)
    return str(raised.value)


def answer(fake: FakeTrulioo, status: int, document: object, **headers: str) -> None:
    """Make the fake token endpoint answer ``status`` with ``document`` as JSON (bytes as they are)."""
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    fake.token_override = lambda: (status, {"Content-Type": "application/json", **headers}, raw)


def timed_out(host: str, seconds: float) -> str:
    return (
        f"the token endpoint {host} did not answer within {seconds} s: try again, or raise TRULIOO_TIMEOUT."
    )


def unreachable(host: str, reason: str, advice: str = "Check TRULIOO_TOKEN_URL and the network.") -> str:
    return f"could not reach the token endpoint {host}: {reason}. {advice}"


CHECK_URL = "check TRULIOO_TOKEN_URL."
UNTRUSTED = "the TLS handshake failed (certificate not trusted, or not a TLS server)"
TLS_ADVICE = "Check TRULIOO_TOKEN_URL, and REQUESTS_CA_BUNDLE if a proxy re-signs TLS."


# What is sent.


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_the_token_request_carries_exactly_the_form_and_headers_it_needs(
    server: RunningServer, method: str
) -> None:
    token = fetch(server.token_url, auth_method=method)
    assert token.access_token in server.fake.issued
    (form,) = server.fake.token_forms
    (headers,) = server.fake.token_headers
    basic = {"Authorization": "Basic " + base64.b64encode(b"demo-client:demo-secret%3Awith-colon").decode()}
    expected_form = {"grant_type": "client_credentials", "scope": "workflow.studio.api"}
    if method == "client_secret_post":
        basic = {}
        expected_form.update(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert form == expected_form
    assert headers == {
        "Host": server.url.split("://")[1],
        "User-Agent": f"httpie-trulioo/{importlib.metadata.version('httpie-trulioo')}",
        "Accept-Encoding": "identity",
        "Accept": "application/json",
        "Connection": "keep-alive",
        "Content-Length": str(len(urlencode(expected_form))),
        "Content-Type": "application/x-www-form-urlencoded",
        **basic,
    }


def basic(client_id: str, client_secret: str) -> str:
    """The Authorization header of HTTP Basic with these credentials, taken as they are."""
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


FORM_ENCODED_DEMO = basic(CLIENT_ID, "demo-secret%3Awith-colon")  # the demo secret holds a ":"
AS_IS_DEMO = basic(CLIENT_ID, CLIENT_SECRET)


def test_a_server_that_does_not_decode_basic_gets_it_as_it_is_after_one_refusal(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.fake.basic_decodes = False
    caplog.set_level(logging.DEBUG, logger="httpie_trulioo")
    token = fetch(server.token_url, auth_method="client_secret_basic")
    assert token.access_token in server.fake.issued
    assert server.fake.token_authorizations == [FORM_ENCODED_DEMO, AS_IS_DEMO]
    forms = [{"grant_type": "client_credentials", "scope": "workflow.studio.api"}] * 2
    assert server.fake.token_forms == forms
    context = f"[client {CLIENT_ID} @ {server.token_url}]"
    records = [record for record in caplog.records if record.name == "httpie_trulioo"]
    assert [record.getMessage() for record in records if record.levelno >= logging.INFO] == [
        (
            f"{context} the token endpoint refused the HTTP Basic id and secret form-encoded as RFC 6749 "
            "section 2.3.1 asks, and took them as they are; each new token costs one refused request first."
        )
    ]
    sent = "(client_secret_basic, refused form-encoded, sent again as they are): 200 in "
    assert records[0].getMessage().startswith(f"{context} POST {server.token_url} {sent}")
    assert not any("demo-secret" in record.getMessage() for record in records)


@pytest.mark.parametrize("decodes", [True, False])
def test_basic_credentials_that_form_encoding_leaves_alone_are_sent_once(
    server: RunningServer, decodes: bool
) -> None:
    server.fake.basic_decodes = decodes
    server.fake.clients["plain-client"] = "c2VjcmV0"
    settings = load_settings(
        {}, client_id="plain-client", token_url=server.token_url, auth_method="client_secret_basic"
    )
    assert fetch_token(settings, "c2VjcmV0", Clock()).access_token in server.fake.issued
    with pytest.raises(TokenRequestFailed) as raised:
        fetch_token(settings, "c2VjcmV1", Clock())
    assert str(raised.value) == (
        f"the token endpoint answered 400 invalid_client (fake-trulioo: invalid_client): {BASIC_SENT}"
        f"{OR_IN_THE_FORM}"
    )
    assert server.fake.token_authorizations == [
        basic("plain-client", "c2VjcmV0"),
        basic("plain-client", "c2VjcmV1"),
    ]


def test_a_server_that_decodes_basic_takes_it_form_encoded_at_once(server: RunningServer) -> None:
    assert fetch(server.token_url, auth_method="client_secret_basic").access_token in server.fake.issued
    assert server.fake.token_authorizations == [FORM_ENCODED_DEMO]


@pytest.mark.parametrize("decodes", [True, False])
def test_a_wrong_secret_is_tried_both_ways_and_the_error_says_so(
    server: RunningServer, decodes: bool
) -> None:
    server.fake.basic_decodes = decodes
    message = fetch_fails(
        TokenRequestFailed, server.token_url, "wrong:secret", auth_method="client_secret_basic"
    )
    assert message == (
        f"the token endpoint answered 400 invalid_client (fake-trulioo: invalid_client): {BASIC_SENT} "
        f"form-encoded as RFC 6749 section 2.3.1 asks, then as they are{OR_IN_THE_FORM}"
    )
    assert server.fake.token_authorizations == [
        basic(CLIENT_ID, "wrong%3Asecret"),
        basic(CLIENT_ID, "wrong:secret"),
    ]
    assert "wrong:secret" not in message


def test_a_bare_401_to_basic_is_a_refusal_worth_a_retry(server: RunningServer) -> None:
    answer(server.fake, 401, b"")
    message = fetch_fails(TokenRequestFailed, server.token_url, auth_method="client_secret_basic")
    assert message == (
        f"the token endpoint answered 401: {BASIC_SENT} form-encoded as RFC 6749 section 2.3.1 asks, then as "
        f"they are{OR_IN_THE_FORM}"
    )
    assert server.fake.token_authorizations == [FORM_ENCODED_DEMO, AS_IS_DEMO]


@pytest.mark.parametrize(
    ("status", "document"),
    [(400, {"error": "invalid_scope"}), (400, {"error": "unauthorized_client"}), (500, b"oops")],
)
def test_basic_is_sent_again_only_after_the_client_was_refused(
    server: RunningServer, status: int, document: object
) -> None:
    answer(server.fake, status, document)
    fetch_fails(TokenRequestFailed, server.token_url, auth_method="client_secret_basic")
    assert server.fake.token_authorizations == [FORM_ENCODED_DEMO]


def test_a_posted_secret_is_never_sent_twice(server: RunningServer) -> None:
    server.fake.basic_decodes = False
    fetch_fails(TokenRequestFailed, server.token_url, "wrong:secret")
    assert server.fake.token_authorizations == [""]


def test_a_client_id_with_a_colon_is_never_sent_as_it_is(server: RunningServer) -> None:
    server.fake.basic_decodes = False
    settings = load_settings(
        {}, client_id="urn:client", token_url=server.token_url, auth_method="client_secret_basic"
    )
    with pytest.raises(TokenRequestFailed) as raised:
        fetch_token(settings, "secret", Clock())
    assert str(raised.value) == (
        f"the token endpoint answered 400 invalid_client (fake-trulioo: invalid_client): {BASIC_SENT} "
        f"form-encoded as RFC 6749 section 2.3.1 asks{OR_IN_THE_FORM}"
    )
    assert server.fake.token_authorizations == [basic("urn%3Aclient", "secret")]


def test_the_retry_as_it_is_shares_the_one_deadline(server: RunningServer) -> None:
    # Each answer alone comes well within the timeout, both together do not: a holder of the
    # cache lock never takes longer than TRULIOO_TIMEOUT, which is what others wait for.
    server.fake.basic_decodes = False
    server.fake.token_delay = 1.2
    message = fetch_fails(
        TokenEndpointUnreachable, server.token_url, auth_method="client_secret_basic", timeout=2.2
    )
    assert message == timed_out(server.url.split("://")[1], 2.2)
    assert server.fake.token_authorizations == [FORM_ENCODED_DEMO, AS_IS_DEMO]


def test_run_from_a_source_tree_the_user_agent_says_its_version_is_unknown(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(endpoint, "version", not_installed)
    fetch(server.token_url)
    assert [headers["User-Agent"] for headers in server.fake.token_headers] == ["httpie-trulioo/unknown"]


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_netrc_credentials_never_go_to_the_token_endpoint(
    server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    fetch(server.token_url, auth_method=method)
    ours = "Basic " + base64.b64encode(b"demo-client:demo-secret%3Awith-colon").decode()
    assert server.fake.token_authorizations == [ours if method == "client_secret_basic" else ""]


def test_a_redirect_is_not_followed_so_the_secret_goes_nowhere_else(server: RunningServer) -> None:
    with Recorder(status=200, body=body(access_token="elsewhere")) as elsewhere:
        server.fake.token_override = lambda: (307, {"Location": f"{elsewhere.url}/connect/token"}, b"")
        message = fetch_fails(TokenRequestFailed, server.token_url)
    assert message == f"the token endpoint answered 307, {REDIRECT}"
    assert elsewhere.seen == []


def test_a_loopback_token_url_never_goes_through_a_proxy(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ConnectProxy() as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.url)
        assert fetch(server.token_url).access_token in server.fake.issued
    assert proxy.request_lines == []


def test_another_host_is_reached_through_the_https_proxy(
    fake: FakeTrulioo,
    authority: tuple[trustme.CA, Path],
    names: dict[str, Callable[[], str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca, ca_file = authority
    with RunningServer(fake, tls=server_tls(ca, "auth.example.test")) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with ConnectProxy(upstream=("127.0.0.1", port)) as proxy:
            monkeypatch.setenv("HTTPS_PROXY", proxy.url)
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
            token = fetch(f"https://auth.example.test:{port}/connect/token")
    assert token.access_token in fake.issued
    # urllib3 1.x and early 2.x say HTTP/1.0 in a CONNECT, later 2.x HTTP/1.1: either is a tunnel.
    assert [line.rsplit(" ", 1)[0] for line in proxy.request_lines] == [f"CONNECT auth.example.test:{port}"]


# What is read.


def padded(document: dict[str, object], size: int) -> bytes:
    """``document`` as JSON, padded with spaces to ``size`` bytes."""
    raw = json.dumps(document).encode()
    return raw + b" " * (size - len(raw))


def test_an_answer_of_up_to_1_mib_is_read_whole(server: RunningServer) -> None:
    answer(server.fake, 200, padded({"access_token": "big", "expires_in": 60}, endpoint.MAX_BODY))
    token = fetch(server.token_url)
    assert (token.access_token, token.expires_at) == ("big", Clock().now + 60)


def test_an_answer_over_1_mib_is_refused(server: RunningServer) -> None:
    answer(server.fake, 200, padded({"access_token": "big"}, endpoint.MAX_BODY + 1))
    assert fetch_fails(InvalidTokenResponse, server.token_url) == (
        f"the token endpoint answered 200 with a body larger than 1 MiB: {CHECK_URL}"
    )


def test_an_endless_answer_is_read_no_further_than_the_limit() -> None:
    # 64 MiB is more than the sockets' buffers hold (here at most 4 MiB sent and 32 MiB received):
    # the server is cut off only if the client stops reading near the limit and hangs up.
    flood = Flood(limit=64 << 20)
    with HandPlayed(flood) as endless:
        message = fetch_fails(InvalidTokenResponse, endless.token_url, timeout=10)
        assert flood.done.wait(10)
    assert message == f"the token endpoint answered 200 with a body larger than 1 MiB: {CHECK_URL}"
    assert flood.cut_off.is_set()


@pytest.mark.parametrize("encoding", ["", "identity", " Identity "])
def test_an_answer_said_to_be_uncompressed_is_read(server: RunningServer, encoding: str) -> None:
    answer(server.fake, 200, {"access_token": "plain"}, **{"Content-Encoding": encoding})
    assert fetch(server.token_url).access_token == "plain"


@pytest.mark.parametrize("status", [200, 400])
def test_a_compressed_answer_is_refused(server: RunningServer, status: int) -> None:
    answer(server.fake, status, b"\x1f\x8b\x08\x00" + b"\x00" * 20, **{"Content-Encoding": "gzip"})
    assert fetch_fails(InvalidTokenResponse, server.token_url) == (
        f"the token endpoint answered {status} with a compressed body though none was asked for: "
        "check TRULIOO_TOKEN_URL and any proxy in between."
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"error": "invalid_client", "error_description": f"{SECRET} is not the secret"},
            f"the token endpoint answered 400 invalid_client ({MASK} is not the secret): {CHECK_POSTED}",
        ),
        (
            {"error": f"no:{SECRET}"},
            f"the token endpoint answered 400 {MASK}: {GUESSED}",
        ),
        (
            {"access_token": "a", "token_type": f"{SECRET}"},
            f"the token endpoint gave a token of type '{MASK}'; only bearer tokens are supported.",
        ),
        (
            {"access_token": "a", "expires_in": f"{SECRET}"},
            f"the token endpoint gave an ExpiresIn that is not a number of seconds: '{MASK}'.",
        ),
    ],
    ids=["error_description", "error", "token type", "ExpiresIn"],
)
def test_server_text_that_echoes_the_secret_never_reaches_an_error(
    server: RunningServer, document: dict[str, str], message: str
) -> None:
    answer(server.fake, 400 if "error" in document else 200, document)
    with pytest.raises(TruliooError) as raised:
        fetch(server.token_url, SECRET)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("more", "document", "hint"),
    [
        (
            {"auth_method": "client_secret_basic"},
            None,
            (
                "invalid_client (fake-trulioo: invalid_client): check the client id and secret, sent as "
                "HTTP Basic (client_secret_basic); if the server wants them in the form, set "
                "TRULIOO_AUTH_METHOD=client_secret_post."
            ),
        ),
        (
            {"scope": ""},
            None,
            (
                "invalid_scope (fake-trulioo: invalid_scope): no scope was asked for (TRULIOO_SCOPE is "
                "empty): set TRULIOO_SCOPE to one this client is allowed."
            ),
        ),
        (
            {"resource": "urn:example:api"},
            {"error": "invalid_target"},
            "invalid_target: check TRULIOO_RESOURCE: this server does not accept it for this client.",
        ),
    ],
    ids=["basic", "no scope", "a resource"],
)
def test_a_refusal_is_explained_by_what_was_sent(
    server: RunningServer, more: dict[str, str], document: object, hint: str
) -> None:
    if document is not None:
        answer(server.fake, 400, document)
    secret = "wrong" if "auth_method" in more else CLIENT_SECRET
    assert fetch_fails(TokenRequestFailed, server.token_url, secret, **more) == (
        f"the token endpoint answered 400 {hint}"
    )


# Why no answer came.


def test_a_refused_connection_is_named() -> None:
    with refusing_port() as port:
        message = fetch_fails(TokenEndpointUnreachable, f"http://127.0.0.1:{port}/connect/token")
    assert message == unreachable(f"127.0.0.1:{port}", "the connection was refused")


@pytest.mark.parametrize(
    ("token_url", "host"),
    [
        ("https://auth.example.test/connect/token", "auth.example.test"),
        ("https://auth.example.test:8443/connect/token", "auth.example.test:8443"),
    ],
)
def test_a_host_name_that_does_not_resolve_is_named(
    names: dict[str, Callable[[], str]], token_url: str, host: str
) -> None:
    message = fetch_fails(TokenEndpointUnreachable, token_url)
    assert message == unreachable(host, "its host name could not be resolved")


def test_an_untrusted_certificate_fails_the_handshake(
    fake: FakeTrulioo, authority: tuple[trustme.CA, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, ca_file = authority
    with RunningServer(fake, tls=server_tls(ca, "127.0.0.1")) as server:
        message = fetch_fails(TokenEndpointUnreachable, server.token_url)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
        token = fetch(server.token_url)
    assert message == unreachable(server.url.split("://")[1], UNTRUSTED, TLS_ADVICE)
    assert token.access_token in fake.issued


def test_a_server_that_does_not_speak_tls_fails_the_handshake(server: RunningServer) -> None:
    token_url = server.token_url.replace("http://", "https://")
    message = fetch_fails(TokenEndpointUnreachable, token_url)
    assert message == unreachable(server.url.split("://")[1], UNTRUSTED, TLS_ADVICE)


# urllib3 2 ends a read short of Content-Length with an error. 1.x (requests 2.27 to 2.29 allow
# only 1.x, and the floor admits them) hands over what came as if it were whole, and the body is
# then not JSON; unless the close came as a reset (the server left some of the request unread).
URLLIB3_CHECKS_LENGTH = int(importlib.metadata.version("urllib3").split(".")[0]) >= 2
CUT_SHORT_UNDER_URLLIB3_1 = (
    "the token endpoint answered 200, but the body is not JSON: check TRULIOO_TOKEN_URL."
)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "ConnectionError"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{",
            "the connection broke while the answer was read",
        ),
    ],
    ids=["before the answer", "within the answer"],
)
def test_a_connection_that_breaks_is_named(raw: bytes, reason: str) -> None:
    with HandPlayed(hang_up_after(raw)) as breaking:
        message = fetch_fails(TruliooError, breaking.token_url)
    if raw and not URLLIB3_CHECKS_LENGTH and message == CUT_SHORT_UNDER_URLLIB3_1:
        return
    assert message == unreachable(breaking.host, reason)


def test_a_connection_the_system_gave_up_on_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel ends a connect that gets no answer after about two minutes (ETIMEDOUT), before a
    # TRULIOO_TIMEOUT of more than that runs out; there is no such host on loopback to try.
    with refusing_port() as port:
        connect = socket.socket.connect

        def unanswered(sock: socket.socket, address: Any) -> None:
            if address == ("127.0.0.1", port):
                raise TimeoutError(errno.ETIMEDOUT, os.strerror(errno.ETIMEDOUT))
            connect(sock, address)

        monkeypatch.setattr(socket.socket, "connect", unanswered)
        message = fetch_fails(TokenEndpointUnreachable, f"http://127.0.0.1:{port}/connect/token", timeout=300)
    assert message == timed_out(f"127.0.0.1:{port}", 300)


# The deadline.


def test_a_stalling_endpoint_is_left_at_the_deadline_and_its_connection_closed() -> None:
    stall = Stall()
    with HandPlayed(stall) as stalling:
        started = time.monotonic()
        message = fetch_fails(TokenEndpointUnreachable, stalling.token_url, timeout=1)
        elapsed = time.monotonic() - started
        assert stall.hung_up.wait(5)
    assert message == timed_out(stalling.host, 1)
    assert elapsed < 1 + 3


def test_a_silent_endpoint_over_tls_is_left_at_the_deadline_and_its_connection_closed(
    authority: tuple[trustme.CA, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, ca_file = authority
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    silence = Stall(drip=b"")
    with HandPlayed(silence, tls=server_tls(ca, "127.0.0.1")) as silent:
        started = time.monotonic()
        message = fetch_fails(TokenEndpointUnreachable, silent.token_url, timeout=1)
        elapsed = time.monotonic() - started
        assert silence.hung_up.wait(5)
    assert message == timed_out(silent.host, 1)
    assert elapsed < 1 + 3


def test_a_stalling_proxy_is_left_at_the_deadline_and_its_connection_closed(
    names: dict[str, Callable[[], str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    stall = Stall(b"HTTP/1.1 200 Connection established\r\n")
    with HandPlayed(stall) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        message = fetch_fails(TokenEndpointUnreachable, "https://auth.example.test/connect/token", timeout=1)
        assert stall.hung_up.wait(5)
    assert message == timed_out("auth.example.test", 1)
    assert proxy.received[0].startswith(b"CONNECT auth.example.test:443 HTTP/1.")  # 1.0 or 1.1, by urllib3


def test_a_request_still_looking_up_its_host_at_the_deadline_is_never_sent(
    names: dict[str, Callable[[], str]],
) -> None:
    # The look-up cannot be interrupted; the connection it leads to once it ends is shut at once,
    # before a byte (of TLS, let alone of the secret) goes to a server the caller gave up on.
    looked_up = threading.Event()

    def slow_lookup() -> str:
        looked_up.wait(10)
        return "127.0.0.1"

    names["slow.example.test"] = slow_lookup
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        before = set(threading.enumerate())
        message = fetch_fails(
            TokenEndpointUnreachable, f"https://slow.example.test:{port}/connect/token", timeout=1
        )
        left = [thread for thread in threading.enumerate() if thread not in before]
        assert [(thread.name, thread.daemon) for thread in left] == [("httpie-trulioo token request", True)]
        looked_up.set()
        left[0].join(10)
        assert not left[0].is_alive()
        listener.settimeout(5)
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(5)
            assert connection.recv(1024) == b""
    assert message == timed_out(f"slow.example.test:{port}", 1)
