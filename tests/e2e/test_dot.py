"""The plugin against django-oauth-toolkit, a real OAuth 2.0 server, on 127.0.0.1.

One DOT server (tests/servers/dot) runs for the whole session, with the clients below. Each test
counts the token requests it causes at the server, so the tests do not depend on one another.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from harness import find_http, http_environment
from helpers import run_http
from real_servers import RealServer, command, error_line, start_dot

from httpie_trulioo import TruliooAuth

pytestmark = pytest.mark.e2e

# A secret with the characters that form-encoding changes, as HTTP Basic sends them.
CLIENT = ("dot-client", "dot-secret:with colon+plus/%")
NO_SCOPES = ("dot-no-scopes", "no-scopes-secret")
SHORT_LIVED = ("dot-short-lived", "short-lived-secret")
SHORT_LIFETIME = 20  # seconds; the plugin's margin is then 10 s, half of it
CLIENTS = [
    {"client_id": CLIENT[0], "client_secret": CLIENT[1]},  # may ask for read and write
    {"client_id": NO_SCOPES[0], "client_secret": NO_SCOPES[1], "scopes": []},
    {"client_id": SHORT_LIVED[0], "client_secret": SHORT_LIVED[1], "lifetime": SHORT_LIFETIME},
]
METHODS = ["client_secret_post", "client_secret_basic"]


@pytest.fixture(scope="session")
def dot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    server = start_dot(tmp_path_factory.mktemp("dot"), CLIENTS)
    yield server
    server.stop()


@pytest.fixture
def env(tmp_path: Path, dot: RealServer) -> dict[str, str]:
    environment = http_environment(tmp_path, dot.url + "/o/token/", tmp_path / "cache")
    environment.update(TRULIOO_CLIENT_ID=CLIENT[0], TRULIOO_CLIENT_SECRET=CLIENT[1], TRULIOO_SCOPE="read")
    return environment


def call(
    dot: RealServer, env: dict[str, str], path: str = "/api/items", *extra: str
) -> subprocess.CompletedProcess[str]:
    return run_http(["-b", "--auth-type=trulioo", *extra, dot.url + path], env)


@pytest.mark.parametrize("method", METHODS)
def test_either_client_authentication_gets_a_token_that_is_reused(
    dot: RealServer, env: dict[str, str], method: str
) -> None:
    env["TRULIOO_AUTH_METHOD"] = method
    before = dot.token_requests()
    first, second = call(dot, env), call(dot, env)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert json.loads(second.stdout) == {"path": "/api/items", "client_id": CLIENT[0], "scope": "read"}
    assert dot.token_requests() - before == 1
    (entry,) = json.loads(command(["status", "--json"], env).stdout)["tokens"]
    assert (entry["scope"], entry["granted_scope"]) == ("read", "read")


@pytest.mark.parametrize("method", METHODS)
def test_a_client_with_no_scopes_works_with_an_empty_scope(
    dot: RealServer, env: dict[str, str], method: str
) -> None:
    env.update(TRULIOO_CLIENT_ID=NO_SCOPES[0], TRULIOO_CLIENT_SECRET=NO_SCOPES[1], TRULIOO_AUTH_METHOD=method)
    del env["TRULIOO_SCOPE"]
    assert error_line(call(dot, env), env) == (
        "http: error: TokenRequestFailed: the token endpoint answered 400 invalid_scope: check "
        "TRULIOO_SCOPE: this client may not be allowed the scope asked for (an empty TRULIOO_SCOPE asks "
        "for none)."
    )
    env["TRULIOO_SCOPE"] = ""
    result = call(dot, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["scope"] == ""
    (entry,) = json.loads(command(["status", "--json"], env).stdout)["tokens"]
    assert (entry["scope"], entry["granted_scope"]) == ("", "")


POSTED = (
    "in the form (client_secret_post); if the server wants HTTP Basic, set "
    "TRULIOO_AUTH_METHOD=client_secret_basic."
)
BASIC = (
    "as HTTP Basic (client_secret_basic){}; if the server wants them in the form, set "
    "TRULIOO_AUTH_METHOD=client_secret_post."
)


@pytest.mark.parametrize(
    ("method", "credentials", "sent"),
    [
        ("client_secret_post", (CLIENT[0], "wrong-secret"), POSTED),
        ("client_secret_post", ("no-such-client", CLIENT[1]), POSTED),
        ("client_secret_basic", (CLIENT[0], "wrong-secret"), BASIC.format("")),
        # Form-encoding changes this secret: refused so, it was sent once more as it is.
        (
            "client_secret_basic",
            ("no-such-client", CLIENT[1]),
            BASIC.format(" form-encoded as RFC 6749 section 2.3.1 asks, then as they are"),
        ),
    ],
)
def test_wrong_secret_or_unknown_client_is_one_line_naming_the_method(
    dot: RealServer, env: dict[str, str], method: str, sent: str, credentials: tuple[str, str]
) -> None:
    env.update(
        TRULIOO_CLIENT_ID=credentials[0], TRULIOO_CLIENT_SECRET=credentials[1], TRULIOO_AUTH_METHOD=method
    )
    result = call(dot, env)
    assert error_line(result, env) == (
        "http: error: TokenRequestFailed: the token endpoint answered 401 invalid_client: check the client "
        f"id and secret, sent {sent}"
    )
    assert credentials[1] not in result.stderr


def test_a_scope_the_client_may_not_have_is_one_line(dot: RealServer, env: dict[str, str]) -> None:
    env["TRULIOO_SCOPE"] = "admin"
    assert error_line(call(dot, env), env) == (
        "http: error: TokenRequestFailed: the token endpoint answered 400 invalid_scope: check "
        "TRULIOO_SCOPE: this client may not be allowed the scope asked for (an empty TRULIOO_SCOPE asks "
        "for none)."
    )


def test_a_resource_limits_the_token_to_that_api(dot: RealServer, env: dict[str, str]) -> None:
    env["TRULIOO_RESOURCE"] = dot.url + "/api/items"
    assert call(dot, env).returncode == 0
    before = dot.token_requests()
    # DOT checks the token's resource against the URL: elsewhere it is refused, and the plugin
    # asks for one more token (the cached one may have been revoked), and shows the 401.
    elsewhere = call(dot, env, "/api/orders", "--print=h")
    assert elsewhere.stdout.startswith("HTTP/1.0 401 Unauthorized")
    assert 'error_description="The access token is not valid for this resource."' in elsewhere.stdout
    assert dot.token_requests() - before == 1
    (entry,) = json.loads(command(["status", "--json"], env).stdout)["tokens"]
    assert entry["resource"] == dot.url + "/api/items"


def test_a_resource_the_server_refuses_is_its_own_reason_and_a_hint(
    dot: RealServer, env: dict[str, str]
) -> None:
    env["TRULIOO_RESOURCE"] = "urn:example:api"
    assert error_line(call(dot, env), env) == (
        "http: error: TokenRequestFailed: the token endpoint answered 400 invalid_target (The resource "
        "'urn:example:api' is not a valid resource indicator: it must be an absolute URI with a scheme and "
        "host.): check TRULIOO_RESOURCE: this server does not accept it for this client."
    )


def test_a_short_lived_token_is_refreshed_before_it_expires(dot: RealServer, tmp_path: Path) -> None:
    # The plugin's clock is moved by hand; the server's is the real one and hardly moves.
    now = [1_800_000_000.0]
    options = {
        "token_url": dot.url + "/o/token/",
        "scope": "read",
        "cache_dir": str(tmp_path / "cache"),
        "environ": {},
        "clock": lambda: now[0],
    }
    before = dot.token_requests()
    first = TruliooAuth(*SHORT_LIVED, **options).token()  # type: ignore[arg-type]
    assert first.expires_at == now[0] + SHORT_LIFETIME
    now[0] += SHORT_LIFETIME / 2 - 0.5
    assert TruliooAuth(*SHORT_LIVED, **options).token() == first  # type: ignore[arg-type]
    now[0] += 1  # past the margin (half the lifetime), well before the server's expiry
    second = TruliooAuth(*SHORT_LIVED, **options).token()  # type: ignore[arg-type]
    assert second.access_token != first.access_token
    assert dot.token_requests() - before == 2
    # The first token was still good at the server when it was replaced: replaced before expiry.
    for token in (first, second):
        answer = requests.get(
            dot.url + "/api/items", headers={"Authorization": f"Bearer {token.access_token}"}, timeout=10
        )
        assert answer.status_code == 200


def revoke(dot: RealServer, env: dict[str, str]) -> str:
    token = command(["token"], env).stdout.strip()
    answer = requests.post(
        dot.url + "/o/revoke_token/",
        data={"token": token, "client_id": CLIENT[0], "client_secret": CLIENT[1]},
        timeout=10,
    )
    assert answer.status_code == 200
    return token


def test_a_revoked_token_is_replaced_and_the_request_sent_once_more(
    dot: RealServer, env: dict[str, str]
) -> None:
    assert call(dot, env).returncode == 0
    revoke(dot, env)
    before = dot.token_requests()
    env["TRULIOO_LOG"] = "info"
    result = run_http(["-b", "--auth-type=trulioo", "POST", dot.url + "/api/items", "name=Ada"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["path"] == "/api/items"
    assert dot.token_requests() - before == 1
    log = result.stderr.splitlines()
    context = f"[client {env['TRULIOO_CLIENT_ID']} @ {env['TRULIOO_TOKEN_URL']}]"
    (resent,) = [line for line in log if "(401)" in line]
    assert re.fullmatch(
        rf"httpie-trulioo: {re.escape(context)} token …\w{{6}} was refused \(401\); got a new one "
        r"\(…\w{6}\) and resent POST /api/items",
        resent,
    )


def test_an_api_that_answers_403_to_a_revoked_token_needs_a_clear(
    dot: RealServer, env: dict[str, str]
) -> None:
    # DOT's stock protected view answers 403, not 401: the plugin cannot tell a revoked token
    # from a forbidden action, so it does not retry, as the README says; clear is the way out.
    assert call(dot, env, "/stock-api/items").returncode == 0
    revoke(dot, env)
    before = dot.token_requests()
    refused = call(dot, env, "/stock-api/items", "--print=h")
    assert refused.stdout.startswith("HTTP/1.0 403 Forbidden")
    assert dot.token_requests() == before
    assert command(["clear", "--client-id", CLIENT[0]], env).returncode == 0
    assert call(dot, env, "/stock-api/items").returncode == 0
    assert dot.token_requests() - before == 1


def test_sixteen_parallel_cold_calls_make_one_token_request(dot: RealServer, env: dict[str, str]) -> None:
    before = dot.token_requests()
    processes = [
        subprocess.Popen(
            [find_http(), "--ignore-stdin", "-b", "--auth-type=trulioo", dot.url + "/api/items"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        for _ in range(16)
    ]
    outcomes = []
    for process in processes:
        assert process.stderr is not None
        outcomes.append((process.wait(timeout=300), process.stderr.read()))
        process.stderr.close()
    assert outcomes == [(0, b"")] * 16
    assert dot.token_requests() - before == 1
