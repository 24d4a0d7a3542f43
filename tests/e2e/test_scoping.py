"""Where a token and the secret may go, proved against real peers that record what they receive.

The API is the fake Trulioo on 127.0.0.1; other hosts are recorders on other loopback addresses
and ports, a proxy, and servers that drip. ``http`` runs as a subprocess, as a user runs it.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
import trustme
from fake_trulioo import FakeTrulioo, RunningServer
from harness import find_http
from helpers import AUTH, CLIENT_ID, CLIENT_SECRET, context_of, posix_only, run_http, tls_fake
from peers import ConnectProxy, Dripper, Recorder

from httpie_trulioo import APIHostNotAllowed, InsecureAPIURL, TokenEndpointUnreachable, TruliooAuth
from httpie_trulioo.cache import TokenKey

pytestmark = pytest.mark.e2e


def trulioo(*args: str) -> list[str]:
    return ["-b", "-A", "trulioo", "-a", AUTH, *args]


def cached_token(cache_dir: Path, token_url: str) -> str:
    key = TokenKey(token_url, "workflow.studio.api", CLIENT_ID)
    return str(json.loads((cache_dir / f"{key.digest}.json").read_text())["token"])


def one_line(result: subprocess.CompletedProcess[str], start: str) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith(start), line
    return line


# --- redirects -----------------------------------------------------------------------------------


def test_follow_to_another_host_that_answers_401_gets_no_token(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    assert run_http(trulioo(server.url + "/x"), http_env).returncode == 0
    token = cached_token(cache_dir, server.token_url)
    with Recorder("127.0.0.2") as elsewhere:
        result = run_http(trulioo("--follow", f"{server.url}/_redirect?to={elsewhere.url}/collect"), http_env)
        assert result.returncode == 0, result.stderr
        assert elsewhere.authorizations() == [""]
    assert server.fake.token_requests == 1  # no token was fetched for the other host
    assert cached_token(cache_dir, server.token_url) == token  # nor was the good one dropped


def test_python_api_redirect_to_another_port_gets_no_token(server: RunningServer, cache_dir: Path) -> None:
    def auth() -> TruliooAuth:
        return TruliooAuth(CLIENT_ID, CLIENT_SECRET, token_url=server.token_url, cache_dir=str(cache_dir))

    requests.get(server.url + "/x", auth=auth(), timeout=10).raise_for_status()
    token = cached_token(cache_dir, server.token_url)
    with Recorder("127.0.0.1") as elsewhere:  # same host, another port: another origin
        response = requests.get(f"{server.url}/_redirect?to={elsewhere.url}/collect", auth=auth(), timeout=10)
        assert response.status_code == 401
        assert elsewhere.authorizations() == [""]
    assert server.fake.token_requests == 1
    assert cached_token(cache_dir, server.token_url) == token


def test_https_to_http_downgrade_gets_no_token(
    fake: FakeTrulioo, http_env: dict[str, str], cache_dir: Path
) -> None:
    with tls_fake(fake, "127.0.0.1") as (secure, ca_file), Recorder("127.0.0.1") as plain:
        http_env.update(TRULIOO_TOKEN_URL=secure.token_url, REQUESTS_CA_BUNDLE=str(ca_file))
        call = trulioo(f"--verify={ca_file}", "--follow")
        assert run_http([*call, secure.url + "/x"], http_env).returncode == 0
        result = run_http([*call, f"{secure.url}/_redirect?to={plain.url}/x"], http_env)
        assert result.returncode == 0, result.stderr
        assert plain.authorizations() == [""]
    assert fake.token_requests == 1


def test_http_to_https_upgrade_on_standard_ports_gets_no_token(
    server: RunningServer, cache_dir: Path, tmp_path: Path
) -> None:
    # requests keeps the Authorization header on an http:80 to https:443 redirect of one host;
    # it is another origin, so the token must not go along. Needs ports 80 and 443 on a loopback
    # address of its own.
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.5").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    try:
        secure = Recorder("127.0.0.5", status=200, port=443, tls=context)
        plain = Recorder("127.0.0.5", status=301, port=80, headers={"Location": "https://127.0.0.5/landing"})
    except OSError as exc:
        pytest.skip(f"ports 80 and 443 of 127.0.0.5 cannot be had here: {exc.strerror}")
    auth = TruliooAuth(CLIENT_ID, CLIENT_SECRET, token_url=server.token_url, cache_dir=str(cache_dir))
    with secure, plain:
        response = requests.get("http://127.0.0.5/start", auth=auth, verify=str(ca_file), timeout=10)
        assert response.status_code == 200
        assert plain.authorizations()[0].startswith("Bearer ")
        assert secure.authorizations() == [""]


def test_same_origin_redirect_still_gets_the_401_retry(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    assert run_http(trulioo(server.url + "/x"), http_env).returncode == 0
    server.fake.revoke_all()
    result = run_http(trulioo("--follow", f"{server.url}/_redirect?to={server.url}/y"), http_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["path"] == "/y"
    assert server.fake.token_requests == 2


def test_a_redirect_after_the_401_retry_carries_the_new_token(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    assert run_http(trulioo(server.url + "/x"), http_env).returncode == 0
    server.fake.revoke_all()
    result = run_http(trulioo("--follow", f"{server.url}/_redirect?auth=1&to={server.url}/y"), http_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["path"] == "/y"
    assert server.fake.token_requests == 2


# --- plain http and host scoping -----------------------------------------------------------------


@pytest.mark.parametrize("extra", [[], ["--offline"]])
def test_plain_http_api_url_elsewhere_is_refused_before_any_token(
    server: RunningServer, http_env: dict[str, str], extra: list[str]
) -> None:
    assert run_http(trulioo(server.url + "/x"), http_env).returncode == 0  # a token is cached
    result = run_http(trulioo(*extra, "http://api.trulioo.com/wfs/interpreter-v2/flow/f"), http_env)
    line = one_line(result, "http: error: InsecureAPIURL: refusing to send the Trulioo token over plain http")
    assert "api.trulioo.com" in line
    assert result.stdout == ""
    assert server.fake.token_requests == 1


@pytest.mark.parametrize("how", ["HTTP_PROXY", "ALL_PROXY", "--proxy"])
def test_plain_http_to_loopback_through_a_proxy_is_refused(
    server: RunningServer, http_env: dict[str, str], how: str
) -> None:
    with ConnectProxy() as proxy:
        http_env["NO_PROXY"] = ""
        extra = [f"--proxy=http:{proxy.url}"] if how == "--proxy" else []
        if how != "--proxy":
            http_env[how] = proxy.url
        result = run_http(trulioo(*extra, server.url + "/x"), http_env)
        line = one_line(
            result, "http: error: InsecureAPIURL: refusing to send the Trulioo token over plain http"
        )
        assert "through a proxy" in line
        assert proxy.request_lines == []
    assert server.fake.token_requests == 0


@pytest.mark.parametrize(
    "url", ["https://api.trulioo.co/x", "https://api.trulioo.com.example.test/x", "https://trulioo.com/x"]
)
def test_hosts_outside_the_allowed_list_are_refused(
    server: RunningServer, http_env: dict[str, str], url: str
) -> None:
    line = one_line(run_http(trulioo(url), http_env), "http: error: APIHostNotAllowed: refusing to send")
    assert "TRULIOO_API_HOSTS" in line
    assert "*.trulioo.com, loopback" in line
    assert server.fake.token_requests == 0


def test_auth_type_in_default_options_sends_no_token_elsewhere(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "httpie-config" / "config.json"
    config.write_text(
        json.dumps({"default_options": ["--auth-type=trulioo"], "disable_update_warnings": True})
    )
    http_env.update(TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    with Recorder("127.0.0.3", status=200) as other:
        http_env["TRULIOO_API_HOSTS"] = "127.0.0.1"
        one_line(run_http(["-b", other.url + "/"], http_env), "http: error: APIHostNotAllowed:")
        assert other.seen == []
        result = run_http(["-b", server.url + "/x"], http_env)
        assert result.returncode == 0, result.stderr
    assert server.fake.token_requests == 1


def test_api_hosts_setting_replaces_the_default(server: RunningServer, http_env: dict[str, str]) -> None:
    port = server.url.rsplit(":", 1)[1]
    http_env["TRULIOO_API_HOSTS"] = "localhost"
    one_line(run_http(trulioo(server.url + "/x"), http_env), "http: error: APIHostNotAllowed:")
    result = run_http(trulioo(f"http://localhost:{port}/x"), http_env)
    assert result.returncode == 0, result.stderr
    http_env["TRULIOO_API_HOSTS"] = "https://localhost/"
    one_line(
        run_http(trulioo(server.url + "/x"), http_env), "http: error: ConfigurationError: TRULIOO_API_HOSTS"
    )


def test_profile_api_hosts(server: RunningServer, http_env: dict[str, str], tmp_path: Path) -> None:
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[profiles.local]\napi_hosts = ["localhost"]\n')
    http_env.update(TRULIOO_CONFIG_FILE=str(profiles), TRULIOO_PROFILE="local")
    one_line(run_http(trulioo(server.url + "/x"), http_env), "http: error: APIHostNotAllowed:")
    assert server.fake.token_requests == 0


# --- the token URL -------------------------------------------------------------------------------


def test_loopback_token_url_never_goes_through_a_proxy(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    port = server.url.rsplit(":", 1)[1]
    with ConnectProxy() as proxy:
        http_env.update(
            TRULIOO_TOKEN_URL=f"http://localhost:{port}/connect/token",
            HTTP_PROXY=proxy.url,
            HTTPS_PROXY=proxy.url,
            ALL_PROXY=proxy.url,
            NO_PROXY="127.0.0.1",  # the API call itself goes direct
        )
        result = run_http(trulioo(server.url + "/x"), http_env)
        assert result.returncode == 0, result.stderr
        assert proxy.request_lines == []
    assert server.fake.token_requests == 1


def test_other_token_urls_honour_the_proxy_variables(
    fake: FakeTrulioo, server: RunningServer, http_env: dict[str, str]
) -> None:
    # The name is never looked up: the proxy tunnels every CONNECT to the local TLS fake.
    with tls_fake(fake, "auth.example.test") as (secure, ca_file):
        port = int(secure.url.rsplit(":", 1)[1])
        with ConnectProxy(upstream=("127.0.0.1", port)) as proxy:
            http_env.update(
                TRULIOO_TOKEN_URL="https://auth.example.test/connect/token",
                TRULIOO_API_HOSTS="loopback",  # tokens from elsewhere go to loopback only when listed
                REQUESTS_CA_BUNDLE=str(ca_file),
                HTTPS_PROXY=proxy.url,
                NO_PROXY="127.0.0.1",
            )
            result = run_http(trulioo(server.url + "/x"), http_env)
            assert result.returncode == 0, result.stderr
            (line,) = proxy.request_lines
            assert line.startswith("CONNECT auth.example.test:443 ")
    assert fake.token_requests == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://demo:hunter2@127.0.0.1:{port}/connect/token",
        "http://127.0.0.1:{port}\\@auth.example.test/connect/token",
        "http://127.0.0.1:{port}/connect/token#@auth.example.test",
        "http://127.0.0.1:{port}/connect/ token",
        "http://127.0.0.1:{port}/connect/token\t",
        "https://auth-api.trulioo.com\u2024evil.test/connect/token",
    ],
)
def test_token_urls_that_read_two_ways_are_refused(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path, cache_dir: Path, url: str
) -> None:
    port = server.url.rsplit(":", 1)[1]
    http_env.update(TRULIOO_TOKEN_URL=url.format(port=port), TRULIOO_LOG="debug")
    result = run_http(trulioo(server.url + "/x"), http_env)
    one_line(result, "http: error: ConfigurationError: TRULIOO_TOKEN_URL")
    assert "hunter2" not in result.stderr
    assert server.fake.token_requests == 0
    assert not cache_dir.exists() or not list(cache_dir.iterdir())


# --- the deadline --------------------------------------------------------------------------------


@pytest.mark.parametrize("part", ["headers", "body"])
def test_timeout_is_a_deadline_for_the_whole_token_request(
    server: RunningServer, http_env: dict[str, str], part: str
) -> None:
    # Before: a server dripping a byte every 0.2 s held a 2 s timeout for 37 s (headers) or 79 s.
    with Dripper(part) as dripper:
        http_env.update(TRULIOO_TOKEN_URL=dripper.token_url, TRULIOO_TIMEOUT="2")
        started = time.monotonic()
        result = run_http(trulioo(server.url + "/x"), http_env)
        elapsed = time.monotonic() - started
    line = one_line(result, "http: error: TokenEndpointUnreachable:")
    assert "did not answer within 2 s" in line
    assert elapsed < 2 + 8, f"took {elapsed:.1f} s"  # 8 s for starting http on a busy machine


def test_python_api_deadline_holds_with_a_dripping_server(cache_dir: Path) -> None:
    with Dripper("headers", interval=0.1) as dripper:
        auth = TruliooAuth(
            CLIENT_ID, CLIENT_SECRET, token_url=dripper.token_url, timeout=1, cache_dir=str(cache_dir)
        )
        started = time.monotonic()
        with pytest.raises(Exception, match="did not answer within 1 s"):
            auth.token()
        assert time.monotonic() - started < 1 + 3


def full_listeners(addresses: tuple[str, ...]) -> tuple[list[socket.socket], int]:
    """Listeners on one port at each address, each with its accept queue filled by one connection.

    The port is the first address's free one; if another process holds it at a later address,
    all are let go and another port is tried, so the test never counts on a port staying free.
    """
    for _ in range(20):
        holes: list[socket.socket] = []
        port = 0
        try:
            for address in addresses:
                listener = socket.socket()
                holes.append(listener)
                listener.bind((address, port))
                listener.listen(0)
                port = listener.getsockname()[1]
                holes.append(socket.create_connection((address, port), timeout=5))
        except OSError:
            for hole in holes:
                hole.close()
            continue
        return holes, port
    raise AssertionError(f"no port free at all of {addresses} in 20 tries")


def test_deadline_holds_when_every_address_of_the_host_hangs(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three loopback listeners whose accept queues are full: a new connection hangs, as it does
    # to a host that drops packets. The name resolves to all three; the answer is injected, so no
    # DNS server is asked, and everything above the resolver runs for real.
    holes, port = full_listeners(("127.0.0.1", "127.0.0.2", "127.0.0.3"))
    resolve = socket.getaddrinfo

    def three_addresses(host: str, *args: object, **kwargs: object) -> object:
        if host == "auth.example.test":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in ("127.0.0.1", "127.0.0.2", "127.0.0.3")
            ]
        return resolve(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", three_addresses)
    auth = TruliooAuth(
        CLIENT_ID,
        CLIENT_SECRET,
        token_url=f"https://auth.example.test:{port}/connect/token",
        timeout=2,
        cache_dir=str(cache_dir),
    )
    started = time.monotonic()
    with pytest.raises(TokenEndpointUnreachable, match="did not answer within 2 s"):
        auth.token()
    elapsed = time.monotonic() - started
    for hole in holes:
        hole.close()
    assert elapsed < 2 + 3, f"took {elapsed:.1f} s"  # before: once per address, 6 s


def test_token_request_asks_for_an_uncompressed_answer(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    assert run_http(trulioo(server.url + "/x"), http_env).returncode == 0
    (headers,) = server.fake.token_headers
    assert headers["Accept-Encoding"] == "identity"


def test_a_compressed_answer_is_refused_in_one_line(server: RunningServer, http_env: dict[str, str]) -> None:
    server.fake.token_override = lambda: (  # type: ignore[assignment]
        200,
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        b"\x1f\x8b\x08\x00" + b"\x00" * 20,
    )
    one_line(
        run_http(trulioo(server.url + "/x"), http_env),
        "http: error: InvalidTokenResponse: the token endpoint answered 200 with a compressed body",
    )


# --- the cache folder and clear ------------------------------------------------------------------


def companion(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_http("httpie-trulioo"), *args], env=env, capture_output=True, text=True, check=False, cwd=cwd
    )


def test_clear_leaves_temp_files_that_are_not_ours(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    assert run_http(trulioo(server.url + "/x"), http_env).returncode == 0
    ours = cache_dir / ".tmp-killed.json"
    ours.write_bytes(b'{"version": 1, "token": "half')
    theirs = cache_dir / ".tmp-editor.json"
    theirs.write_bytes(b'{"draft": true}')
    for path in (ours, theirs):
        path.chmod(0o600)
    assert companion(http_env, "clear").returncode == 0
    assert not ours.exists()
    assert theirs.exists()


def test_times_no_date_can_show_are_never_a_traceback(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    assert run_http(trulioo(server.url + "/x"), http_env).returncode == 0
    (entry,) = cache_dir.glob("*.json")
    document = json.loads(entry.read_text())
    entry.write_text(json.dumps({**document, "expires_at": 1e20}))
    status = companion(http_env, "status")
    assert status.returncode == 0, status.stderr
    assert "no cached tokens" in status.stdout  # not a time this package writes: not an entry
    server.fake.expires_in = -100_000_000_000
    env = {**http_env, "TRULIOO_CLIENT_ID": CLIENT_ID, "TRULIOO_CLIENT_SECRET": CLIENT_SECRET}
    token = companion(env, "token", "--json")
    assert token.returncode == 0, token.stderr
    assert "Traceback" not in token.stderr


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_clear_refuses_a_cache_folder_open_to_others(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    assert run_http(trulioo(server.url + "/x"), http_env).returncode == 0
    cache_dir.chmod(0o777)
    status = companion(http_env, "status")
    assert "(not used: the cache folder is open to other users" in status.stdout
    assert "no cached tokens" in status.stdout
    cleared = companion(http_env, "clear")
    assert cleared.returncode == 1
    assert cleared.stderr.startswith("httpie-trulioo: error: the cache folder")
    assert "nothing was removed" in cleared.stderr
    assert len(list(cache_dir.glob("*.json"))) == 1


def test_cache_folder_with_a_tilde_is_expanded(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    http_env["TRULIOO_CACHE_DIR"] = "~/tokens"
    result = subprocess.run(
        [find_http(), "--ignore-stdin", *trulioo(server.url + "/x")],
        env=http_env,
        capture_output=True,
        text=True,
        check=False,
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    assert len(list((Path(http_env["HOME"]) / "tokens").glob("*.json"))) == 1
    assert list(work.iterdir()) == []


def test_relative_cache_folder_is_refused_in_one_line(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    http_env["TRULIOO_CACHE_DIR"] = "tokens"
    line = one_line(run_http(trulioo(server.url + "/x"), http_env), "http: error: ConfigurationError:")
    assert "TRULIOO_CACHE_DIR must be an absolute path" in line
    assert server.fake.token_requests == 0
    assert companion(http_env, "status").returncode == 1


# --- threads -------------------------------------------------------------------------------------


@pytest.mark.parametrize("cache", [False, True])
def test_one_auth_shared_by_32_threads_asks_once(server: RunningServer, cache_dir: Path, cache: bool) -> None:
    auth = TruliooAuth(
        CLIENT_ID, CLIENT_SECRET, token_url=server.token_url, cache=cache, cache_dir=str(cache_dir)
    )
    start = threading.Barrier(32)
    statuses: list[int] = []

    def call(path: str) -> None:
        start.wait()
        statuses.append(requests.get(server.url + path, auth=auth, timeout=30).status_code)

    for round_ in ("cold", "401"):
        threads = [threading.Thread(target=call, args=(f"/{round_}",)) for _ in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        server.fake.revoke_all()
    assert statuses == [200] * 64
    assert server.fake.token_requests == 2  # one for the cold start, one after the 401s


@pytest.fixture
def client_in_environment(server: RunningServer, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake's token URL, a cache folder of the test's own, and the client in TRULIOO_* variables."""
    for name, value in {
        "TRULIOO_TOKEN_URL": server.token_url,
        "TRULIOO_CACHE_DIR": str(cache_dir),
        "TRULIOO_CLIENT_ID": CLIENT_ID,
        "TRULIOO_CLIENT_SECRET": CLIENT_SECRET,
    }.items():
        monkeypatch.setenv(name, value)


def _after_a_cache_hit(server: RunningServer) -> tuple[TruliooAuth, list[float]]:
    """An auth object whose first request was a cache hit, and the clock it reads (a list to move)."""
    requests.get(server.url + "/x", auth=TruliooAuth(), timeout=10).raise_for_status()  # warms the cache
    now = [time.time()]
    auth = TruliooAuth(clock=lambda: now[0])
    requests.get(server.url + "/x", auth=auth, timeout=10).raise_for_status()  # a cache hit
    return auth, now


def test_a_variable_read_on_a_warm_call_keeps_that_value_on_a_later_miss(
    server: RunningServer, client_in_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Variables set after a cache hit change nothing for a later miss of the same auth object:
    neither a profile nor a scope that were unset at its first request."""
    monkeypatch.delenv("TRULIOO_PROFILE", raising=False)
    auth, now = _after_a_cache_hit(server)
    monkeypatch.setenv("TRULIOO_PROFILE", "no-such-profile")  # would fail the miss, were it read again
    monkeypatch.setenv("TRULIOO_SCOPE", "other.scope")  # read as unset by the hit: stays unset
    now[0] += 2 * 86_400
    requests.get(server.url + "/x", auth=auth, timeout=10).raise_for_status()
    assert server.fake.token_requests == 2
    assert server.fake.token_forms[-1]["scope"] == "workflow.studio.api"


def test_a_refused_first_request_still_fixes_the_credentials_for_later_ones(
    server: RunningServer, client_in_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client id and secret are read with the settings, before the URL check can refuse the
    request: a later request must not pair credentials set in between with the first settings."""
    auth = TruliooAuth()
    with pytest.raises(APIHostNotAllowed):
        auth(requests.Request("GET", "https://elsewhere.example/x").prepare())
    monkeypatch.setenv("TRULIOO_CLIENT_ID", "someone-else")
    monkeypatch.setenv("TRULIOO_CLIENT_SECRET", "their-secret")
    requests.get(server.url + "/x", auth=auth, timeout=10).raise_for_status()
    assert server.fake.token_forms[-1]["client_id"] == CLIENT_ID


# --- unit: the rules themselves ------------------------------------------------------------------


def test_a_real_trulioo_token_does_not_go_to_a_loopback_port_unless_listed() -> None:
    # The token URL is Trulioo's: the refusal comes first, so nothing is fetched or sent.
    auth = TruliooAuth(CLIENT_ID, CLIENT_SECRET, environ={})
    with pytest.raises(APIHostNotAllowed, match=r"refusing to send the Trulioo token to 127\.0\.0\.1:"):
        auth(requests.Request("GET", "http://127.0.0.1:8080/x").prepare())


def test_the_refusals_are_typed_errors() -> None:
    auth = TruliooAuth(CLIENT_ID, CLIENT_SECRET, environ={})
    with pytest.raises(InsecureAPIURL):
        auth(requests.Request("GET", "http://api.trulioo.com/x").prepare())
    with pytest.raises(APIHostNotAllowed):
        auth(requests.Request("GET", "https://example.com/x").prepare())


def test_an_auth_object_reads_the_environment_once(
    server: RunningServer, client_in_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Variables changed after the first request change nothing for that object: its token URL, client
    and allowed hosts stay those it started with, whether its first token came from the cache or not."""
    auth, now = _after_a_cache_hit(server)
    assert server.fake.token_requests == 1
    monkeypatch.setenv("TRULIOO_TOKEN_URL", "https://auth-api.trulioo.com/connect/token")
    monkeypatch.setenv("TRULIOO_CLIENT_ID", "someone-else")
    now[0] += 2 * 86_400  # the cached token has expired: this call fetches one
    requests.get(server.url + "/x", auth=auth, timeout=10).raise_for_status()
    assert server.fake.token_requests == 2


# --- TLS verification turned off ---------------------------------------------------------------


def test_a_token_sent_with_tls_verification_off_is_one_warning_line(
    fake: FakeTrulioo, http_env: dict[str, str]
) -> None:
    """HTTPie silences urllib3's own warning for --verify=no, so the plugin says it, once."""
    with tls_fake(fake) as (secure, ca_file):
        http_env.update(TRULIOO_TOKEN_URL=secure.token_url, REQUESTS_CA_BUNDLE=str(ca_file))
        unverified = run_http(trulioo("--verify=no", secure.url + "/x"), http_env)
        verified = run_http(trulioo(f"--verify={ca_file}", secure.url + "/x"), http_env)
    assert unverified.returncode == 0, unverified.stderr
    assert unverified.stderr == (
        f"httpie-trulioo: {context_of(secure)} TLS verification is off (--verify=no): anyone between "
        "here and 127.0.0.1 can read the token; use --verify=CA.pem to trust a private CA instead.\n"
    )
    assert (verified.returncode, verified.stderr) == (0, "")
    assert fake.api_requests == 2
