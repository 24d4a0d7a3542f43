"""End to end: token servers that leave out what the plugin could use, through the installed http.

A server may give no expiry at all (RFC 6749 makes ``expires_in`` optional).
"""

from __future__ import annotations

import subprocess

import pytest
from fake_trulioo import RunningServer
from helpers import AUTH, context_of, run_http

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
