"""The HTTPie plugin (``__init__.py``): get_auth for each form of --auth, HTTPie run in-process, the exports.

HTTPie runs in this process (``httpie.core.main`` with an ``Environment`` of its own), so the
plugin it loads is the package under test; the token endpoint is the fake Trulioo on 127.0.0.1,
and the variables are this process's, set for each test.
"""

from __future__ import annotations

import getpass
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpie.cli.definition
import pytest
import requests
from fake_trulioo import RunningServer
from harness import as_current_httpie
from helpers import CLIENT_ID, CLIENT_SECRET, refusing_port, token_form
from httpie.context import Environment
from httpie.core import main as httpie_main

import httpie_trulioo
from httpie_trulioo import TruliooAuthPlugin, secret_sources
from httpie_trulioo import auth as auth_module
from httpie_trulioo import errors as errors_module
from httpie_trulioo.errors import ConfigurationError, InsecureTokenURL

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
Http = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def _plugin_logging() -> Iterator[None]:
    """get_auth sends the package's log to stderr, as the plugin must; undo it for the other tests."""
    logger = logging.getLogger("httpie_trulioo")
    handlers, propagate, level = list(logger.handlers), logger.propagate, logger.level
    yield
    logger.handlers[:] = handlers
    logger.propagate, logger.level = propagate, level


@pytest.fixture
def plugin_env(server: RunningServer, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's variables as an http call would have them: the fake's token URL, no proxies.

    HTTPie's parser keeps the arguments it parsed last (the plugin reads them): none, to begin with.
    """
    for name in list(os.environ):
        if name.startswith("TRULIOO_") or name.upper() in PROXY_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRULIOO_TOKEN_URL", server.token_url)
    monkeypatch.setenv("TRULIOO_CACHE_DIR", str(cache_dir))
    monkeypatch.setattr(httpie.cli.definition.parser, "args", None)


@pytest.fixture
def http(plugin_env: None, tmp_path: Path) -> Http:
    """Run ``http ARGS...`` in this process; its exit status, stdout and stderr."""
    config = tmp_path / "httpie-config"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"disable_update_warnings": True}))

    def run(*args: str) -> tuple[int, str, str]:
        stdout, stderr = io.BytesIO(), io.StringIO()
        env = Environment(
            config_dir=config,
            stdin=None,
            stdin_isatty=False,
            stdout=stdout,
            stdout_isatty=False,
            stderr=stderr,
            stderr_isatty=False,
        )
        status = httpie_main(["http", "--ignore-stdin", *args], env=env)
        return int(status), stdout.getvalue().decode(), as_current_httpie(stderr.getvalue())

    return run


def profiles_file(tmp_path: Path, server: RunningServer) -> Path:
    """Profile p: the demo client at the fake, its secret in the variable P_SECRET."""
    path = tmp_path / "config.toml"
    path.write_text(
        f'[profiles.p]\nclient_id = "{CLIENT_ID}"\ntoken_url = "{server.token_url}"\n'
        'secret_env = "P_SECRET"\n'
    )
    path.chmod(0o600)
    return path


def get(server: RunningServer, auth: requests.auth.AuthBase) -> requests.Response:
    return requests.get(server.url + "/wfs/interpreter-v2/flow/F1", auth=auth, timeout=10)


# get_auth, for each form of --auth


def test_auth_id_and_secret_fetch_a_token_for_that_client(server: RunningServer, plugin_env: None) -> None:
    plugin = TruliooAuthPlugin()
    assert get(server, plugin.get_auth(CLIENT_ID, CLIENT_SECRET)).status_code == 200
    assert server.fake.token_forms == [token_form()]
    assert plugin.raw_auth == CLIENT_ID  # what HTTPie writes to a --session file


@pytest.mark.parametrize("password", [None, ""])  # --auth=ID, --auth=ID:
def test_auth_id_alone_takes_the_secret_from_the_environment(
    server: RunningServer, plugin_env: None, monkeypatch: pytest.MonkeyPatch, password: str | None
) -> None:
    monkeypatch.setenv("TRULIOO_CLIENT_SECRET", CLIENT_SECRET)
    plugin = TruliooAuthPlugin()
    assert get(server, plugin.get_auth(CLIENT_ID, password)).status_code == 200
    assert server.fake.token_forms == [token_form()]
    assert plugin.raw_auth == CLIENT_ID


def test_auth_at_name_chooses_that_profile_over_the_variables(
    server: RunningServer, plugin_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRULIOO_CONFIG_FILE", str(profiles_file(tmp_path, server)))
    monkeypatch.setenv("P_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("TRULIOO_CLIENT_ID", "someone-else")
    plugin = TruliooAuthPlugin()
    auth = plugin.get_auth("@p", None)
    assert get(server, auth).status_code == 200
    assert server.fake.token_forms == [token_form()]
    assert (auth.describe()["profile"], plugin.raw_auth) == ("p", "@p")


def test_no_auth_takes_the_client_from_the_environment(
    server: RunningServer, plugin_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRULIOO_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("TRULIOO_CLIENT_SECRET", CLIENT_SECRET)
    plugin = TruliooAuthPlugin()
    assert get(server, plugin.get_auth()).status_code == 200
    assert server.fake.token_forms == [token_form()]
    assert plugin.raw_auth == ""


@pytest.mark.parametrize(
    ("username", "token_url", "error", "message"),
    [
        (
            CLIENT_ID,
            "http://auth.example.com/connect/token",
            InsecureTokenURL,
            (
                "refusing to send the client secret over plain http to auth.example.com: use an https:// "
                "token URL (plain http is allowed only for 127.0.0.1, ::1 and localhost)."
            ),
        ),
        ("@", None, ConfigurationError, "the profile name is empty: write -a @NAME or --profile NAME."),
    ],
)
def test_get_auth_never_raises_the_request_does(
    server: RunningServer,
    plugin_env: None,
    monkeypatch: pytest.MonkeyPatch,
    *,
    username: str,
    token_url: str | None,
    error: type[Exception],
    message: str,
) -> None:
    """HTTPie calls get_auth while it parses arguments, where an error would show as a traceback."""
    if token_url:
        monkeypatch.setenv("TRULIOO_TOKEN_URL", token_url)
    auth = TruliooAuthPlugin().get_auth(username, CLIENT_SECRET)
    with pytest.raises(error) as caught:
        get(server, auth)
    assert str(caught.value) == message
    assert server.fake.token_requests == 0


def test_a_secret_no_source_has_is_asked_for_on_the_terminal(
    server: RunningServer, plugin_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []

    def person(prompt: str) -> str:
        prompts.append(prompt)
        return CLIENT_SECRET

    monkeypatch.setattr(secret_sources, "can_prompt", lambda: True)
    monkeypatch.setattr(getpass, "getpass", person)
    assert get(server, TruliooAuthPlugin().get_auth(CLIENT_ID, None)).status_code == 200
    assert prompts == [f"client secret for {CLIENT_ID} at {server.token_url}: "]
    assert server.fake.token_forms == [token_form()]


@pytest.mark.parametrize("argv", [["http", "--offline"], ["http"]])
def test_without_parsed_arguments_offline_is_read_from_the_command_line(
    server: RunningServer, plugin_env: None, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.delitem(sys.modules, "httpie.cli.definition")  # HTTPie's parser never ran
    monkeypatch.setattr(sys, "argv", [*argv, "-A", "trulioo", server.url + "/x"])
    auth = TruliooAuthPlugin().get_auth(CLIENT_ID, CLIENT_SECRET)
    prepared = auth(requests.Request("GET", server.url + "/x").prepare())
    if "--offline" in argv:
        assert prepared.headers["Authorization"] == "Bearer <token-not-fetched-offline>"
        assert server.fake.token_requests == 0
    else:
        assert prepared.headers["Authorization"] == f"Bearer {auth.token().access_token}"
        assert server.fake.token_requests == 1


# HTTPie in this process


def test_offline_preview_shows_the_cached_token_or_a_placeholder(server: RunningServer, http: Http) -> None:
    command = [
        "--offline",
        "-A",
        "trulioo",
        "-a",
        f"{CLIENT_ID}:{CLIENT_SECRET}",
        "https://api.trulioo.com/x",
    ]
    status, output, _ = http(*command)
    assert status == 0
    assert "Authorization: Bearer <token-not-fetched-offline>" in output.splitlines()
    assert server.fake.token_requests == 0
    token = TruliooAuthPlugin().get_auth(CLIENT_ID, CLIENT_SECRET).token().access_token
    status, output, _ = http(*command)
    assert status == 0
    assert f"Authorization: Bearer {token}" in output.splitlines()
    assert server.fake.token_requests == 1


def test_plain_http_through_the_proxy_option_is_refused(server: RunningServer, http: Http) -> None:
    with refusing_port() as port:
        status, output, errors = http(
            f"--proxy=http:http://127.0.0.1:{port}",
            "-A",
            "trulioo",
            "-a",
            f"{CLIENT_ID}:{CLIENT_SECRET}",
            server.url + "/x",
        )
    assert (status, output) == (1, "")
    assert errors.strip() == (
        "http: error: InsecureAPIURL: refusing to send the Trulioo token over plain http to 127.0.0.1 "
        "through a proxy (HTTP_PROXY, ALL_PROXY or --proxy): add 127.0.0.1 to NO_PROXY, or use https://."
    )
    assert (server.fake.token_requests, server.fake.api_requests) == (0, 0)


def test_a_session_keeps_the_client_id_never_the_secret(http: Http, tmp_path: Path) -> None:
    session = tmp_path / "qa.json"
    auth = f"{CLIENT_ID}:{CLIENT_SECRET}"
    status, _, _ = http(
        "--offline", f"--session={session}", "-A", "trulioo", "-a", auth, "https://api.trulioo.com/x"
    )
    assert status == 0
    assert json.loads(session.read_text())["auth"] == {"type": "trulioo", "raw_auth": CLIENT_ID}
    assert CLIENT_SECRET not in session.read_text()


# The package's exports


def test_the_auth_and_the_errors_are_exported_by_name() -> None:
    assert httpie_trulioo.TruliooAuth is auth_module.TruliooAuth
    assert httpie_trulioo.TruliooAuthPlugin is TruliooAuthPlugin
    errors = sorted(set(httpie_trulioo.__all__) - {"TruliooAuth", "TruliooAuthPlugin", "__version__"})
    assert {name: getattr(httpie_trulioo, name) for name in errors} == {
        name: getattr(errors_module, name) for name in errors
    }
    assert all(issubclass(getattr(httpie_trulioo, name), httpie_trulioo.TruliooError) for name in errors)


@pytest.mark.parametrize("name", ["NotAnExport", "fetch_token"])
def test_other_names_are_not_attributes(name: str) -> None:
    with pytest.raises(AttributeError) as caught:
        getattr(httpie_trulioo, name)
    assert str(caught.value) == f"module 'httpie_trulioo' has no attribute {name!r}"


def test_importing_the_plugin_loads_neither_the_auth_nor_the_errors() -> None:
    """HTTPie imports every installed plugin on every call: this one costs a call only what it uses."""
    code = "import sys, httpie_trulioo; print(sorted(m for m in sys.modules if 'trulioo' in m))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "['httpie_trulioo']"
