"""The QA workflow end to end: the httpie-trulioo command, profiles, logging, --offline, the demo."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from fake_trulioo import RunningServer
from harness import find_http, run_on_a_terminal
from helpers import AUTH, CLIENT_ID, CLIENT_SECRET, context_of, posix_only, run_http, token_form

from httpie_trulioo.cache import TokenCache, TokenKey
from httpie_trulioo.token import Token

pytestmark = pytest.mark.e2e

TESTS = Path(__file__).resolve().parent.parent


def command(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_http("httpie-trulioo"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        check=False,
    )


@pytest.fixture
def env(http_env: dict[str, str]) -> dict[str, str]:
    """Credentials in the environment, as a script would have them."""
    return {**http_env, "TRULIOO_CLIENT_ID": CLIENT_ID, "TRULIOO_CLIENT_SECRET": CLIENT_SECRET}


# --- httpie-trulioo token ---------------------------------------------------------------------


def test_token_prints_a_token_the_api_accepts_and_reuses_it(
    server: RunningServer, env: dict[str, str]
) -> None:
    first = command(["token"], env)
    second = command(["token"], env)
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout == second.stdout
    token = first.stdout.strip()
    answer = requests.get(server.url + "/x", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200
    assert server.fake.token_requests == 1


def test_token_json(server: RunningServer, env: dict[str, str]) -> None:
    result = command(["token", "--json"], env)
    details = json.loads(result.stdout)
    assert set(details) == {
        "token", "fingerprint", "expires_at", "expires_in", "token_url", "scope", "client_id",
        "granted_scope", "audience", "resource", "profile", "sources",
    }  # fmt: skip
    assert details["fingerprint"] == hashlib.sha256(details["token"].encode()).hexdigest()[-6:]
    assert details["profile"] is None
    assert {key: details["sources"][key] for key in ("client_id", "secret", "token_url", "scope")} == {
        "client_id": "TRULIOO_CLIENT_ID",
        "secret": "TRULIOO_CLIENT_SECRET",
        "token_url": "TRULIOO_TOKEN_URL",
        "scope": "default",
    }
    assert details["token"] in server.fake.issued
    assert 3500 < details["expires_in"] <= 3599
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", details["expires_at"])
    assert (details["token_url"], details["scope"], details["client_id"]) == (
        server.token_url,
        "workflow.studio.api",
        CLIENT_ID,
    )
    assert (details["granted_scope"], details["audience"], details["resource"]) == (
        "workflow.studio.api",
        "",
        "",
    )
    assert CLIENT_SECRET not in result.stdout


def test_token_without_a_secret_or_terminal_is_one_line(env: dict[str, str]) -> None:
    del env["TRULIOO_CLIENT_SECRET"]
    result = command(["token"], env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("httpie-trulioo: error: no client secret for client 'demo-client'")
    assert len(result.stderr.splitlines()) == 1


@posix_only("a pseudo-terminal")
def test_token_prompts_for_a_missing_secret_on_a_terminal(server: RunningServer, env: dict[str, str]) -> None:
    del env["TRULIOO_CLIENT_SECRET"]
    code, screen = run_on_a_terminal(
        [find_http("httpie-trulioo"), "token"],
        env,
        prompt=f"client secret for {CLIENT_ID} at {server.token_url}: ",
        answer=CLIENT_SECRET,
    )
    assert code == 0, screen
    (token,) = server.fake.issued
    assert token in screen
    assert CLIENT_SECRET not in screen


def test_token_endpoint_error_is_one_line(server: RunningServer, env: dict[str, str]) -> None:
    env["TRULIOO_CLIENT_SECRET"] = "wrong"
    result = command(["token"], env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        (
            "httpie-trulioo: error: the token endpoint answered 400 invalid_client "
            "(fake-trulioo: invalid_client): check the client id and secret, sent in the form "
            "(client_secret_post); if the server wants HTTP Basic, "
            f"set TRULIOO_AUTH_METHOD=client_secret_basic. {context_of(server)}"
        )
    ]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["nonsense"],
        ["token", "--bad"],
        ["token", "--min-ttl", "-5"],
        ["token", "--min-ttl", "soon"],
        ["clear", "--client-id"],
        ["clear", "-p"],
        ["login", "--secret"],
    ],
)
def test_usage_errors_exit_2(env: dict[str, str], args: list[str]) -> None:
    assert command(args, env).returncode == 2


@pytest.mark.parametrize("command_name", ["token", "status", "clear", "login", "logout"])
def test_help_on_each_subcommand(env: dict[str, str], command_name: str) -> None:
    result = command([command_name, "--help"], env)
    assert result.returncode == 0
    assert f"usage: httpie-trulioo {command_name}" in result.stdout


@pytest.mark.parametrize("args", [["--help"]])
def test_help(env: dict[str, str], args: list[str]) -> None:
    result = command(args, env)
    assert result.returncode == 0
    assert "usage: httpie-trulioo" in result.stdout


# --- httpie-trulioo status and clear ----------------------------------------------------------


def store(cache_dir: Path, client_id: str, scope: str, token: Token, **audience_resource: str) -> None:
    cache_dir.mkdir(mode=0o700, exist_ok=True)
    key = TokenKey("https://auth.example/connect/token", scope, client_id, **audience_resource)
    TokenCache(str(cache_dir), 1).store(key, token, "whatever")


@posix_only("SIGPIPE and its exit status")
@pytest.mark.parametrize("args", [["status"], ["status", "--json"], ["token", "--json"]])
def test_output_to_a_reader_that_has_gone_ends_quietly(
    server: RunningServer, env: dict[str, str], args: list[str]
) -> None:
    """``httpie-trulioo status | head -1``: the reader closes the pipe early, and that is no error."""
    assert command(["token"], env).returncode == 0
    reader, writer = os.pipe()
    os.close(reader)  # gone before anything is written: every write meets a closed pipe
    try:
        result = subprocess.run(
            [find_http("httpie-trulioo"), *args],
            env=env,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)
    assert (result.returncode, result.stderr) == (141, "")  # as a shell shows SIGPIPE: 128 + 13


def test_status_lists_entries_without_tokens(
    server: RunningServer, env: dict[str, str], cache_dir: Path
) -> None:
    assert command(["token"], env).returncode == 0
    store(cache_dir, "old-client", "napi.api", Token("old-token-value", 1_000_000_000.0, 1_000_003_600.0))
    result = command(["status"], env)
    assert result.returncode == 0
    blocks = re.split(r"\n(?=\S)", result.stdout.strip())
    assert blocks[0] == f"cache folder:  {cache_dir}"
    assert blocks[1].startswith("profiles file: ")
    (token,) = server.fake.issued
    fingerprint = hashlib.sha256(token.encode()).hexdigest()[-6:]
    assert blocks[2].startswith("active (http -A trulioo without @NAME): the TRULIOO_* variables\n")
    assert re.search(rf"\n  token      valid, expires in 60 min \(.*\), …{fingerprint}\n", blocks[2])
    assert "\n  granted    workflow.studio.api" in blocks[2]
    old_fingerprint = hashlib.sha256(b"old-token-value").hexdigest()[-6:]
    assert blocks[3].startswith("cached for client 'old-client' ")
    assert "\n  scope      napi.api\n" in blocks[3]
    assert re.search(rf"\n  token      expired at .*, …{old_fingerprint}\n", blocks[3])
    assert blocks[3].endswith("\n  granted    (not said)")  # the server did not say what it granted
    assert token not in result.stdout
    assert "old-token-value" not in result.stdout


def test_status_json_and_claims(server: RunningServer, env: dict[str, str], cache_dir: Path) -> None:
    command(["token"], env)
    result = command(["status", "--json", "--claims"], env)
    report = json.loads(result.stdout)
    assert report["cache_dir"] == str(cache_dir)
    settings = report["settings"]
    assert settings["scope"] == {
        "value": "workflow.studio.api",
        "source": "default",
        "variable": "TRULIOO_SCOPE",
        "default": "workflow.studio.api",
    }
    assert (settings["token_url"]["value"], settings["token_url"]["source"]) == (
        server.token_url,
        "TRULIOO_TOKEN_URL",
    )
    assert set(settings) == {
        "client_id", "token_url", "scope", "auth_method", "audience", "resource", "api_hosts", "token_buffer",
        "default_lifetime", "timeout", "cache_dir", "cache_enabled", "retry_401", "log",
    }  # fmt: skip
    (entry,) = report["tokens"]
    assert set(entry) == {
        "client_id", "profiles", "token_url", "scope", "granted_scope", "audience", "resource",
        "fingerprint", "obtained_at", "expires_at", "expires_in", "state", "expired", "claims",
    }  # fmt: skip
    assert (entry["granted_scope"], entry["audience"], entry["resource"]) == ("workflow.studio.api", "", "")
    assert (entry["profiles"], entry["state"]) == ([], "valid")
    assert entry["claims"]["client_id"] == CLIENT_ID
    assert entry["claims"]["scope"] == "workflow.studio.api"
    assert set(entry["claims"]) == {"scope", "aud", "client_id", "exp"}
    assert entry["expired"] is False
    (token,) = server.fake.issued
    assert token not in result.stdout
    text = command(["status", "--claims"], env).stdout
    assert '"aud": "trulioo-api"' in text
    assert token not in text


def test_status_shows_a_resource_only_where_an_entry_has_one_and_no_escapes(
    env: dict[str, str], cache_dir: Path
) -> None:
    later = time.time() + 3600
    store(cache_dir, "plain", "", Token("t1", later - 3600, later, scope="\x1b[31mread\nwrite"))
    assert "\n  resource" not in command(["status"], env).stdout
    store(cache_dir, "for-api", "", Token("t2", later - 3600, later), resource="https://api.example/")
    out = command(["status"], env).stdout
    assert out.count("\n  resource   https://api.example/\n") == 1
    assert "\n  audience" not in out
    assert "\n  granted     [31mread write\n" in out  # the server's text, without escapes or breaks
    assert "\x1b" not in out


def test_status_on_an_empty_cache(env: dict[str, str], cache_dir: Path) -> None:
    result = command(["status"], env)
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == f"cache folder:  {cache_dir} (none yet)"
    assert result.stdout.splitlines()[-1] == "no cached tokens"


def test_status_on_a_cache_folder_that_is_a_file(env: dict[str, str], cache_dir: Path) -> None:
    cache_dir.write_text("not a folder")
    result = command(["status"], env)
    assert result.returncode == 0
    assert (
        result.stdout.splitlines()[0]
        == f"cache folder:  {cache_dir} (not a folder: the cache cannot be used)"
    )


def test_leftover_temp_files_are_not_listed_and_are_cleared(env: dict[str, str], cache_dir: Path) -> None:
    command(["token"], env)
    (entry,) = cache_dir.glob("*.json")
    leftover = cache_dir / ".tmp-k1lled.json"
    leftover.write_bytes(entry.read_bytes())  # complete, but never renamed into place
    leftover.chmod(0o600)
    assert len(json.loads(command(["status", "--json"], env).stdout)["tokens"]) == 1
    assert command(["clear"], env).stdout == f"removed 1 cached token from {cache_dir}\n"
    assert sorted(path.name for path in cache_dir.iterdir() if path.suffix == ".json") == []


def test_clear_all_or_one_client(env: dict[str, str], cache_dir: Path) -> None:
    command(["token"], env)
    store(cache_dir, "other", "napi.api", Token("t1", 1.0, 2.0))
    store(cache_dir, "other", "workflow.studio.api", Token("t2", 1.0, 2.0))
    assert command(["clear", "--client-id", "other"], env).stdout == (
        f"removed 2 cached tokens of client 'other' from {cache_dir}\n"
    )
    assert command(["clear"], env).stdout == f"removed 1 cached token from {cache_dir}\n"
    assert not list(cache_dir.glob("*.json"))
    assert command(["status"], env).stdout.splitlines()[-1] == "no cached tokens"


# --- profiles ---------------------------------------------------------------------------------


def write_profiles(tmp_path: Path, text: str, env: dict[str, str]) -> Path:
    path = tmp_path / "profiles.toml"
    path.write_text(text)
    env["TRULIOO_CONFIG_FILE"] = str(path)
    return path


def test_profile_supplies_url_scope_client_and_secret_variable(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    del http_env["TRULIOO_TOKEN_URL"]
    write_profiles(
        tmp_path,
        f"""
[profiles.dev]
token_url = "{server.token_url}"
scope = "napi.api"
client_id = "{CLIENT_ID}"
secret_env = "DEV_SECRET"
""",
        http_env,
    )
    http_env.update(TRULIOO_PROFILE="dev", DEV_SECRET=CLIENT_SECRET)
    result = run_http(["-b", "--auth-type=trulioo", server.url + "/x"], http_env)
    assert result.returncode == 0, result.stderr
    assert server.fake.token_forms[-1]["scope"] == "napi.api"
    assert server.fake.token_forms[-1]["client_id"] == CLIENT_ID


def test_explicit_auth_and_variables_override_the_profile(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    write_profiles(
        tmp_path,
        """
[profiles.dev]
token_url = "https://auth-api-primary.dev.trulioo.com/connect/token"
scope = "napi.api"
client_id = "someone-else"
""",
        http_env,
    )
    http_env.update(TRULIOO_PROFILE="dev", TRULIOO_SCOPE="workflow.studio.api")
    result = run_http(["-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env)
    assert result.returncode == 0, result.stderr
    assert server.fake.token_forms == [token_form()]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[profiles.dev]\nscope = "napi.api"\nclient_secret = "oops"\n',
            ":3: profile 'dev' holds a client_secret; secrets do not belong in this file",
        ),
        ('[profiles.dev]\nscope = "napi.api"\nscope = = "x"\n', ": not valid TOML: "),
        ("[profiles.dev]\nscope = 5\n", ":2: scope in profile 'dev' must be a non-empty string."),
        ('[profiles.dev]\naudience = ""\n', ":2: audience in profile 'dev' must be a non-empty string."),
        (
            '[profiles.dev]\nauth_method = "basic"\n',
            (
                ":2: auth_method in profile 'dev' must be client_secret_post or client_secret_basic; "
                "it is 'basic'."
            ),
        ),
        ('[profiles.dev]\n\n\nscopes = "x"\n', ":4: unknown key 'scopes' in profile 'dev'"),
        ('[profiles.qa]\nscope = "x"\n', ": no profile named 'dev' (TRULIOO_PROFILE); profiles: qa."),
        ('profiles = "dev"\n', ":1: 'profiles' must be a table."),
    ],
)
def test_bad_profile_files_are_one_line_naming_file_and_line(
    http_env: dict[str, str], tmp_path: Path, server: RunningServer, text: str, expected: str
) -> None:
    path = write_profiles(tmp_path, text, http_env)
    http_env["TRULIOO_PROFILE"] = "dev"
    result = run_http(["-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env)
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith(f"http: error: ConfigurationError: {path}")
    assert expected in line
    assert "oops" not in result.stderr
    assert server.fake.token_requests == 0


def test_malformed_toml_names_the_line(
    http_env: dict[str, str], tmp_path: Path, server: RunningServer
) -> None:
    write_profiles(tmp_path, '[profiles.dev]\nscope = "a"\nscope = = "x"\n', http_env)
    http_env["TRULIOO_PROFILE"] = "dev"
    result = run_http(["-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env)
    assert "line 3" in result.stderr


def test_missing_profile_file(http_env: dict[str, str], tmp_path: Path, server: RunningServer) -> None:
    http_env.update(TRULIOO_PROFILE="dev", TRULIOO_CONFIG_FILE=str(tmp_path / "absent.toml"))
    result = run_http(["-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env)
    assert result.returncode == 1
    assert "absent.toml: no such file, so no profile 'dev' (TRULIOO_PROFILE)." in result.stderr


def test_default_profile_file_is_in_the_user_config_folder(env: dict[str, str], tmp_path: Path) -> None:
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    result = command(["status"], env)
    assert f"profiles file: {tmp_path / 'xdg' / 'httpie-trulioo' / 'config.toml'} (none yet)" in result.stdout


# --- logging ----------------------------------------------------------------------------------


def log_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [line for line in result.stderr.splitlines() if line]


def test_info_log_tells_each_decision_without_the_token(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    http_env["TRULIOO_LOG"] = "info"
    call = ["-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"]
    first = log_lines(run_http(call, http_env))
    (token,) = server.fake.issued
    short = hashlib.sha256(token.encode()).hexdigest()[-6:]
    about = f"httpie-trulioo: {context_of(server)}"
    assert first[0] == f"{about} cache miss (none)"
    assert re.fullmatch(rf"{re.escape(about)} token …{short} fetched in \d+ ms, expires in 60 min", first[1])
    assert log_lines(run_http(call, http_env)) == [f"{about} cache hit: token …{short} expires in 60 min"]
    server.fake.revoke_all()
    third = log_lines(run_http(call, http_env))
    (new,) = [issued for issued in server.fake.issued if issued != token]
    fresh = hashlib.sha256(new.encode()).hexdigest()[-6:]
    assert third[1].startswith(f"{about} token …{fresh} fetched in ")
    assert third[2] == f"{about} token …{short} was refused (401); got a new one (…{fresh}) and resent GET /x"
    everything = "\n".join(first + third)
    assert all(issued not in everything for issued in server.fake.issued)
    assert CLIENT_SECRET not in everything


def test_debug_log_tells_lock_waits(server: RunningServer, http_env: dict[str, str]) -> None:
    http_env["TRULIOO_LOG"] = "debug"
    lines = log_lines(run_http(["-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env))
    about = re.escape(f"httpie-trulioo: {context_of(server)}")
    assert any(re.fullmatch(rf"{about} lock waited \d+ ms", line) for line in lines)


@pytest.mark.parametrize(("content", "reason"), [(b"garbage", "corrupt"), (None, "expired")])
def test_log_says_why_the_cache_missed(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path, content: bytes | None, reason: str
) -> None:
    cache_dir.mkdir(mode=0o700)
    key = TokenKey(server.token_url, "workflow.studio.api", CLIENT_ID)
    cache = TokenCache(str(cache_dir), 1)
    if content is None:
        cache.store(key, Token("stale-token", 1_000_000_000.0, 1_000_003_600.0), CLIENT_SECRET)
    else:
        Path(cache.path(key)).write_bytes(content)
        Path(cache.path(key)).chmod(0o600)
    http_env["TRULIOO_LOG"] = "info"
    lines = log_lines(run_http(["-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env))
    assert lines[0] == f"httpie-trulioo: {context_of(server)} cache miss ({reason})"


def test_bad_log_level_names_the_variable(server: RunningServer, http_env: dict[str, str]) -> None:
    http_env["TRULIOO_LOG"] = "loud"
    result = run_http(["-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env)
    assert result.returncode == 1
    assert "TRULIOO_LOG must be one of warning, info, debug; it is 'loud'." in result.stderr


# --- --offline ---------------------------------------------------------------------------------


def test_offline_without_a_cached_token_shows_a_placeholder(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    result = run_http(
        ["--offline", "--print=H", "-A", "trulioo", "-a", AUTH, "POST", server.url + "/x", "a=b"], http_env
    )
    assert result.returncode == 0, result.stderr
    assert "Authorization: Bearer <token-not-fetched-offline>" in result.stdout
    assert server.fake.token_requests == 0


def test_a_resend_after_a_401_is_said_by_default_and_the_retry_can_be_turned_off(
    server: RunningServer, http_env: dict[str, str]
) -> None:
    """A tester who sees a 200 learns that a 401 came first; one who wants the 401 gets it (exit 4)."""
    call = ["--check-status", "-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"]
    assert run_http(call, http_env).returncode == 0
    server.fake.revoke_all()
    (refused,) = server.fake.issued
    http_env["TRULIOO_RETRY_401"] = "off"
    shown = run_http(call, http_env)
    assert shown.returncode == 4  # HTTPie's --check-status for a 4xx
    assert "was refused" not in shown.stderr
    assert server.fake.token_requests == 1
    del http_env["TRULIOO_RETRY_401"]
    resent = run_http(call, http_env)
    assert resent.returncode == 0, resent.stderr
    (new,) = [issued for issued in server.fake.issued if issued != refused]
    old_mark, new_mark = (hashlib.sha256(token.encode()).hexdigest()[-6:] for token in (refused, new))
    assert resent.stderr == (
        f"httpie-trulioo: {context_of(server)} token …{old_mark} was refused (401); got a new one "
        f"(…{new_mark}) and resent GET /x\n"
    )


def test_offline_with_a_fresh_cached_token_shows_it(server: RunningServer, http_env: dict[str, str]) -> None:
    assert run_http(["-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env).returncode == 0
    (token,) = server.fake.issued
    result = run_http(["--offline", "--print=H", "-A", "trulioo", "-a", AUTH, server.url + "/x"], http_env)
    assert f"Authorization: Bearer {token}" in result.stdout
    assert server.fake.token_requests == 1
    assert server.fake.api_requests == 1


# --- the demo -----------------------------------------------------------------------------------


def run_demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The README's demo, on a free port, stopping when it is done."""
    return subprocess.run(
        [sys.executable, str(TESTS / "fake_trulioo.py"), "--demo", "--exit", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_runs_and_shows_fetch_reuse_and_refresh(http_env: dict[str, str]) -> None:
    result = run_demo(http_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    order = [
        "# a first call fetches a token",
        "] cache miss (none)",
        "# the next call reuses it",
        "] cache hit: token …",
        "# a 401 is answered with a new token and the request is sent again",
        " was refused (401); got a new one (…",
        ") and resent POST /wfs/interpreter-v2/submit/demo-flow",
        "# what is cached",
        "cached for client 'demo-client' (named by --auth, or by nothing set now)",
    ]
    positions = [out.index(marker) for marker in order]
    assert positions == sorted(positions)


def comparable(transcript: str) -> str:
    """A demo's output with what changes from run to run made the same: ports, times, folders, tokens.

    Each token's fingerprint becomes its rank of first appearance: the same token must show the
    same fingerprint throughout, and a new one a new one.
    """
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", transcript)
    text = re.sub(r"\d+ ms\b", "N ms", text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+", "DATE", text)
    text = re.sub(r"^(cache folder|profiles file):( +)\S+", r"\1:\2PATH", text, flags=re.MULTILINE)
    ranks: dict[str, str] = {}
    return re.sub(r"…[0-9a-f]{6}\b", lambda found: ranks.setdefault(found[0], f"…#{len(ranks) + 1}"), text)


def test_the_readme_shows_what_the_demo_prints(http_env: dict[str, str]) -> None:
    result = run_demo(http_env)
    assert result.returncode == 0, result.stderr
    readme = (TESTS.parent / "README.md").read_text()
    start = readme.index("```\nfake Trulioo on ") + 4
    shown = readme[start : readme.index("\n```", start)]
    assert comparable(shown) == comparable(result.stdout.strip())


def test_the_demo_starts_cold_every_time_and_keeps_no_token(
    http_env: dict[str, str], cache_dir: Path
) -> None:
    http_env["TRULIOO_PROFILE"] = "mine"  # the user's own variables do not change what the demo shows
    runs = [run_demo(http_env) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
        first_log_line = next(line for line in run.stdout.splitlines() if line.startswith("httpie-trulioo:"))
        assert first_log_line.endswith("] cache miss (none)")
        folder = re.search(r"^cache folder:  (\S+)", run.stdout, re.MULTILINE)
        assert folder is not None
        assert Path(folder[1]).name == "cache"
        assert Path(folder[1]).parent.name.startswith("httpie-trulioo-demo-")
        assert not Path(folder[1]).parent.exists()  # removed when the server stopped
    assert not cache_dir.exists()  # the cache the environment names was never touched
