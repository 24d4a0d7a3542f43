"""TruliooAuth through requests against the fake Trulioo on 127.0.0.1, with an injected clock."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

import pytest
import requests
from fake_trulioo import FakeTrulioo, RunningServer
from helpers import CLIENT_ID, CLIENT_SECRET, Clock, context_of, refusing_port, tls_fake, token_form
from httpie.context import Environment
from httpie.uploads import prepare_request_body
from requests_toolbelt import MultipartEncoder

from httpie_trulioo import (
    APIHostNotAllowed,
    ConfigurationError,
    InsecureAPIURL,
    InsecureTokenURL,
    InvalidTokenResponse,
    TokenEndpointUnreachable,
    TokenRequestFailed,
    TruliooAuth,
)
from httpie_trulioo import auth as auth_module
from httpie_trulioo.token import fingerprint


@pytest.fixture
def fake(clock: Clock) -> FakeTrulioo:
    """The fake Trulioo on the test's clock."""
    return FakeTrulioo(clock=clock)


def make_auth(server: RunningServer, cache_dir: Path, clock: Clock, **overrides: object) -> TruliooAuth:
    options: dict[str, object] = {
        "token_url": server.token_url,
        "cache_dir": str(cache_dir),
        "environ": {},
        "clock": clock,
    }
    options.update(overrides)
    secret = options.pop("client_secret", CLIENT_SECRET)
    return TruliooAuth(CLIENT_ID, secret, **options)  # type: ignore[arg-type]


def api(server: RunningServer, auth: TruliooAuth, method: str = "GET", **kwargs: object) -> requests.Response:
    return requests.request(
        method, server.url + "/wfs/interpreter-v2/flow/F1", auth=auth, timeout=10, **kwargs
    )  # type: ignore[arg-type]


def auth_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The lines this module (the requests auth) logged, as the user reads them."""
    return [record.getMessage() for record in caplog.records if record.module == "auth"]


def test_token_request_is_the_documented_form(server: RunningServer, cache_dir: Path, clock: Clock) -> None:
    assert api(server, make_auth(server, cache_dir, clock)).status_code == 200
    assert server.fake.token_forms == [token_form()]


def test_the_token_goes_in_one_authorization_header(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    auth = make_auth(server, cache_dir, clock)
    prepared = auth(requests.Request("GET", server.url + "/x").prepare())
    assert dict(prepared.headers.items()) == {"Authorization": f"Bearer {auth.token().access_token}"}


def test_token_method_reuses_the_cached_token_unless_asked_for_a_longer_or_a_new_one(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    server.fake.token_kind = "opaque"  # expires exactly ExpiresIn seconds after it was asked for
    auth = make_auth(server, cache_dir, clock, token_buffer=0)
    first = auth.token()
    clock.now += 3599 - 0.5  # without a buffer, reused to its last second
    assert auth.token() == first
    longer = auth.token(min_ttl=1)
    renewed = auth.token(renew=True)
    assert len({first, longer, renewed}) == 3
    assert server.fake.token_requests == 3
    assert auth.token() == renewed


def test_a_request_requests_never_prepared_is_refused(cache_dir: Path) -> None:
    auth = TruliooAuth(CLIENT_ID, CLIENT_SECRET, cache_dir=str(cache_dir), environ={})
    with pytest.raises(InsecureAPIURL) as caught:
        auth(requests.PreparedRequest())
    assert str(caught.value) == "refusing to send the Trulioo token to '': not an http(s) URL."


def test_api_hosts_argument_limits_where_the_token_goes(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    auth = make_auth(server, cache_dir, clock, api_hosts=("api.example.com",))
    with pytest.raises(APIHostNotAllowed) as caught:
        api(server, auth)
    assert str(caught.value) == (
        "refusing to send the Trulioo token to 127.0.0.1: it is not an allowed API host; "
        "TRULIOO_API_HOSTS (or the profile's api_hosts) lists them, now: api.example.com."
    )
    assert server.fake.token_requests == 0


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variable of this process, whatever their case."""
    for name in list(os.environ):
        if name.upper() in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
            monkeypatch.delenv(name)


NEVER_CONNECTED_PROXY = "http://127.0.0.1:9"  # the request is refused before any connection


@pytest.mark.parametrize("how", ["HTTP_PROXY", "ALL_PROXY", "proxies"])
def test_plain_http_that_a_proxy_would_carry_is_refused_before_any_token(
    server: RunningServer,
    cache_dir: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    *,
    no_proxies: None,
    how: str,
) -> None:
    if how == "proxies":
        auth = make_auth(server, cache_dir, clock, proxies={"http": NEVER_CONNECTED_PROXY})
    else:
        monkeypatch.setenv(how, NEVER_CONNECTED_PROXY)
        auth = make_auth(server, cache_dir, clock)
    with pytest.raises(InsecureAPIURL) as caught:
        api(server, auth)
    assert str(caught.value) == (
        "refusing to send the Trulioo token over plain http to 127.0.0.1 through a proxy "
        "(HTTP_PROXY, ALL_PROXY or --proxy): add 127.0.0.1 to NO_PROXY, or use https://."
    )
    assert server.fake.token_requests == 0


def test_no_proxy_lets_plain_http_to_loopback_through(
    server: RunningServer, cache_dir: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, no_proxies: None
) -> None:
    monkeypatch.setenv("HTTP_PROXY", NEVER_CONNECTED_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert api(server, make_auth(server, cache_dir, clock)).status_code == 200


def test_https_may_go_through_a_proxy_and_offline_sends_a_placeholder(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch, no_proxies: None
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", NEVER_CONNECTED_PROXY)
    auth = TruliooAuth(CLIENT_ID, CLIENT_SECRET, cache_dir=str(cache_dir), environ={}, offline=True)
    prepared = auth(requests.Request("GET", "https://api.trulioo.com/x").prepare())
    assert dict(prepared.headers.items()) == {"Authorization": "Bearer <token-not-fetched-offline>"}


def profiles(tmp_path: Path, server: RunningServer, cache_dir: Path, **more: str) -> dict[str, str]:
    """Variables naming a profiles file whose profile p is the demo client at the fake."""
    path = tmp_path / "config.toml"
    path.write_text(f'[profiles.p]\nclient_id = "{CLIENT_ID}"\ntoken_url = "{server.token_url}"\n')
    path.chmod(0o600)
    return {"TRULIOO_CONFIG_FILE": str(path), "TRULIOO_CACHE_DIR": str(cache_dir), **more}


def test_a_profile_chosen_by_name_beats_the_variables(
    server: RunningServer, cache_dir: Path, clock: Clock, tmp_path: Path
) -> None:
    environ = profiles(tmp_path, server, cache_dir, TRULIOO_CLIENT_ID="someone-else")
    auth = TruliooAuth(client_secret=CLIENT_SECRET, profile="p", environ=environ, clock=clock)
    assert api(server, auth).status_code == 200
    assert server.fake.token_forms == [token_form()]
    assert auth.describe()["profile"] == "p"


@pytest.mark.parametrize("passed", [True, False])
def test_only_a_secret_variable_that_overrides_the_profile_is_warned_about(
    server: RunningServer,
    cache_dir: Path,
    clock: Clock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    *,
    passed: bool,
) -> None:
    environ = profiles(tmp_path, server, cache_dir, TRULIOO_PROFILE="p", TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    auth = TruliooAuth(client_secret=CLIENT_SECRET if passed else None, environ=environ, clock=clock)
    with caplog.at_level(logging.WARNING, logger="httpie_trulioo"):
        assert api(server, auth).status_code == 200
    assert caplog.messages == (
        []
        if passed
        else [
            (
                "TRULIOO_CLIENT_SECRET overrides profile 'p' (chosen by TRULIOO_PROFILE); to use the profile "
                "as it is, choose it with -a @p (http) or --profile p (httpie-trulioo)."
            )
        ]
    )


def test_the_secret_prompt_is_asked_once_only_when_no_source_has_the_secret(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    asked: list[tuple[str, str]] = []

    def prompt(client_id: str, token_url: str) -> str:
        asked.append((client_id, token_url))
        return CLIENT_SECRET

    for _ in range(2):
        auth = make_auth(server, cache_dir, clock, client_secret=None, secret_prompt=prompt)
        assert api(server, auth).status_code == 200
    assert asked == [(CLIENT_ID, server.token_url)]
    assert server.fake.token_requests == 1


def test_the_folder_the_package_is_installed_in_stays_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = str(Path(auth_module.__file__).absolute().parent.parent)
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry != folder])
    before = list(sys.path)
    auth_module.keep_dependencies_importable()
    auth_module.keep_dependencies_importable()
    assert sys.path == [*before, folder]


@pytest.mark.parametrize(
    ("shape", "kind"), [("trulioo", "jwt"), ("oauth", "jwt"), ("trulioo", "opaque"), ("oauth", "opaque")]
)
def test_token_is_reused_across_auth_objects(
    server: RunningServer, cache_dir: Path, clock: Clock, shape: str, kind: str
) -> None:
    server.fake.shape, server.fake.token_kind = shape, kind
    for _ in range(5):
        assert api(server, make_auth(server, cache_dir, clock)).status_code == 200
    assert server.fake.token_requests == 1


def test_token_is_refreshed_a_margin_before_expiry(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    auth = make_auth(server, cache_dir, clock)
    api(server, auth)
    clock.now += 3599 - 60 - 2  # JWT exp is whole seconds: up to a second before ExpiresIn
    api(server, auth)
    assert server.fake.token_requests == 1
    clock.now += 2
    assert api(server, auth).status_code == 200
    assert server.fake.token_requests == 2


def test_short_lived_token_is_reused_for_half_its_life(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    server.fake.expires_in, server.fake.lifetime, server.fake.token_kind = 20, 20, "opaque"
    auth = make_auth(server, cache_dir, clock)
    api(server, auth)
    clock.now += 9.9
    api(server, auth)
    assert server.fake.token_requests == 1
    clock.now += 0.2
    api(server, auth)
    assert server.fake.token_requests == 2


def test_buffer_setting_moves_the_refresh(server: RunningServer, cache_dir: Path, clock: Clock) -> None:
    auth = make_auth(server, cache_dir, clock, token_buffer=600)
    api(server, auth)
    clock.now += 3599 - 599
    api(server, auth)
    assert server.fake.token_requests == 2


def test_wrong_secret_never_gets_the_cached_token(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    api(server, make_auth(server, cache_dir, clock))
    with pytest.raises(TokenRequestFailed, match="invalid_client") as caught:
        api(server, make_auth(server, cache_dir, clock, client_secret="not-the-secret"))
    assert "not-the-secret" not in str(caught.value)
    assert server.fake.token_requests == 2


def test_scope_is_part_of_the_key(server: RunningServer, cache_dir: Path, clock: Clock) -> None:
    api(server, make_auth(server, cache_dir, clock))
    api(server, make_auth(server, cache_dir, clock, scope="napi.api"))
    assert [form["scope"] for form in server.fake.token_forms] == ["workflow.studio.api", "napi.api"]


def test_revoked_token_is_replaced_and_the_request_resent(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    api_url = server.url + "/wfs/interpreter-v2/flow/F1"
    revoked = make_auth(server, cache_dir, clock).token().access_token
    server.fake.revoke_all()
    with caplog.at_level(logging.INFO, logger="httpie_trulioo"):
        response = api(server, make_auth(server, cache_dir, clock))
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert server.fake.token_requests == 2
    new = make_auth(server, cache_dir, clock).token().access_token  # the one now cached
    assert ("Authorization", f"Bearer {new}") in list(response.request.headers.items())
    said = (
        f"{context_of(server)} token …{fingerprint(revoked)} was refused (401); got a new one "
        f"(…{fingerprint(new)}) and resent GET {urlsplit(api_url).path}"
    )
    assert auth_log(caplog) == [said]
    assert api(server, make_auth(server, cache_dir, clock)).status_code == 200
    assert server.fake.token_requests == 2


def test_a_resend_after_a_401_is_one_warning_line_with_the_path_never_the_query(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Shown by default; a query can hold personal data (an e-mail address), so only the path."""
    auth = make_auth(server, cache_dir, clock)
    api(server, auth)
    server.fake.revoke_all()
    (refused,) = server.fake.issued
    with caplog.at_level(logging.WARNING, logger="httpie_trulioo"):
        response = api(server, make_auth(server, cache_dir, clock), params={"email": "alice@example.com"})
    assert response.status_code == 200
    new = next(token for token in server.fake.issued if token != refused)
    said = (
        f"{auth.provider().context} token …{fingerprint(refused)} was refused (401); got a new one "
        f"(…{fingerprint(new)}) and resent GET /wfs/interpreter-v2/flow/F1"
    )
    assert [record.getMessage() for record in caplog.records] == [said]
    assert "alice" not in caplog.text


def test_with_the_retry_off_a_401_reaches_the_caller_and_no_token_is_fetched(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    """TRULIOO_RETRY_401=off: a negative test of the API sees the 401 it asked for."""
    api(server, make_auth(server, cache_dir, clock))
    server.fake.revoke_all()
    response = api(server, make_auth(server, cache_dir, clock, environ={"TRULIOO_RETRY_401": "off"}))
    assert (response.status_code, response.history) == (401, [])
    assert server.fake.token_requests == 1
    assert api(server, make_auth(server, cache_dir, clock)).status_code == 200  # on again: retried
    assert server.fake.token_requests == 2


def test_second_401_is_shown_as_is(server: RunningServer, cache_dir: Path, clock: Clock) -> None:
    api(server, make_auth(server, cache_dir, clock))
    server.fake.revoke_all()
    server.fake.lifetime = 0  # the API now refuses every token, new ones too
    response = api(server, make_auth(server, cache_dir, clock))
    assert response.status_code == 401
    assert len(response.history) == 1
    assert server.fake.token_requests == 2


def test_401_to_a_fresh_token_is_not_retried(server: RunningServer, cache_dir: Path, clock: Clock) -> None:
    server.fake.lifetime = 0
    response = api(server, make_auth(server, cache_dir, clock))
    assert (response.status_code, response.history, server.fake.token_requests) == (401, [], 1)


def test_the_resend_trusts_what_the_first_send_trusted(
    cache_dir: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTPie's --verify (requests' verify=) holds for the resent request too."""
    with tls_fake(FakeTrulioo(clock=clock)) as (secure, ca_file):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))  # for the token endpoint
        make_auth(secure, cache_dir, clock).token()
        secure.fake.revoke_all()
        auth = make_auth(secure, cache_dir, clock)
        response = requests.get(secure.url + "/x", auth=auth, timeout=10, verify=str(ca_file))
    assert [r.status_code for r in response.history] == [401]
    assert response.status_code == 200


@pytest.fixture
def sticky_api(server: RunningServer) -> Iterator[str]:
    """An API URL on 127.0.0.1 that sets a cookie with its 401 and echoes the Cookie a good token brings.

    It takes the tokens of the fake Trulioo ``server``, as a load balancer in front of its API would.
    """
    fake = server.fake

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass

        def do_GET(self) -> None:
            if fake.check_bearer(self.headers.get("Authorization", "")):
                status, headers = 200, {"Content-Type": "application/json"}
                body = json.dumps({"cookie": self.headers.get("Cookie")}).encode()
            else:
                status, headers, body = 401, {"Set-Cookie": "route=b2; Path=/"}, b""
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as running:
        threading.Thread(target=running.serve_forever, args=(0.05,), daemon=True).start()
        yield f"http://127.0.0.1:{running.server_address[1]}/x"
        running.shutdown()


def test_a_cookie_set_with_the_401_goes_with_the_resent_request(
    server: RunningServer, sticky_api: str, cache_dir: Path, clock: Clock
) -> None:
    make_auth(server, cache_dir, clock).token()
    server.fake.revoke_all()
    response = requests.get(sticky_api, auth=make_auth(server, cache_dir, clock), timeout=10)
    assert [r.status_code for r in response.history] == [401]
    assert (response.status_code, response.json()) == (200, {"cookie": "route=b2"})


@pytest.fixture
def other(clock: Clock) -> Iterator[RunningServer]:
    """Another origin: a second fake on 127.0.0.1, which knows none of the first one's tokens."""
    with RunningServer(FakeTrulioo(clock=clock)) as running:
        yield running


def redirect(server: RunningServer, to: str, *, auth: bool = False) -> str:
    """A URL of ``server`` that answers 307 to ``to`` (with ``auth``: only to a good token, else 401)."""
    return f"{server.url}/_redirect?{'auth=1&' if auth else ''}to={quote(to, safe='')}"


@pytest.mark.parametrize("home", [True, False])
def test_a_redirect_after_the_resend_carries_the_new_token_to_its_origin_only(
    server: RunningServer, other: RunningServer, cache_dir: Path, clock: Clock, *, home: bool
) -> None:
    api(server, make_auth(server, cache_dir, clock))
    server.fake.revoke_all()
    target = (server if home else other).url + "/done"
    response = requests.get(
        redirect(server, target, auth=True), auth=make_auth(server, cache_dir, clock), timeout=10
    )
    new = make_auth(server, cache_dir, clock).token().access_token
    assert (response.url, server.fake.token_requests) == (target, 2)
    if home:
        assert response.status_code == 200
        assert ("Authorization", f"Bearer {new}") in list(response.request.headers.items())
    else:
        assert response.status_code == 401
        assert "Authorization" not in response.request.headers


def test_a_401_from_home_to_a_request_without_the_token_brings_no_new_one(
    server: RunningServer, other: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    """Home, then away twice (the token is dropped), then home again: that 401 was not to our token."""
    api(server, make_auth(server, cache_dir, clock))
    back = server.url + "/wfs/interpreter-v2/flow/F1"
    away = redirect(server, redirect(other, redirect(other, back)))
    response = requests.get(away, auth=make_auth(server, cache_dir, clock), timeout=10)
    assert (response.status_code, response.url, len(response.history)) == (401, back, 3)
    assert "Authorization" not in response.request.headers
    assert server.fake.token_requests == 1


@pytest.mark.parametrize(
    ("location", "kept"),
    [
        ("https://127.0.0.1/b", False),
        ("http://localhost/b", False),
        ("/b", True),
        ("http://127.0.0.1:80/c", True),
    ],
)
def test_the_hook_takes_the_token_off_a_redirect_to_another_origin(
    server: RunningServer, cache_dir: Path, clock: Clock, location: str, *, kept: bool
) -> None:
    """requests itself would keep the token on an http to https upgrade of the same host."""
    assert not requests.Session().should_strip_auth("http://127.0.0.1/a", "https://127.0.0.1/b")
    prepared = make_auth(server, cache_dir, clock)(requests.Request("GET", "http://127.0.0.1/a").prepare())
    hook = prepared.hooks["response"][-1]
    moved = requests.Response()
    moved.status_code, moved.url, moved.request = 302, "http://127.0.0.1/a", prepared
    moved.headers["Location"] = location
    for _ in range(2):  # requests calls the hook once per redirect, with the header gone after the first
        assert hook(moved) is moved
        assert ("Authorization" in prepared.headers) is kept


def body_summary(response: requests.Response) -> tuple[int, str]:
    summary = response.json()
    return summary["body_length"], summary["body_sha256"]


def test_json_body_is_resent_whole(server: RunningServer, cache_dir: Path, clock: Clock) -> None:
    api(server, make_auth(server, cache_dir, clock))
    server.fake.revoke_all()
    payload = json.dumps({"fields": ["a"] * 1000}).encode()
    response = api(server, make_auth(server, cache_dir, clock), "POST", data=payload)
    assert response.history
    assert response.status_code == 200
    assert body_summary(response) == (len(payload), hashlib.sha256(payload).hexdigest())


def test_file_body_that_httpie_echoes_is_resent_whole_and_echoed_once(
    server: RunningServer, cache_dir: Path, clock: Clock, tmp_path: Path
) -> None:
    api(server, make_auth(server, cache_dir, clock))
    server.fake.revoke_all()
    upload = tmp_path / "doc.bin"
    upload.write_bytes(bytes(range(256)) * 64)
    echoed: list[bytes] = []  # what http -v shows of the body
    with upload.open("rb") as handle:
        body = prepare_request_body(Environment(), handle, echoed.append)
        response = api(server, make_auth(server, cache_dir, clock), "POST", data=body)
    assert [r.status_code for r in response.history] == [401]
    assert body_summary(response) == (upload.stat().st_size, hashlib.sha256(upload.read_bytes()).hexdigest())
    assert b"".join(echoed) == upload.read_bytes()


def test_file_body_is_rewound_and_resent_whole(
    server: RunningServer, cache_dir: Path, clock: Clock, tmp_path: Path
) -> None:
    api(server, make_auth(server, cache_dir, clock))
    server.fake.revoke_all()
    upload = tmp_path / "doc.bin"
    upload.write_bytes(bytes(range(256)) * 4096)
    with upload.open("rb") as handle:
        response = api(server, make_auth(server, cache_dir, clock), "POST", data=handle)
    assert response.history
    assert response.status_code == 200
    assert body_summary(response) == (upload.stat().st_size, hashlib.sha256(upload.read_bytes()).hexdigest())


def multipart(handle: object, boundary: str = "b0undary") -> MultipartEncoder:
    # HTTPie hands the encoder a one-shot iterator of fields; do the same.
    return MultipartEncoder(
        fields=iter([("file", ("passport.jpg", handle, "image/jpeg")), ("note", "x")]), boundary=boundary
    )


@pytest.mark.parametrize("at_the_cap", [False, True])
def test_multipart_upload_is_resent_whole(
    server: RunningServer,
    cache_dir: Path,
    clock: Clock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    at_the_cap: bool,
) -> None:
    api(server, make_auth(server, cache_dir, clock))
    server.fake.revoke_all()
    upload = tmp_path / "passport.jpg"
    upload.write_bytes(b"\xff\xd8" + bytes(range(256)) * 1000)
    with upload.open("rb") as handle:
        expected = multipart(handle).to_string()
        if at_the_cap:
            monkeypatch.setattr(auth_module, "MAX_BUFFERED_UPLOAD", len(expected))
        handle.seek(0)
        encoder = multipart(handle)
        headers = {"Content-Type": encoder.content_type}
        response = api(server, make_auth(server, cache_dir, clock), "POST", data=encoder, headers=headers)
    assert response.history
    assert response.status_code == 200
    assert body_summary(response) == (len(expected), hashlib.sha256(expected).hexdigest())


def test_multipart_upload_over_the_cap_is_not_resent(
    server: RunningServer, cache_dir: Path, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth_module, "MAX_BUFFERED_UPLOAD", 100)
    api(server, make_auth(server, cache_dir, clock))
    server.fake.revoke_all()
    upload = tmp_path / "passport.jpg"
    upload.write_bytes(b"\xff\xd8" * 1000)
    with upload.open("rb") as handle:
        encoder = multipart(handle)
        headers = {"Content-Type": encoder.content_type}
        response = api(server, make_auth(server, cache_dir, clock), "POST", data=encoder, headers=headers)
    assert response.status_code == 401
    assert server.fake.token_requests == 2


def test_stream_body_is_never_resent_but_the_token_is_refreshed(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    api(server, make_auth(server, cache_dir, clock))
    server.fake.revoke_all()
    chunks = iter([b"part one,", b"part two"])
    with caplog.at_level(logging.WARNING, logger="httpie_trulioo"):
        response = api(server, make_auth(server, cache_dir, clock), "POST", data=chunks)
    assert response.status_code == 401
    assert server.fake.token_requests == 2
    assert auth_log(caplog) == [
        (
            f"{context_of(server)} the API answered 401 to the cached token; a new token was fetched, but "
            "this request's body is a stream that cannot be sent twice: run the command again."
        )
    ]
    assert api(server, make_auth(server, cache_dir, clock)).status_code == 200
    assert server.fake.token_requests == 2


def test_token_without_expiry_is_used_but_not_cached(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    server.fake.token_kind, server.fake.expires_in = "opaque", None
    with caplog.at_level(logging.WARNING, logger="httpie_trulioo"):
        assert api(server, make_auth(server, cache_dir, clock)).status_code == 200
        assert api(server, make_auth(server, cache_dir, clock)).status_code == 200
    assert server.fake.token_requests == 2
    assert "gave no expiry" in caplog.text


@pytest.mark.parametrize("expires_in", [0, -60])
def test_token_expired_on_arrival_is_used_once_not_cached(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture, expires_in: int
) -> None:
    server.fake.expires_in = expires_in
    with caplog.at_level(logging.WARNING, logger="httpie_trulioo"):
        assert api(server, make_auth(server, cache_dir, clock)).status_code == 200
    assert "already expired" in caplog.text
    assert not list(cache_dir.glob("*.json"))


def test_cache_can_be_turned_off(server: RunningServer, cache_dir: Path, clock: Clock) -> None:
    for _ in range(3):
        api(server, make_auth(server, cache_dir, clock, cache=False))
    assert server.fake.token_requests == 3
    assert not cache_dir.exists()


def test_without_a_cache_one_auth_object_keeps_its_token(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    auth = make_auth(server, cache_dir, clock, cache=False)
    for _ in range(3):
        api(server, auth)
    assert server.fake.token_requests == 1


def test_unusable_cache_folder_still_works_with_one_warning(
    server: RunningServer, tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    auth = make_auth(server, blocker, clock)
    with caplog.at_level(logging.WARNING, logger="httpie_trulioo"):
        assert api(server, auth).status_code == 200
        assert api(server, auth).status_code == 200
    assert caplog.text.count("going on without a token cache") == 1
    assert server.fake.token_requests == 1


def test_environment_supplies_credentials_and_settings(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    environ = {
        "TRULIOO_CLIENT_ID": CLIENT_ID,
        "TRULIOO_CLIENT_SECRET": CLIENT_SECRET,
        "TRULIOO_TOKEN_URL": server.token_url,
        "TRULIOO_SCOPE": "napi.api",
        "TRULIOO_CACHE_DIR": str(cache_dir),
    }
    auth = TruliooAuth(environ=environ, clock=clock)
    assert requests.get(server.url + "/x", auth=auth, timeout=10).status_code == 200
    assert server.fake.token_forms[0]["scope"] == "napi.api"
    assert list(cache_dir.glob("*.json"))


def test_missing_credentials_are_clear_errors(server: RunningServer, clock: Clock) -> None:
    local = {"TRULIOO_TOKEN_URL": server.token_url}
    with pytest.raises(ConfigurationError, match="no client id"):
        requests.get(server.url + "/x", auth=TruliooAuth(environ=local, clock=clock), timeout=10)
    with pytest.raises(ConfigurationError, match="no client secret for client 'abc'"):
        requests.get(server.url + "/x", auth=TruliooAuth("abc", environ=local, clock=clock), timeout=10)


def answer(status: int, body: bytes, **headers: str) -> object:
    return lambda: (status, headers, body)


@pytest.mark.parametrize(
    ("override", "error", "message"),
    [
        (
            answer(400, b'{"error": "invalid_scope"}'),
            TokenRequestFailed,
            "400 invalid_scope: check TRULIOO_SCOPE",
        ),
        (answer(400, b'{"error": "unsupported_grant_type"}'), TokenRequestFailed, "client_credentials grant"),
        (answer(500, b"boom"), TokenRequestFailed, "500: the token service has a problem"),
        (answer(502, b"<html><body>Bad Gateway</body></html>"), TokenRequestFailed, "502"),
        (answer(200, b"<html>login</html>"), InvalidTokenResponse, "not JSON"),
        (answer(200, b'{"expires_in": 10}'), InvalidTokenResponse, "without a token"),
        (answer(302, b"", Location="https://elsewhere.example/steal"), TokenRequestFailed, "not followed"),
        (answer(200, b" " * (2 << 20)), InvalidTokenResponse, "larger than 1 MiB"),
    ],
)
def test_token_endpoint_failures_are_one_clear_line(
    server: RunningServer,
    cache_dir: Path,
    clock: Clock,
    *,
    override: object,
    error: type[Exception],
    message: str,
) -> None:
    server.fake.token_override = override  # type: ignore[assignment]
    with pytest.raises(error, match=message) as caught:
        api(server, make_auth(server, cache_dir, clock))
    assert "\n" not in str(caught.value)
    assert CLIENT_SECRET not in str(caught.value)
    assert server.fake.token_requests == 1


def test_secret_echoed_by_the_server_is_masked_and_the_rest_shown(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    echo = json.dumps(
        {"error": "invalid_client", "error_description": f"bad secret {CLIENT_SECRET}"}
    ).encode()
    server.fake.token_override = answer(400, echo)  # type: ignore[assignment]
    with pytest.raises(TokenRequestFailed) as caught:
        api(server, make_auth(server, cache_dir, clock))
    assert CLIENT_SECRET not in str(caught.value)
    assert "400 invalid_client (bad secret ***): check" in str(caught.value)


def test_connection_refused(cache_dir: Path, clock: Clock) -> None:
    with refusing_port() as port:
        auth = TruliooAuth(
            CLIENT_ID,
            CLIENT_SECRET,
            token_url=f"http://127.0.0.1:{port}/connect/token",
            cache_dir=str(cache_dir),
            environ={},
        )
        with pytest.raises(TokenEndpointUnreachable, match="the connection was refused"):
            auth(requests.Request("GET", "http://127.0.0.1:9/x").prepare())


def test_slow_token_endpoint_is_bounded_by_the_timeout(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    server.fake.token_delay = 60
    with pytest.raises(TokenEndpointUnreachable, match=r"did not answer within 1 s"):
        api(server, make_auth(server, cache_dir, clock, timeout=1))


def test_insecure_token_url_is_refused_before_anything_is_sent(cache_dir: Path) -> None:
    auth = TruliooAuth(
        CLIENT_ID, CLIENT_SECRET, token_url="http://auth.example.com/connect/token", environ={}
    )
    with pytest.raises(InsecureTokenURL):
        auth(requests.Request("GET", "http://127.0.0.1:9/x").prepare())


def test_basic_auth_sends_the_credentials_in_the_header_only(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    auth = make_auth(server, cache_dir, clock, auth_method="client_secret_basic")
    assert api(server, auth).status_code == 200
    assert server.fake.token_forms == [{"grant_type": "client_credentials", "scope": "workflow.studio.api"}]
    encoded = base64.b64encode(f"{CLIENT_ID}:{quote_plus(CLIENT_SECRET, safe='')}".encode()).decode()
    assert server.fake.token_authorizations == [f"Basic {encoded}"]


def test_audience_and_resource_are_sent_and_an_empty_scope_is_not(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    auth = make_auth(
        server, cache_dir, clock, scope="", audience="https://api.example.com/", resource="urn:example:api"
    )
    with pytest.raises(TokenRequestFailed, match="no scope was asked for"):
        api(server, auth)  # the fake Trulioo insists on a scope
    assert server.fake.token_forms == [
        {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "audience": "https://api.example.com/",
            "resource": "urn:example:api",
        }
    ]


def test_audience_and_resource_are_part_of_the_key_and_the_auth_method_is_not(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    for options in (
        {},
        {"auth_method": "client_secret_basic"},
        {"audience": "a"},
        {"audience": "a", "auth_method": "client_secret_basic"},
        {"resource": "urn:r"},
        {"audience": "a", "resource": "urn:r"},
    ):
        assert api(server, make_auth(server, cache_dir, clock, **options)).status_code == 200
    assert [(form.get("audience"), form.get("resource")) for form in server.fake.token_forms] == [
        (None, None),
        ("a", None),
        (None, "urn:r"),
        ("a", "urn:r"),
    ]


def test_granted_scope_is_kept_and_masked_if_it_echoes_the_secret(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    assert make_auth(server, cache_dir, clock).token().scope == "workflow.studio.api"
    assert make_auth(server, cache_dir, clock).token().scope == "workflow.studio.api"  # from the cache
    echo = {"access_token": "t0k", "expires_in": 600, "scope": f"read {CLIENT_SECRET}"}
    server.fake.token_override = answer(200, json.dumps(echo).encode())  # type: ignore[assignment]
    token = make_auth(server, cache_dir, clock, scope="napi.api").token()
    assert token.scope == "read ***"
    assert all(CLIENT_SECRET not in path.read_text() for path in cache_dir.iterdir())
