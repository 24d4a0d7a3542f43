"""The plugin against node's oidc-provider (OpenID Certified), with JWT access tokens for a resource.

tests/servers/oidc/server.js runs the provider and an API that checks the JWT's signature,
issuer, audience and type, on 127.0.0.1, once per session. It needs node and the packages of
its lockfile (``npm ci --prefix tests/servers/oidc``, which .ci/run does when npm is there);
without them these tests are skipped and say why.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from harness import http_environment
from helpers import run_http
from real_servers import SERVERS, RealServer, command, error_line, start_oidc_provider

pytestmark = pytest.mark.e2e

# As tests/servers/oidc/server.js registers them.
BASIC_CLIENT = (
    "oidc-basic",
    "oidc-basic-secret:with colon",
)  # token_endpoint_auth_method client_secret_basic
POST_CLIENT = ("oidc-post", "oidc-post-secret")  # client_secret_post
SCOPE = "api:read"


@pytest.fixture(scope="session")
def oidc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed, so oidc-provider cannot run")
    if not (SERVERS / "oidc" / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("oidc-provider is not installed: run npm ci --prefix tests/servers/oidc")
    server = start_oidc_provider(tmp_path_factory.mktemp("oidc"))
    yield server
    server.stop()


@pytest.fixture
def env(tmp_path: Path, oidc: RealServer) -> dict[str, str]:
    environment = http_environment(tmp_path, oidc.url + "/token", tmp_path / "cache")
    environment.update(
        TRULIOO_CLIENT_ID=BASIC_CLIENT[0],
        TRULIOO_CLIENT_SECRET=BASIC_CLIENT[1],
        TRULIOO_AUTH_METHOD="client_secret_basic",
        TRULIOO_SCOPE=SCOPE,
        TRULIOO_RESOURCE=oidc.url + "/api",
    )
    return environment


def call(oidc: RealServer, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return run_http(["-b", "--auth-type=trulioo", *extra, oidc.url + "/api/items"], env)


@pytest.mark.parametrize(
    ("client", "method"), [(BASIC_CLIENT, "client_secret_basic"), (POST_CLIENT, "client_secret_post")]
)
def test_a_jwt_for_the_resource_is_fetched_once_and_accepted(
    oidc: RealServer, env: dict[str, str], client: tuple[str, str], method: str
) -> None:
    env.update(TRULIOO_CLIENT_ID=client[0], TRULIOO_CLIENT_SECRET=client[1], TRULIOO_AUTH_METHOD=method)
    before = oidc.token_requests()
    first, second = call(oidc, env), call(oidc, env)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert json.loads(second.stdout) == {"path": "/api/items", "client_id": client[0], "scope": SCOPE}
    assert oidc.token_requests() - before == 1
    (entry,) = json.loads(command(["status", "--json", "--claims"], env).stdout)["tokens"]
    assert (entry["granted_scope"], entry["resource"]) == (SCOPE, oidc.url + "/api")
    assert entry["claims"]["aud"] == oidc.url + "/api"
    assert 590 <= entry["expires_in"] <= 600  # the JWT's exp and expires_in agree on 600 s


def test_the_scope_granted_is_shown_when_it_is_not_the_one_asked_for(
    oidc: RealServer, env: dict[str, str]
) -> None:
    env["TRULIOO_SCOPE"] = f"{SCOPE} workflow.studio.api"  # the resource has only the first
    assert call(oidc, env).returncode == 0
    details = json.loads(command(["token", "--json"], env).stdout)
    assert (details["scope"], details["granted_scope"]) == (f"{SCOPE} workflow.studio.api", SCOPE)
    status = command(["status"], env).stdout
    # The variables' block: the scope asked for, the resource, and the scope the server granted.
    assert f"\n  scope      {SCOPE} workflow.studio.api\n  resource   {oidc.url}/api\n" in status
    assert f"\n  granted    {SCOPE}\n" in status


def test_without_a_resource_the_token_is_opaque_and_the_api_refuses_it(
    oidc: RealServer, env: dict[str, str]
) -> None:
    del env["TRULIOO_RESOURCE"]
    before = oidc.token_requests()
    result = call(oidc, env, "--print=h")
    assert result.returncode == 0, result.stderr  # http shows the answer; --check-status would fail
    assert result.stdout.startswith("HTTP/1.1 401 Unauthorized")
    assert oidc.token_requests() - before == 1  # a token fetched for this call is not retried
    token = command(["token"], env).stdout.strip()
    assert token.count(".") != 2  # opaque: not a JWT


def test_a_revoked_token_is_replaced_and_the_request_sent_once_more(
    oidc: RealServer, env: dict[str, str]
) -> None:
    assert call(oidc, env).returncode == 0
    assert requests.post(oidc.url + "/_revoke", timeout=10).status_code == 200
    before = oidc.token_requests()
    result = run_http(["-b", "--auth-type=trulioo", "POST", oidc.url + "/api/items", "name=Ada"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["client_id"] == BASIC_CLIENT[0]
    assert oidc.token_requests() - before == 1


@pytest.mark.parametrize(
    ("method", "sent"),
    [
        ("client_secret_basic", ("as HTTP Basic (client_secret_basic); if the server wants them in the "
         "form, set TRULIOO_AUTH_METHOD=client_secret_post.")),
        ("client_secret_post", ("in the form (client_secret_post); if the server wants HTTP Basic, "
         "set TRULIOO_AUTH_METHOD=client_secret_basic.")),
    ],
)  # fmt: skip
def test_a_wrong_secret_is_one_line_naming_the_method(
    oidc: RealServer, env: dict[str, str], method: str, sent: str
) -> None:
    env.update(TRULIOO_CLIENT_SECRET="wrong-secret", TRULIOO_AUTH_METHOD=method)
    result = call(oidc, env)
    assert error_line(result, env) == (
        "http: error: TokenRequestFailed: the token endpoint answered 401 invalid_client (client "
        f"authentication failed): check the client id and secret, sent {sent}"
    )
    assert "wrong-secret" not in result.stderr


def test_a_resource_the_server_does_not_know_is_its_own_reason_and_a_hint(
    oidc: RealServer, env: dict[str, str]
) -> None:
    env["TRULIOO_RESOURCE"] = "urn:example:other-api"
    assert error_line(call(oidc, env), env) == (
        "http: error: TokenRequestFailed: the token endpoint answered 400 invalid_target (unknown resource "
        "urn:example:other-api): check TRULIOO_RESOURCE: this server does not accept it for this client."
    )
