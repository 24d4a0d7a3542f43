"""End to end, a QA engineer's day: two clients (dev and prod) on two token hosts, chosen per call.

The installed http and httpie-trulioo commands run as subprocesses against two fake Trulioos on
127.0.0.1; prompts are answered on a real pseudo-terminal; the keyring is a real file keyring in
a temp folder.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_trulioo import FakeTrulioo, RunningServer
from harness import find_http, http_environment, run_on_a_terminal
from helpers import PYTHON, context_of, posix_only, run_http

from httpie_trulioo.cache import TokenCache, TokenKey
from httpie_trulioo.token import Token

pytestmark = pytest.mark.e2e

DEV_ID, DEV_SECRET = "dev-client", "dev-s3cret:x"
PROD_ID, PROD_SECRET = "prod-client", "prod-s3cret:y"


@pytest.fixture
def dev() -> Iterator[RunningServer]:
    with RunningServer(FakeTrulioo(clients={DEV_ID: DEV_SECRET})) as running:
        yield running


@pytest.fixture
def prod() -> Iterator[RunningServer]:
    with RunningServer(FakeTrulioo(clients={PROD_ID: PROD_SECRET})) as running:
        yield running


@pytest.fixture
def day(tmp_path: Path, dev: RunningServer, prod: RunningServer, cache_dir: Path) -> dict[str, str]:
    """A shell after the README's export steps for the dev client, with profiles dev and prod.

    The profiles file is at its default place (under XDG_CONFIG_HOME); each profile's secret is
    in the variable its secret_env names.
    """
    env = http_environment(tmp_path, dev.token_url, cache_dir)
    profiles = Path(env["XDG_CONFIG_HOME"]) / "httpie-trulioo" / "config.toml"
    profiles.parent.mkdir(parents=True)
    profiles.write_text(
        f"""
[profiles.dev]
token_url = "{dev.token_url}"
client_id = "{DEV_ID}"
secret_env = "DEV_SECRET"

[profiles.prod]
token_url = "{prod.token_url}"
client_id = "{PROD_ID}"
secret_env = "PROD_SECRET"
"""
    )
    profiles.chmod(0o600)
    env.update(
        TRULIOO_CLIENT_ID=DEV_ID,
        TRULIOO_CLIENT_SECRET=DEV_SECRET,
        DEV_SECRET=DEV_SECRET,
        PROD_SECRET=PROD_SECRET,
    )
    return env


def body(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.returncode == 0, result.stderr
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# --- choosing a profile per call ---------------------------------------------------------------


def test_at_profile_beats_the_exported_variables(
    dev: RunningServer, prod: RunningServer, day: dict[str, str]
) -> None:
    result = run_http(["-b", "-A", "trulioo", "-a", "@prod", prod.url + "/x"], day)
    assert body(result)["path"] == "/x"
    assert result.stderr == ""
    assert (prod.fake.token_requests, dev.fake.token_requests) == (1, 0)
    assert prod.fake.token_forms[0]["client_secret"] == PROD_SECRET


def test_trulioo_profile_under_exported_variables_says_which_override_it(
    dev: RunningServer, prod: RunningServer, day: dict[str, str]
) -> None:
    day["TRULIOO_PROFILE"] = "prod"
    result = run_http(["-b", "-A", "trulioo", "GET", prod.url + "/x"], day)
    assert one_line(result.stderr) == (
        "httpie-trulioo: TRULIOO_CLIENT_ID, TRULIOO_CLIENT_SECRET, TRULIOO_TOKEN_URL override profile "
        "'prod' (chosen by TRULIOO_PROFILE); to use the profile as it is, choose it with -a @prod "
        "(http) or --profile prod (httpie-trulioo)."
    )
    assert prod.fake.token_requests == 0  # the variables won, as they did: now it is said


def test_at_profile_with_a_secret_uses_that_secret(prod: RunningServer, day: dict[str, str]) -> None:
    day["PROD_SECRET"] = "not-this-one"
    body(run_http(["-b", "-A", "trulioo", "-a", f"@prod:{PROD_SECRET}", prod.url + "/x"], day))
    assert prod.fake.token_forms[0]["client_secret"] == PROD_SECRET


def test_an_unknown_profile_is_one_line(prod: RunningServer, day: dict[str, str]) -> None:
    result = run_http(["-b", "-A", "trulioo", "-a", "@stage", prod.url + "/x"], day)
    assert result.returncode == 1
    assert one_line(result.stderr).endswith(": no profile named 'stage'; profiles: dev, prod.")


@posix_only("a pseudo-terminal")
def test_a_session_remembers_the_profile_name_and_asks_for_a_secret_it_lacks(
    dev: RunningServer, day: dict[str, str], tmp_path: Path, cache_dir: Path
) -> None:
    body(run_http(["-b", "--session=qa", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day))
    (session_file,) = (tmp_path / "httpie-config" / "sessions").rglob("qa.json")
    assert json.loads(session_file.read_text())["auth"] == {"type": "trulioo", "raw_auth": "@dev"}
    body(run_http(["-b", "--session=qa", dev.url + "/x"], day))

    del day["DEV_SECRET"]  # reused on a terminal, without the secret at hand, when a token must be fetched
    for entry in cache_dir.glob("*.json"):
        entry.unlink()
    prompt = f"client secret for {DEV_ID} at {dev.token_url}: "
    code, screen = run_on_a_terminal(
        [find_http(), "-b", "--pretty=none", "--session=qa", dev.url + "/y"],
        day,
        prompt=prompt,
        answer=DEV_SECRET,
    )
    assert code == 0, screen
    assert prompt in screen  # the plugin asked
    assert '"path": "/y"' in screen
    assert DEV_SECRET not in screen + session_file.read_text()
    assert dev.fake.token_requests == 2  # the secret typed got the new token


def test_a_warm_call_does_not_prompt_on_the_terminal(dev: RunningServer, day: dict[str, str]) -> None:
    """A fresh cached token needs no secret: on a terminal, with no secret at hand, nothing is asked."""
    body(run_http(["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day))
    del day["DEV_SECRET"]
    prompt = f"client secret for {DEV_ID} at {dev.token_url}: "
    code, screen = run_on_a_terminal(
        [find_http(), "-b", "--pretty=none", "-A", "trulioo", "-a", "@dev", dev.url + "/y"],
        day,
        prompt=prompt,
        answer="never typed",
    )
    assert code == 0, screen
    assert prompt not in screen
    assert '"path": "/y"' in screen
    assert dev.fake.token_requests == 1


# --- the plugin's own prompt --------------------------------------------------------------------


@posix_only("a pseudo-terminal")
@pytest.mark.parametrize(
    ("key", "status", "said"),
    [
        (
            "\x04",
            1,
            "http: error: PromptCancelled: no client secret for {whose}: the prompt was closed (Ctrl-D).",
        ),
        ("\x03", 130, "httpie-trulioo: no client secret for {whose}: the prompt was interrupted (Ctrl-C)."),
    ],
)
def test_ctrl_d_or_ctrl_c_at_the_prompt_is_one_line(
    dev: RunningServer, day: dict[str, str], key: str, status: int, said: str
) -> None:
    """Ctrl-C exits 130, as a shell expects of an interrupted command; Ctrl-D is an error, 1."""
    del day["TRULIOO_CLIENT_SECRET"]
    prompt = f"client secret for {DEV_ID} at {dev.token_url}: "
    command = [find_http(), "-b", "-A", "trulioo", "-a", DEV_ID, dev.url + "/x"]
    code, screen = run_on_a_terminal(command, day, prompt=prompt, answer=key)
    assert code == status, screen
    after = re.sub(r"\x1b\[[0-9;]*m|\^C|\^D", "", screen.split(prompt, 1)[1])  # colours, echoed keys
    assert one_line(after) == said.format(whose=f"client '{DEV_ID}' at {dev.token_url}")
    assert dev.fake.token_requests == 0


def test_a_body_on_stdin_is_never_read_as_the_secret(dev: RunningServer, day: dict[str, str]) -> None:
    del day["TRULIOO_CLIENT_SECRET"]
    result = run_http(["-b", "-A", "trulioo", "-a", DEV_ID, "POST", dev.url + "/x"], day, stdin=b'{"a": 1}')
    assert result.returncode == 1
    assert one_line(result.stderr).startswith(
        f"http: error: ConfigurationError: no client secret for client '{DEV_ID}' at {dev.token_url}, and no "
        "terminal to ask on: "
    )
    assert dev.fake.token_requests == 0


# --- a helper command -------------------------------------------------------------------------


def helper(tmp_path: Path, day: dict[str, str], code: str) -> None:
    """Give profile dev a secret_cmd that runs this Python code, instead of its secret_env."""
    script = tmp_path / "secret helper.py"  # a space in the path: the command is split as a shell would
    script.write_text(code)
    profiles = Path(day["XDG_CONFIG_HOME"]) / "httpie-trulioo" / "config.toml"
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    text = profiles.read_text().replace('secret_env = "DEV_SECRET"', f"secret_cmd = {json.dumps(command)}", 1)
    profiles.write_text(text)
    day.pop("DEV_SECRET")


@posix_only("a secret_cmd split into words as a POSIX shell would")
def test_a_secret_cmd_gives_the_secret_and_leaves_stdin_to_the_body(
    dev: RunningServer, day: dict[str, str], tmp_path: Path
) -> None:
    helper(tmp_path, day, f"import sys; sys.stdin.read(); print({DEV_SECRET!r})")
    payload = b'{"from": "stdin"}'
    result = run_http(["-b", "-A", "trulioo", "-a", "@dev", "POST", dev.url + "/x"], day, stdin=payload)
    assert body(result)["body_length"] == len(payload)
    assert dev.fake.token_forms[0]["client_secret"] == DEV_SECRET


@posix_only("a secret_cmd split into words as a POSIX shell would")
def test_a_failing_secret_cmd_is_one_line_with_its_stderr_never_its_output(
    dev: RunningServer, day: dict[str, str], tmp_path: Path
) -> None:
    helper(tmp_path, day, "import sys; print('LEAKED-1'); sys.stderr.write('vault is locked'); sys.exit(2)")
    result = run_http(["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day)
    assert result.returncode == 1
    profiles = Path(day["XDG_CONFIG_HOME"]) / "httpie-trulioo" / "config.toml"
    assert one_line(result.stderr) == (
        f"http: error: SecretCommandFailed: the secret_cmd of profile dev ({profiles}:5) exited with "
        "status 2: vault is locked"
    )
    assert "LEAKED" not in result.stdout + result.stderr
    assert dev.fake.token_requests == 0


@posix_only("mode bits; on Windows the folder's ACL decides who may write")
@pytest.mark.parametrize("names_a_command", [True, False])
def test_a_profiles_file_others_can_write_is_refused_whatever_it_holds(
    dev: RunningServer, day: dict[str, str], tmp_path: Path, names_a_command: bool
) -> None:
    """A token URL and a secret_env, with no command at all, are enough to send a secret elsewhere."""
    if names_a_command:
        helper(tmp_path, day, f"print({DEV_SECRET!r})")
    profiles = Path(day["XDG_CONFIG_HOME"]) / "httpie-trulioo" / "config.toml"
    profiles.chmod(0o666)
    result = run_http(["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day)
    assert one_line(result.stderr) == (
        f"http: error: ConfigurationError: {profiles}: refusing a profiles file that others can write "
        f"(run: chmod go-w '{profiles}')."
    )
    assert dev.fake.token_requests == 0


# --- logs ---------------------------------------------------------------------------------------


def test_every_decision_names_profile_client_and_token_url(dev: RunningServer, day: dict[str, str]) -> None:
    day["TRULIOO_LOG"] = "info"
    result = run_http(["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day)
    lines = result.stderr.splitlines()
    about = f"httpie-trulioo: {context_of(dev, DEV_ID, profile='dev')} "
    assert [line.removeprefix(about).split(" …")[0] for line in lines] == [
        "client secret from profile dev secret_env DEV_SECRET",
        "cache miss (none)",
        "token",
    ]


# --- httpie-trulioo token -----------------------------------------------------------------------


def companion(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed httpie-trulioo command, with no terminal (a script's view)."""
    return subprocess.run(
        [find_http("httpie-trulioo"), *args],
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        check=False,
    )


def test_token_picks_a_profile_and_json_says_where_each_setting_came_from(
    prod: RunningServer, day: dict[str, str]
) -> None:
    result = companion(["token", "--profile", "prod", "--json"], day)
    assert result.returncode == 0, result.stderr
    details = json.loads(result.stdout)
    assert details["token"] in prod.fake.issued
    assert details["fingerprint"] == hashlib.sha256(details["token"].encode()).hexdigest()[-6:]
    assert (details["client_id"], details["profile"], details["token_url"]) == (
        PROD_ID,
        "prod",
        prod.token_url,
    )
    assert details["sources"] == {
        "client_id": "profile prod",
        "secret": "profile prod secret_env PROD_SECRET",
        "token_url": "profile prod",
        "scope": "default",
        "token_buffer": "default",
        "default_lifetime": "default",
        "timeout": "default",
        "cache_dir": "TRULIOO_CACHE_DIR",
        "cache_enabled": "default",
        "retry_401": "default",
        "api_hosts": "default",
        "auth_method": "default",
        "audience": "default",
        "resource": "default",
        "log": "default",
    }
    assert PROD_SECRET not in result.stdout + result.stderr


def test_token_refresh_replaces_a_revoked_token(dev: RunningServer, day: dict[str, str]) -> None:
    first = companion(["token"], day).stdout.strip()
    dev.fake.revoke_all()
    assert companion(["token"], day).stdout.strip() == first  # the cache cannot know it was revoked
    refreshed = companion(["token", "--refresh"], day).stdout.strip()
    assert refreshed not in ("", first)
    assert companion(["token"], day).stdout.strip() == refreshed  # it replaced the cached one
    assert dev.fake.token_requests == 2


def test_token_min_ttl_beyond_the_server_s_lifetime_is_one_line_and_no_request(
    dev: RunningServer, day: dict[str, str]
) -> None:
    first = companion(["token"], day).stdout.strip()
    assert companion(["token", "--min-ttl", "600"], day).stdout.strip() == first
    longer = companion(["token", "--min-ttl", "7200"], day)
    assert (longer.returncode, longer.stdout) == (1, "")
    assert re.fullmatch(
        r"httpie-trulioo: error: --min-ttl 7200 s is longer than the token endpoint's tokens live "
        r"\(\d+ s, [\d.]+ (min|h)\): ask for \d+ s or less\.\n",
        longer.stderr,
    )
    assert dev.fake.token_requests == 1  # the cached token told how long they live


# --- httpie-trulioo exec ------------------------------------------------------------------------

SHOW_TOKEN = "import os, sys; print(os.environ['TRULIOO_TOKEN']); sys.exit(int(sys.argv[1]))"


def test_exec_runs_a_command_with_the_token_and_exits_with_its_status(
    dev: RunningServer, day: dict[str, str]
) -> None:
    result = companion(["exec", "-p", "@dev", "--", PYTHON, "-c", SHOW_TOKEN, "3"], day)
    assert (result.returncode, result.stderr) == (3, "")
    (token,) = dev.fake.issued
    assert result.stdout == f"{token}\n"
    again = companion(["exec", "--", PYTHON, "-c", SHOW_TOKEN, "0"], day)  # the variables: the same client
    assert (again.returncode, again.stdout) == (0, f"{token}\n")  # the cached one
    assert dev.fake.token_requests == 1


def test_exec_of_a_missing_program_or_no_program_is_one_line(dev: RunningServer, day: dict[str, str]) -> None:
    missing = companion(["exec", "--", "no-such-program-here"], day)
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        127,
        "",
        "httpie-trulioo: error: cannot run 'no-such-program-here': no such program.\n",
    )
    nothing = companion(["exec"], day)
    assert (nothing.returncode, nothing.stdout, nothing.stderr) == (
        1,
        "",
        "httpie-trulioo: error: exec needs a command to run: httpie-trulioo exec -- COMMAND [ARG ...].\n",
    )


def test_token_without_a_secret_never_suggests_http_options(day: dict[str, str]) -> None:
    del day["PROD_SECRET"]
    result = companion(["token", "--profile", "prod"], day)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith(f"httpie-trulioo: error: no client secret for client '{PROD_ID}' at ")
    assert "--auth" not in line
    assert line.endswith("keep it in the OS keyring: httpie-trulioo login --profile prod.")


# --- httpie-trulioo status and clear --------------------------------------------------------------


def cache_entry(
    cache_dir: Path,
    server: RunningServer,
    client_id: str,
    *,
    lived: float,
    left: float,
    secret: str = "any secret",
) -> str:
    """Put a token in the cache, fetched with ``secret`` ``lived`` seconds ago, that expires in ``left``."""
    now = time.time()
    cache_dir.mkdir(mode=0o700, exist_ok=True)
    access_token = f"token-{client_id}-{left}"
    key = TokenKey(server.token_url, "workflow.studio.api", client_id)
    TokenCache(str(cache_dir), 1).store(key, Token(access_token, now - lived, now + left), secret)
    return hashlib.sha256(access_token.encode()).hexdigest()[-6:]


def test_status_shows_profile_zone_fingerprint_and_the_state_the_plugin_sees(
    dev: RunningServer, prod: RunningServer, day: dict[str, str], cache_dir: Path
) -> None:
    day["TRULIOO_LOG"] = "info"
    logged = run_http(["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day).stderr
    day["TRULIOO_TOKEN_BUFFER"] = "3000"  # a token with less than 3000 s left is refreshed
    due = cache_entry(cache_dir, prod, PROD_ID, lived=7200, left=600)
    gone = cache_entry(cache_dir, prod, "old-client", lived=7200, left=-60)
    day["TZ"] = "UTC"
    result = companion(["status"], day)
    assert (result.returncode, result.stderr) == (0, "")
    blocks = {block.splitlines()[0]: block for block in re.split(r"\n(?=\S)", result.stdout.strip())}
    (dev_token,) = dev.fake.issued
    fingerprint = hashlib.sha256(dev_token.encode()).hexdigest()[-6:]
    assert f"token …{fingerprint} fetched" in logged
    active = blocks["active (http -A trulioo without @NAME): the TRULIOO_* variables"]
    assert re.search(rf"\n  token      valid, expires in \d+ min \(\S+ \S+ UTC\), …{fingerprint}\n", active)
    assert "  secret     TRULIOO_CLIENT_SECRET\n" in active
    assert "  token      valid, expires in" in blocks["profile dev"]
    assert "\n  secret     profile dev secret_env DEV_SECRET\n" in blocks["profile dev"]
    assert re.search(
        rf"\n  token      refresh due, expires in 10 min \(.*\), …{due}\n", blocks["profile prod"]
    )
    (old,) = [block for title, block in blocks.items() if title.startswith("cached for client 'old-client'")]
    assert re.search(rf"\n  token      expired at \S+ \S+ UTC, …{gone}\n", old)
    assert dev_token not in result.stdout


# What status --check says of the chosen credentials' cached token: (seconds it lived and has
# left, or None for none cached), the line it prints, and its exit status.
CHECKS = {
    "none cached": (None, "no cached token for {whose}", 1),
    "valid": ((60, 3500), "valid: token …{fp} for {whose}, expires in 58 min", 0),
    "refresh due": ((7200, 600), "refresh due: token …{fp} for {whose}, expires in 10 min", 1),
    "expired": ((7200, -60), "expired: token …{fp} for {whose}, expired at ", 1),
}


@pytest.mark.parametrize("case", CHECKS)
def test_status_check_exits_0_only_for_a_token_the_plugin_would_send(
    prod: RunningServer, day: dict[str, str], cache_dir: Path, case: str
) -> None:
    lived_and_left, line, code = CHECKS[case]
    day["TRULIOO_TOKEN_BUFFER"] = "3000"
    fp = ""
    if lived_and_left is not None:
        lived, left = lived_and_left
        fp = cache_entry(cache_dir, prod, PROD_ID, lived=lived, left=left, secret=PROD_SECRET)
    cache_entry(cache_dir, prod, "someone-else", lived=60, left=3500)  # not the chosen client's
    result = companion(["status", "--check", "--profile", "prod"], day)
    assert (result.returncode, result.stderr) == (code, "")
    whose = f"client '{PROD_ID}' at {prod.token_url} (profile prod)"
    assert one_line(result.stdout).startswith(line.format(whose=whose, fp=fp))


def test_status_check_fails_for_a_token_another_secret_fetched(
    prod: RunningServer, day: dict[str, str], cache_dir: Path
) -> None:
    """The plugin would not send it (the secret at hand is another one), so neither does --check pass."""
    fp = cache_entry(cache_dir, prod, PROD_ID, lived=60, left=3500, secret="an old secret")
    result = companion(["status", "--check", "--profile", "prod"], day)
    assert result.returncode == 1
    whose = f"client '{PROD_ID}' at {prod.token_url} (profile prod)"
    assert one_line(result.stdout).startswith(f"fetched with another secret: token …{fp} for {whose}")


def test_clear_profile_removes_only_that_profiles_tokens(
    dev: RunningServer, prod: RunningServer, day: dict[str, str], cache_dir: Path
) -> None:
    body(run_http(["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day))
    body(run_http(["-b", "-A", "trulioo", "-a", "@prod", prod.url + "/x"], day))
    result = companion(["clear", "--profile", "prod"], day)
    whose = f"client '{PROD_ID}' at {prod.token_url} (profile prod)"
    assert result.stdout == f"removed 1 cached token of {whose} from {cache_dir}\n"
    (left,) = json.loads(companion(["status", "--json"], day).stdout)["tokens"]
    assert (left["client_id"], left["profiles"]) == (DEV_ID, ["dev"])


# --- login and logout: the OS keyring ------------------------------------------------------------


def test_login_checks_and_keeps_the_secret_and_logout_removes_it(
    dev: RunningServer, day: dict[str, str], cache_dir: Path
) -> None:
    del day["DEV_SECRET"]  # from now on the keyring is where the secret is
    login = companion(["login", "--profile", "dev", "--secret-stdin"], day, stdin=DEV_SECRET + "\n")
    profiles = Path(day["XDG_CONFIG_HOME"]) / "httpie-trulioo" / "config.toml"
    assert (login.returncode, login.stderr) == (
        0,
        (
            f"httpie-trulioo: note: profile dev ({profiles}:5) names secret_env DEV_SECRET: whenever "
            "DEV_SECRET is set, it is used instead of the keyring.\n"
        ),
    )
    assert login.stdout == (
        f"logged in client '{DEV_ID}' at {dev.token_url} (profile dev): the secret works and is kept in the "
        "keyring (keyrings.alt.file.PlaintextKeyring)\n"
    )
    keyring_file = Path(day["XDG_DATA_HOME"]) / "python_keyring" / "keyring_pass.cfg"
    assert keyring_file.is_file()
    assert DEV_SECRET not in keyring_file.read_text()  # this test backend only encodes it, though

    body(run_http(["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day))
    assert dev.fake.token_requests == 1  # login's token was cached and is used
    details = json.loads(companion(["token", "--profile", "dev", "--json"], day).stdout)
    assert details["sources"]["secret"] == "not read"  # a fresh token needs no secret
    details = json.loads(companion(["token", "--profile", "dev", "--json", "--refresh"], day).stdout)
    assert details["sources"]["secret"] == "keyring"
    assert dev.fake.token_requests == 2

    logout = companion(["logout", "--profile", "dev"], day)
    assert (logout.returncode, logout.stdout) == (
        0,
        (
            f"logged out client '{DEV_ID}' at {dev.token_url} (profile dev): removed the secret from the "
            "keyring, and 1 cached token\n"
        ),
    )
    again = companion(["logout", "--profile", "dev"], day)
    assert again.returncode == 1
    assert one_line(again.stderr).startswith("httpie-trulioo: not logged in: ")
    gone = run_http(["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day)
    assert gone.returncode == 1
    assert "no client secret for client 'dev-client'" in one_line(gone.stderr)


def test_logout_removes_every_token_of_the_client_whatever_its_scope(
    dev: RunningServer, day: dict[str, str], cache_dir: Path
) -> None:
    """A fresh token may be sent without the secret: logout leaves none of the client's behind."""
    del day["DEV_SECRET"]
    login = companion(["login", "--profile", "dev", "--secret-stdin"], day, stdin=DEV_SECRET + "\n")
    assert login.returncode == 0, login.stderr
    for scope in ("workflow.studio.api", "napi.api"):
        body(run_http(["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], {**day, "TRULIOO_SCOPE": scope}))
    cache_entry(cache_dir, dev, "another-client", lived=60, left=3500)
    assert len(list(cache_dir.glob("*.json"))) == 3
    logout = companion(["logout", "--profile", "dev"], day)
    assert logout.stdout.endswith("removed the secret from the keyring, and 2 cached tokens\n"), logout.stdout
    assert len(list(cache_dir.glob("*.json"))) == 1  # another client's stays
    gone = run_http(
        ["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], {**day, "TRULIOO_SCOPE": "napi.api"}
    )
    assert "no client secret for client 'dev-client'" in one_line(gone.stderr)


def test_status_check_creates_no_cache_folder(day: dict[str, str], cache_dir: Path) -> None:
    result = companion(["status", "--check", "--profile", "dev"], day)
    assert result.returncode == 1
    assert result.stdout.startswith("no cached token for client 'dev-client'")
    assert not cache_dir.exists()


def test_login_with_a_wrong_secret_keeps_nothing(dev: RunningServer, day: dict[str, str]) -> None:
    del day["DEV_SECRET"]  # it would be used instead of what login keeps: login would refuse
    result = companion(["login", "--profile", "dev", "--secret-stdin"], day, stdin="wrong\n")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(
        "httpie-trulioo: error: the token endpoint answered 400 invalid_client"
    )
    assert not (Path(day["XDG_DATA_HOME"]) / "python_keyring" / "keyring_pass.cfg").exists()


def test_login_asks_on_the_terminal(dev: RunningServer, day: dict[str, str]) -> None:
    del day["DEV_SECRET"]
    code, screen = run_on_a_terminal(
        [find_http("httpie-trulioo"), "login", "--profile", "dev"],
        day,
        prompt=f"client secret for {DEV_ID} at {dev.token_url}: ",
        answer=DEV_SECRET,
    )
    assert code == 0, screen
    assert "logged in client 'dev-client'" in screen
    assert DEV_SECRET not in screen


def test_login_without_the_keyring_package_says_how_to_install_it(day: dict[str, str]) -> None:
    del day["DEV_SECRET"]
    without_keyring = (
        "import sys; sys.modules['keyring'] = None; "  # what an install without the extra looks like
        "from httpie_trulioo.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", without_keyring, "login", "--profile", "dev", "--secret-stdin"],
        env=day,
        input=DEV_SECRET + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "httpie-trulioo: error: the OS keyring needs the keyring package: "
        "pip install 'httpie-trulioo[keyring]'."
    )
