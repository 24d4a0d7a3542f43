"""TruliooAuth through requests against the fake Trulioo on 127.0.0.1, with an injected clock."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from pathlib import Path
from urllib.parse import quote_plus

import pytest
import requests
from fake_trulioo import FakeTrulioo, RunningServer
from helpers import CLIENT_ID, CLIENT_SECRET, Clock, refusing_port, token_form
from requests_toolbelt import MultipartEncoder

from httpie_trulioo import (
    ConfigurationError,
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


def test_token_request_is_the_documented_form(server: RunningServer, cache_dir: Path, clock: Clock) -> None:
    assert api(server, make_auth(server, cache_dir, clock)).status_code == 200
    assert server.fake.token_forms == [token_form()]


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
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    api(server, make_auth(server, cache_dir, clock))
    server.fake.revoke_all()
    response = api(server, make_auth(server, cache_dir, clock))
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert server.fake.token_requests == 2
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


def test_multipart_upload_is_resent_whole(
    server: RunningServer, cache_dir: Path, clock: Clock, tmp_path: Path
) -> None:
    api(server, make_auth(server, cache_dir, clock))
    server.fake.revoke_all()
    upload = tmp_path / "passport.jpg"
    upload.write_bytes(b"\xff\xd8" + bytes(range(256)) * 1000)
    with upload.open("rb") as handle:
        expected = multipart(handle).to_string()
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
    assert "cannot be sent twice: run the command again" in caplog.text
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
