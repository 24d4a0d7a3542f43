"""End to end: token servers that leave out what the plugin could use, through the installed http.

A server may give no expiry at all (RFC 6749 makes ``expires_in`` optional), or take HTTP Basic
credentials only as they are, not form-encoded as RFC 6749 section 2.3.1 asks.
"""

from __future__ import annotations

import base64
import subprocess

import pytest
from fake_trulioo import RunningServer
from helpers import AUTH, CLIENT_ID, CLIENT_SECRET, context_of, run_http

pytestmark = pytest.mark.e2e

FLOW = "/wfs/interpreter-v2/flow/f1"


def call(server: RunningServer, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_http(["-b", "--auth-type=trulioo", f"--auth={AUTH}", "GET", server.url + FLOW], env)


def test_a_default_lifetime_keeps_a_token_given_without_expiry_and_says_nothing(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    server.fake.token_kind, server.fake.expires_in = "opaque", None
    unset = call(server, http_env)
    assert unset.returncode == 0, unset.stderr
    assert unset.stderr == (
        f"httpie-trulioo: {context_of(server)} the token endpoint gave no expiry (no ExpiresIn, no JWT exp); "
        "the token is used for this call only.\n"
    )
    http_env["TRULIOO_DEFAULT_LIFETIME"] = "600"
    for _ in range(2):
        result = call(server, http_env)
        assert (result.returncode, result.stderr) == (0, "")
    assert server.fake.token_requests == 2  # one for the call without it, one for both calls with it
    assert server.fake.api_requests == 3


def basic(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


def test_basic_reaches_a_server_that_does_not_decode_it_and_the_token_is_kept(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    server.fake.basic_decodes = False
    http_env["TRULIOO_AUTH_METHOD"] = "client_secret_basic"
    for _ in range(2):
        result = call(server, http_env)
        assert (result.returncode, result.stderr) == (0, "")
    assert server.fake.token_authorizations == [
        basic(CLIENT_ID, "demo-secret%3Awith-colon"),  # RFC 6749 section 2.3.1: refused
        basic(CLIENT_ID, CLIENT_SECRET),  # as they are: taken, and the second call used the cache
    ]


def test_basic_refused_both_ways_is_one_line_saying_so(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    server.fake.basic_decodes = False
    http_env["TRULIOO_AUTH_METHOD"] = "client_secret_basic"
    result = run_http(
        ["-b", "--auth-type=trulioo", f"--auth={CLIENT_ID}:not+the/secret=", "GET", server.url + FLOW],
        http_env,
    )
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if line] == [
        (
            "http: error: TokenRequestFailed: the token endpoint answered 400 invalid_client (fake-trulioo: "
            "invalid_client): check the client id and secret, sent as HTTP Basic (client_secret_basic) "
            "form-encoded as RFC 6749 section 2.3.1 asks, then as they are; if the server wants them in the "
            f"form, set TRULIOO_AUTH_METHOD=client_secret_post. {context_of(server)}"
        )
    ]
    assert server.fake.token_requests == 2
