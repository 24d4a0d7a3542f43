"""Attacks the plugin must refuse, and a sweep of every error path for leaked secrets or tokens."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
from pathlib import Path
from urllib.parse import quote_plus, urlencode

import pytest
import requests
from fake_trulioo import FakeTrulioo, RunningServer
from harness import find_http
from helpers import CLIENT_ID, run_http

from httpie_trulioo import TruliooAuth, TruliooError

pytestmark = pytest.mark.e2e

SECRET = "S3CRET-recognisable-7d1e:c0ffee"
# The secret as it goes on the wire: form-encoded, and inside the HTTP Basic credentials.
ENCODED_SECRET = quote_plus(SECRET, safe="")
BASIC_CREDENTIALS = base64.b64encode(f"{CLIENT_ID}:{ENCODED_SECRET}".encode()).decode()


@pytest.fixture
def fake() -> FakeTrulioo:
    return FakeTrulioo(clients={CLIENT_ID: SECRET})


def auth_call(server: RunningServer, env: dict[str, str], *extra: str, secret: str = SECRET) -> list[str]:
    return ["-b", "-A", "trulioo", "-a", f"{CLIENT_ID}:{secret}", *extra, server.url + "/x"]


def test_redirect_from_the_token_endpoint_is_not_followed(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    with RunningServer(FakeTrulioo(clients={CLIENT_ID: SECRET})) as elsewhere:
        # 307 asks the client to repeat the POST, secret and all, at another address.
        server.fake.token_override = lambda: (307, {"Location": elsewhere.token_url}, b"")  # type: ignore[assignment]
        result = run_http(auth_call(server, http_env), http_env)
        assert result.returncode == 1
        assert (
            "TokenRequestFailed: the token endpoint answered 307, a redirect; it is not followed"
            in result.stderr
        )
        assert elsewhere.fake.token_requests == 0
        assert elsewhere.fake.token_forms == []


def test_plain_http_to_another_host_sends_nothing(server: RunningServer, http_env: dict[str, str]) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)  # http has ended: a connection it made would be queued by now
        port = listener.getsockname()[1]
        # Not loopback by name, so refused before any connection; the listener proves none came.
        http_env["TRULIOO_TOKEN_URL"] = f"http://auth-api.trulioo.com:{port}/connect/token"
        result = run_http(auth_call(server, http_env), http_env)
        assert "InsecureTokenURL: refusing to send the client secret over plain http" in result.stderr
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_wrong_secret_with_a_warm_cache_does_not_get_the_cached_token(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    assert run_http(auth_call(server, http_env), http_env).returncode == 0
    result = run_http(auth_call(server, http_env, secret="guess"), http_env)
    assert result.returncode == 1
    assert "invalid_client" in result.stderr
    assert server.fake.api_requests == 1  # the guess never reached the API with a token
    assert server.fake.token_forms[-1]["client_secret"] == "guess"


@pytest.mark.parametrize(
    ("method", "authorization"),
    [("client_secret_post", ""), ("client_secret_basic", f"Basic {BASIC_CREDENTIALS}")],
)
def test_netrc_credentials_are_not_added_to_the_token_request(
    server: RunningServer, http_env: dict[str, str], method: str, authorization: str
) -> None:
    home = Path(http_env["HOME"])
    home.mkdir(parents=True, exist_ok=True)
    netrc = home / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-password\n")
    netrc.chmod(0o600)
    http_env["TRULIOO_AUTH_METHOD"] = method
    assert run_http(auth_call(server, http_env), http_env).returncode == 0
    assert server.fake.token_authorizations == [authorization]


# --- the sweep: every error path, looking for the secret and the tokens -------------------------------


def echo(status: int, body: str) -> object:
    return lambda: (status, {"Content-Type": "text/html"}, body.encode())


ERROR_PATHS = {
    "wrong secret": ({}, None, "wrong-" + SECRET),
    "secret echoed in error_description": (
        {},
        lambda: (
            400,
            {},
            json.dumps({"error": "invalid_client", "error_description": f"got {SECRET}"}).encode(),
        ),
        SECRET,
    ),
    "500 page quoting the secret": ({}, echo(500, f"<pre>client_secret={SECRET}</pre>"), SECRET),
    "200 html quoting the secret": ({}, echo(200, f"<html>{SECRET}</html>"), SECRET),
    "200 without a token": ({}, lambda: (200, {}, json.dumps({"echo": SECRET}).encode()), SECRET),
    "bad token type": (
        {},
        lambda: (200, {}, json.dumps({"Token": "abc", "TokenType": SECRET}).encode()),
        SECRET,
    ),
    "insecure url": ({"TRULIOO_TOKEN_URL": "http://auth.example.com/connect/token"}, None, SECRET),
    "bad setting": ({"TRULIOO_TOKEN_BUFFER": "soon"}, None, SECRET),
    "timeout": ({"TRULIOO_TIMEOUT": "1"}, "slow", SECRET),
    "refused": ({"TRULIOO_TOKEN_URL": "http://127.0.0.1:9/connect/token"}, None, SECRET),
    "wrong secret over HTTP Basic": ({"TRULIOO_AUTH_METHOD": "client_secret_basic"}, None, "wrong-" + SECRET),
    "HTTP Basic credentials echoed": (
        {"TRULIOO_AUTH_METHOD": "client_secret_basic"},
        lambda: (
            400,
            {},
            json.dumps(
                {
                    "error": "invalid_client",
                    "error_description": f"got Basic {BASIC_CREDENTIALS}, {ENCODED_SECRET}",
                }
            ).encode(),
        ),
        SECRET,
    ),
}


def leaks(text: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret and secret in text]


@pytest.mark.parametrize("name", sorted(ERROR_PATHS))
def test_no_error_path_shows_the_secret(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path, name: str
) -> None:
    settings, override, secret = ERROR_PATHS[name]
    http_env.update(settings, TRULIOO_LOG="debug")
    if override == "slow":
        server.fake.token_delay = 60  # far past the timeout, however busy the machine
    elif override is not None:
        server.fake.token_override = override  # type: ignore[assignment]
    result = run_http(auth_call(server, http_env, "--session=sweep", secret=secret), http_env)
    assert result.returncode == 1
    assert leaks(result.stdout + result.stderr, [SECRET, secret, ENCODED_SECRET, BASIC_CREDENTIALS]) == []
    # The same failure through the Python API: the exception's message and repr.
    environ = {key: value for key, value in http_env.items() if key.startswith("TRULIOO_")}
    auth = TruliooAuth(CLIENT_ID, secret, environ=environ)
    with pytest.raises(TruliooError) as caught:
        auth(requests.Request("GET", server.url + "/x").prepare())
    assert (
        leaks(str(caught.value) + repr(caught.value), [SECRET, secret, ENCODED_SECRET, BASIC_CREDENTIALS])
        == []
    )
    assert leaks(files_text(tmp_path), [SECRET, secret, ENCODED_SECRET, BASIC_CREDENTIALS]) == []


def files_text(folder: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in folder.rglob("*") if path.is_file())


def test_working_paths_keep_tokens_in_their_own_cache_file_only(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path, cache_dir: Path
) -> None:
    http_env["TRULIOO_LOG"] = "debug"
    outputs = []
    # Fetch, reuse, 401 and refresh, a stream that cannot be resent, offline, the command.
    outputs.append(run_http(auth_call(server, http_env, "--session=sweep"), http_env))
    outputs.append(run_http(auth_call(server, http_env, "--session=sweep"), http_env))
    server.fake.revoke_all()
    outputs.append(run_http(auth_call(server, http_env, "--session=sweep"), http_env))
    server.fake.revoke_all()
    outputs.append(run_http(auth_call(server, http_env, "--chunked"), http_env))
    outputs.append(run_http(auth_call(server, http_env, "--offline", "--print=b"), http_env))
    server.fake.revoke_all()
    server.fake.lifetime = 0
    outputs.append(run_http(auth_call(server, http_env), http_env))  # 401, refresh, 401 shown as is
    for args in (
        ["status"],
        ["status", "--claims"],
        ["status", "--json", "--claims"],
        ["clear", "--client-id", "x"],
    ):
        outputs.append(
            subprocess.run(
                [find_http("httpie-trulioo"), *args],
                env={**http_env, "TRULIOO_CLIENT_ID": CLIENT_ID, "TRULIOO_CLIENT_SECRET": SECRET},
                capture_output=True,
                text=True,
                check=False,
            )
        )
    tokens = list(server.fake.issued)
    assert len(tokens) == 4
    for result in outputs:
        assert leaks(result.stdout + result.stderr, [SECRET, *tokens]) == []
    sessions = tmp_path / "httpie-config" / "sessions"
    assert list(sessions.rglob("*.json"))
    assert leaks(files_text(sessions), [SECRET, *tokens]) == []
    for path in cache_dir.iterdir():
        text = path.read_text()
        assert SECRET not in text
        found = leaks(text, tokens)
        if path.suffix == ".json":
            assert found == [json.loads(text)["token"]]
        else:
            assert found == []


# --- a server that echoes the secret, in whatever form -------------------------------------------

# Each secret starts with a marker that survives every encoding a server could echo it in (form
# and URL encoding, JSON and Python escapes keep letters as they are), so finding the marker in
# any output is finding the secret, or enough of it to matter.
MARKER = "S3cretMark"
ODD_SECRETS = {
    "newline": f"{MARKER}-line\nbreak",
    "tab": f"{MARKER}-tab\there",
    "backslash": f"{MARKER}-back\\slash",
    "quotes": f"{MARKER}-q'u\"ote",
    "non-ascii": f"{MARKER}-\u00fcn\u00efcode",
}


def _json_answer(status: int, document: dict[str, object]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(document).encode()


ECHOES = {
    "raw description": lambda form: _json_answer(
        400, {"error": "invalid_client", "error_description": f"got {form['client_secret']}"}
    ),
    "cut description": lambda form: _json_answer(
        400, {"error": "invalid_client", "error_description": "x" * 185 + form["client_secret"]}
    ),
    "form-encoded body": lambda form: _json_answer(
        400, {"error": "invalid_request", "error_description": f"body was {urlencode(form)}"}
    ),
    "json-escaped": lambda form: _json_answer(
        400, {"error": "invalid_client", "error_description": json.dumps(form["client_secret"])}
    ),
    "python-escaped": lambda form: _json_answer(
        400, {"error": "invalid_client", "error_description": repr(form["client_secret"])}
    ),
    "error code": lambda form: _json_answer(400, {"error": form["client_secret"]}),
    "token type": lambda form: _json_answer(200, {"Token": "abc", "TokenType": form["client_secret"]}),
    "expires in": lambda form: _json_answer(200, {"Token": "abc", "ExpiresIn": form["client_secret"]}),
}


@pytest.mark.parametrize("echo", sorted(ECHOES))
@pytest.mark.parametrize("kind", sorted(ODD_SECRETS))
def test_an_echoed_secret_never_shows_in_any_form(
    server: RunningServer, cache_dir: Path, echo: str, kind: str
) -> None:
    secret = ODD_SECRETS[kind]
    server.fake.token_override = lambda: ECHOES[echo](server.fake.token_forms[-1])  # type: ignore[assignment]
    auth = TruliooAuth(CLIENT_ID, secret, token_url=server.token_url, cache_dir=str(cache_dir))
    with pytest.raises(TruliooError) as caught:
        auth.token()
    shown = str(caught.value) + repr(caught.value)
    assert MARKER not in shown
    assert "***" in shown  # masked where it was, not withheld whole
    assert server.fake.token_forms[-1]["client_secret"] == secret  # the echo really held it


def test_an_echoed_secret_with_a_newline_never_reaches_the_terminal(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    secret = ODD_SECRETS["newline"]
    server.fake.token_override = lambda: ECHOES["raw description"](server.fake.token_forms[-1])  # type: ignore[assignment]
    http_env.update(TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=secret, TRULIOO_LOG="debug")
    result = run_http(["-b", "-A", "trulioo", server.url + "/x"], http_env)
    assert result.returncode == 1
    assert MARKER not in result.stdout + result.stderr
    assert "invalid_client (got ***" in result.stderr
