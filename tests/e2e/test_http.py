"""End to end: the installed http command, run as a subprocess, against the fake Trulioo."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_trulioo import RunningServer
from harness import find_http, run_on_a_terminal
from helpers import AUTH, CLIENT_ID, CLIENT_SECRET, context_of, posix_only, run_http

pytestmark = pytest.mark.e2e

SUBMIT = "/wfs/interpreter-v2/submit/FLOW-1"


def ok(result: subprocess.CompletedProcess[str], *, resent: bool = False) -> dict[str, object]:
    """The call worked, quietly; ``resent``: but for the one line that says a 401 was answered."""
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == int(resent), result.stderr
    assert all(" was refused (401); got a new one (…" in line for line in lines)
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def test_plugin_is_listed() -> None:
    listed = subprocess.run(
        [str(Path(find_http()).with_name("httpie")), "cli", "plugins", "list"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "httpie-trulioo" in listed.stdout
    assert "trulioo" in listed.stdout
    helped = subprocess.run([find_http(), "--help"], capture_output=True, text=True, check=True)
    assert '"trulioo": Trulioo OAuth 2.0 client credentials' in helped.stdout


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_submit_gets_a_token_and_caches_it_owner_only(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    summary = ok(
        run_http(
            ["-b", "--auth-type=trulioo", f"--auth={AUTH}", "POST", server.url + SUBMIT, "a=b"], http_env
        )
    )
    assert summary["path"] == SUBMIT
    assert summary["content_type"] == "application/json"
    assert cache_dir.stat().st_mode & 0o777 == 0o700
    (entry,) = cache_dir.glob("*.json")
    assert entry.stat().st_mode & 0o777 == 0o600
    assert CLIENT_SECRET not in entry.read_text()


def test_twenty_sequential_calls_make_one_token_request(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    for _ in range(20):
        ok(run_http(["-b", "-A", "trulioo", "-a", AUTH, server.url + "/wfs/interpreter-v2/flow/F"], http_env))
    assert server.fake.token_requests == 1
    assert server.fake.api_requests == 20


def start_http(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [find_http(), "--ignore-stdin", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )


def run_parallel(count: int, args: list[str], env: dict[str, str]) -> list[tuple[int, bytes, bytes]]:
    processes = [start_http(args, env) for _ in range(count)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        results.append((process.returncode, out, err))
    return results


def test_sixteen_parallel_calls_on_a_cold_cache_make_one_token_request(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    results = run_parallel(16, ["-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env)
    assert [(code, err) for code, _, err in results] == [(0, b"")] * 16
    assert server.fake.token_requests == 1


def test_sixteen_parallel_401s_make_one_token_request(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    ok(run_http(["-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env))
    server.fake.revoke_all()
    results = run_parallel(16, ["-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env)
    assert [code for code, _, _ in results] == [0] * 16
    # Each says it resent, unless it started late enough to find the new token already cached.
    assert all(
        all(" was refused (401); got a new one (…" in line for line in err.decode().splitlines())
        and len(err.decode().splitlines()) <= 1
        for _, _, err in results
    )
    assert all(json.loads(out)["path"] == "/x" for _, out, _ in results)
    assert server.fake.token_requests == 2


def expect_body(summary: dict[str, object], body: bytes) -> None:
    assert (summary["body_length"], summary["body_sha256"]) == (len(body), hashlib.sha256(body).hexdigest())


@pytest.fixture
def revoked(server: RunningServer, http_env: dict[str, str]) -> RunningServer:
    """A warm cache whose token the API has just revoked."""
    ok(run_http(["-b", "-A", "trulioo", "-a", AUTH, server.url + "/warm-up"], http_env))
    server.fake.revoke_all()
    return server


def auth_args(server: RunningServer, *items: str, options: tuple[str, ...] = ()) -> list[str]:
    return ["-b", "-A", "trulioo", "-a", AUTH, *options, "POST", server.url + SUBMIT, *items]


def test_revoked_token_json_body_is_resent(revoked: RunningServer, http_env: dict[str, str]) -> None:
    summary = ok(run_http(auth_args(revoked, "name=Ada", "age:=36"), http_env), resent=True)
    expect_body(summary, json.dumps({"name": "Ada", "age": 36}).encode())
    assert revoked.fake.token_requests == 2


def test_revoked_token_form_body_is_resent(revoked: RunningServer, http_env: dict[str, str]) -> None:
    summary = ok(
        run_http(auth_args(revoked, "name=Ada", "city=Vancouver", options=("--form",)), http_env), resent=True
    )
    expect_body(summary, b"name=Ada&city=Vancouver")
    assert revoked.fake.token_requests == 2


def test_revoked_token_raw_file_body_is_resent(
    revoked: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    document = tmp_path / "submit.json"
    document.write_bytes(json.dumps({"fields": list(range(20000))}).encode())
    summary = ok(run_http(auth_args(revoked, f"@{document}"), http_env), resent=True)
    expect_body(summary, document.read_bytes())
    assert revoked.fake.token_requests == 2


def test_verbose_output_shows_a_resent_file_body_once(
    revoked: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    document = tmp_path / "submit.json"
    document.write_bytes(b'{"marker": "only-once-7f3a"}')
    args = ["-v", "--pretty=none", "-A", "trulioo", "-a", AUTH, "POST", revoked.url + SUBMIT, f"@{document}"]
    result = run_http(args, http_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("only-once-7f3a") == 1
    expected = hashlib.sha256(document.read_bytes()).hexdigest()
    assert f'"body_sha256": "{expected}"' in result.stdout
    assert revoked.fake.token_requests == 2


def test_revoked_token_stdin_body_is_resent(revoked: RunningServer, http_env: dict[str, str]) -> None:
    payload = json.dumps({"from": "stdin", "n": list(range(5000))}).encode()
    summary = ok(run_http(auth_args(revoked), http_env, stdin=payload), resent=True)
    expect_body(summary, payload)
    assert revoked.fake.token_requests == 2


def test_revoked_token_multipart_upload_is_resent(
    revoked: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    image = tmp_path / "passport.jpg"
    image.write_bytes(b"\xff\xd8\xff" + os.urandom(300_000))
    args = ["-b", "-A", "trulioo", "-a", AUTH, "--multipart", "--boundary=xyzBOUNDARYxyz"]
    summary = ok(
        run_http(
            [*args, "POST", revoked.url + "/wfs/interpreter-v2/file/", f"file@{image}", "kind=passport"],
            http_env,
        ),
        resent=True,
    )
    assert str(summary["content_type"]).startswith("multipart/form-data; boundary=xyzBOUNDARYxyz")
    received = int(str(summary["body_length"]))
    assert received > image.stat().st_size
    # The same upload with a good token from the start: the resent body must be byte for byte the same.
    fresh = ok(
        run_http(
            [*args, "POST", revoked.url + "/wfs/interpreter-v2/file/", f"file@{image}", "kind=passport"],
            http_env,
        )
    )
    assert (summary["body_length"], summary["body_sha256"]) == (fresh["body_length"], fresh["body_sha256"])
    assert revoked.fake.token_requests == 2


def test_revoked_token_chunked_body_is_not_resent(revoked: RunningServer, http_env: dict[str, str]) -> None:
    result = run_http(auth_args(revoked, "a=b", options=("--chunked", "-h")), http_env)
    assert result.returncode == 0
    assert "HTTP/1.1 401" in result.stdout
    assert result.stderr.strip().splitlines() == [
        (
            f"httpie-trulioo: {context_of(revoked)} the API answered 401 to the cached token; a new token "
            "was fetched, but this request's body is a stream that cannot be sent twice: run the command "
            "again."
        )
    ]
    assert revoked.fake.token_requests == 2
    ok(run_http(auth_args(revoked, "a=b", options=("--chunked",)), http_env))
    assert revoked.fake.token_requests == 2


def test_second_401_is_shown_and_the_exit_status_follows_httpie(
    revoked: RunningServer, http_env: dict[str, str]
) -> None:
    revoked.fake.lifetime = 0
    result = run_http(auth_args(revoked, "a=b", options=("--check-status",)), http_env)
    assert result.returncode == 4  # HTTPie's exit status for a 4xx with --check-status
    assert revoked.fake.token_requests == 2


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert CLIENT_SECRET not in result.stderr + result.stdout
    return lines[0]


def test_wrong_secret_is_one_clear_line(server: RunningServer, http_env: dict[str, str]) -> None:
    line = one_error_line(
        run_http(["-A", "trulioo", "-a", f"{CLIENT_ID}:nope-{CLIENT_SECRET}", server.url + "/x"], http_env)
    )
    assert line == (
        "http: error: TokenRequestFailed: the token endpoint answered 400 invalid_client "
        "(fake-trulioo: invalid_client): check the client id and secret, sent in the form "
        "(client_secret_post); if the server wants HTTP Basic, set TRULIOO_AUTH_METHOD=client_secret_basic. "
        f"{context_of(server)}"
    )


def test_plain_http_token_url_elsewhere_is_refused(server: RunningServer, http_env: dict[str, str]) -> None:
    http_env["TRULIOO_TOKEN_URL"] = "http://auth-api.trulioo.com/connect/token"
    line = one_error_line(run_http(["-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env))
    assert line.startswith(
        "http: error: InsecureTokenURL: refusing to send the client secret over plain http"
    )
    assert server.fake.api_requests == 0


def test_bad_setting_names_the_variable(server: RunningServer, http_env: dict[str, str]) -> None:
    http_env["TRULIOO_TOKEN_BUFFER"] = "-5"
    line = one_error_line(run_http(["-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env))
    assert line == (
        "http: error: ConfigurationError: "
        "TRULIOO_TOKEN_BUFFER must be a number of seconds, 0 or more and at most 86400; it is '-5'."
    )


def test_unreachable_token_endpoint(server: RunningServer, http_env: dict[str, str]) -> None:
    http_env["TRULIOO_TOKEN_URL"] = "http://127.0.0.1:9/connect/token"
    line = one_error_line(run_http(["-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env))
    assert line == (
        "http: error: TokenEndpointUnreachable: could not reach the token endpoint 127.0.0.1:9: "
        "the connection was refused. Check TRULIOO_TOKEN_URL and the network."
    )


def test_missing_secret_without_a_terminal_is_a_clear_error(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    line = one_error_line(run_http(["-A", "trulioo", "-a", CLIENT_ID, server.url + "/x"], http_env))
    assert line == (
        f"http: error: ConfigurationError: no client secret for client '{CLIENT_ID}' at {server.token_url}, "
        "and no "
        f"terminal to ask on: pass --auth={CLIENT_ID}:SECRET, set TRULIOO_CLIENT_SECRET, or keep it in "
        "the OS keyring: httpie-trulioo login."
    )


def test_credentials_from_the_environment(server: RunningServer, http_env: dict[str, str]) -> None:
    http_env.update(TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    ok(run_http(["-b", "--auth-type=trulioo", server.url + "/x"], http_env))
    http_env["TRULIOO_SCOPE"] = "napi.api"
    ok(run_http(["-b", "--auth-type=trulioo", server.url + "/x"], http_env))
    assert [form["scope"] for form in server.fake.token_forms] == ["workflow.studio.api", "napi.api"]


def test_auth_id_with_secret_in_the_environment(server: RunningServer, http_env: dict[str, str]) -> None:
    http_env["TRULIOO_CLIENT_SECRET"] = CLIENT_SECRET
    ok(run_http(["-b", "-A", "trulioo", "-a", CLIENT_ID, server.url + "/x"], http_env))


def test_session_keeps_the_client_id_but_never_the_secret(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    ok(run_http(["-b", "--session=qa", "-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env))
    (session_file,) = (tmp_path / "httpie-config" / "sessions").rglob("qa.json")
    saved = json.loads(session_file.read_text())
    assert saved["auth"] == {"type": "trulioo", "raw_auth": CLIENT_ID}
    assert CLIENT_SECRET not in session_file.read_text()

    # The session has the client id only: its fresh cached token needs no secret.
    ok(run_http(["-b", "--session=qa", server.url + "/x"], http_env))
    assert server.fake.token_requests == 1
    for entry in Path(http_env["TRULIOO_CACHE_DIR"]).glob("*.json"):
        entry.unlink()  # a token must now be fetched, and there is no secret to fetch it with
    line = one_error_line(run_http(["-b", "--session=qa", server.url + "/x"], http_env))
    assert "no client secret for client 'demo-client'" in line

    http_env["TRULIOO_CLIENT_SECRET"] = CLIENT_SECRET
    ok(run_http(["-b", "--session=qa", server.url + "/x"], http_env))
    assert server.fake.token_requests == 2
    assert CLIENT_SECRET not in session_file.read_text()


def test_session_without_auth_argument_reuses_the_environment(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    http_env.update(TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    ok(run_http(["-b", "--session=env", "-A", "trulioo", server.url + "/x"], http_env))
    ok(run_http(["-b", "--session=env", server.url + "/x"], http_env))
    (session_file,) = (tmp_path / "httpie-config" / "sessions").rglob("env.json")
    assert CLIENT_SECRET not in session_file.read_text()


def test_plugin_is_silent_for_calls_that_do_not_use_it(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    result = run_http(["-b", "-A", "bearer", "-a", "some-token", server.url + "/x"], http_env)
    assert result.returncode == 0
    assert result.stderr == ""
    assert not cache_dir.exists()


# HTTPie's own plugin loading, in a process that has started HTTPie: what it adds to sys.modules
# beside the standard library (whose importlib.metadata may load parts of itself to read metadata).
LOAD_PLUGINS = """
import sys, httpie.core
from httpie.plugins.registry import plugin_manager
before = set(sys.modules)
plugin_manager.load_installed_plugins()
added = set(sys.modules) - before
print(" ".join(sorted(name for name in added if name.partition(".")[0] not in sys.stdlib_module_names)))
"""


def test_loading_the_plugin_imports_one_module() -> None:
    """HTTPie loads every plugin on every call: ours is one module, importing nothing else."""
    loaded = subprocess.run([sys.executable, "-c", LOAD_PLUGINS], capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == ["httpie_trulioo"]


def imported_by(args: list[str], env: dict[str, str]) -> set[str]:
    """The modules an http call imports, as Python's -X importtime reports them."""
    result = run_http(args, {**env, "PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 0, result.stderr
    return {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }


def test_a_warm_call_imports_only_the_cached_token_path(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    """With a fresh token in the default cache folder, a call loads the one path's modules beyond -A bearer.

    Not platformdirs, not the profiles, the secret sources, the token request or the errors.
    """
    env = {**http_env, "XDG_CACHE_HOME": str(tmp_path / "default-cache")}
    del env["TRULIOO_CACHE_DIR"]
    url = server.url + "/wfs/interpreter-v2/flow/f1"
    assert run_http(["-b", "-A", "trulioo", "-a", AUTH, url], env).returncode == 0
    (token,) = server.fake.issued
    warm = imported_by(["-b", "-A", "trulioo", "-a", AUTH, url], env)
    bearer = imported_by(["-b", "-A", "bearer", "-a", token, url], env)
    assert server.fake.token_requests == 1
    assert sorted(warm - bearer) == [
        "httpie_trulioo.auth",
        "httpie_trulioo.cache",
        "httpie_trulioo.credentials",
        "httpie_trulioo.provider",
        "httpie_trulioo.settings",
        "httpie_trulioo.token",
        "httpie_trulioo.urls",
    ]
    assert list((tmp_path / "default-cache" / "httpie-trulioo").glob("*.json"))


@posix_only("a pseudo-terminal")
def test_auth_with_only_the_client_id_prompts_on_the_terminal(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    code, screen = run_on_a_terminal(
        [find_http(), "-b", "--pretty=none", "-A", "trulioo", "-a", CLIENT_ID, server.url + "/x"],
        http_env,
        prompt=f"client secret for {CLIENT_ID} at {server.token_url}: ",
        answer=CLIENT_SECRET,
    )
    assert code == 0, screen
    assert "password for" not in screen  # HTTPie's own prompt, for the API host, is not used
    assert '"path": "/x"' in screen
    assert CLIENT_SECRET not in screen  # not echoed
    assert server.fake.token_forms[0]["client_secret"] == CLIENT_SECRET


def test_cache_off_asks_for_a_token_on_every_call(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    http_env["TRULIOO_CACHE"] = "off"
    for _ in range(3):
        ok(run_http(["-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env))
    assert server.fake.token_requests == 3
    assert not cache_dir.exists()


def test_a_401_after_a_cache_hit_says_once_where_the_secret_came_from(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    http_env.update(TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    url = server.url + "/wfs/interpreter-v2/flow/f1"
    assert run_http(["-b", "-A", "trulioo", url], http_env).returncode == 0
    server.fake.revoke_all()
    result = run_http(["-b", "-A", "trulioo", url], {**http_env, "TRULIOO_LOG": "info"})
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("client secret from TRULIOO_CLIENT_SECRET") == 1, result.stderr
    assert "cache hit" in result.stderr
    assert server.fake.token_requests == 2


def test_a_warm_call_with_a_profile_loads_no_token_request(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    """A profile needs its file read, but a cached token needs no token request nor platformdirs."""
    folder = Path(http_env["XDG_CONFIG_HOME"]) / "httpie-trulioo"
    folder.mkdir(parents=True)
    profiles = folder / "config.toml"
    profiles.write_text(
        f'[profiles.dev]\nclient_id = "{CLIENT_ID}"\nsecret_env = "DEV_SECRET"\n'
        f'token_url = "{server.token_url}"\n'
    )
    profiles.chmod(0o600)
    env = {**http_env, "DEV_SECRET": CLIENT_SECRET, "XDG_CACHE_HOME": str(tmp_path / "default-cache")}
    del env["TRULIOO_CACHE_DIR"]
    url = server.url + "/wfs/interpreter-v2/flow/f1"
    assert run_http(["-b", "-A", "trulioo", "-a", "@dev", url], env).returncode == 0
    warm = imported_by(["-b", "-A", "trulioo", "-a", "@dev", url], env)
    assert server.fake.token_requests == 1
    assert "httpie_trulioo.profiles" in warm
    assert not {"platformdirs", "httpie_trulioo.endpoint", "httpie_trulioo.secret_sources"} & warm
