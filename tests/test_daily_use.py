"""End to end, a QA engineer's day: two clients (dev and prod) on two token hosts, chosen per call.

The installed http and httpie-trulioo commands run as subprocesses against two fake Trulioos on
127.0.0.1; prompts are answered on a real pseudo-terminal; the keyring is a real file keyring in
a temp folder.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import context_of, posix_only, run_http
from fake_trulioo import FakeTrulioo, RunningServer
from harness import find_http, http_environment, run_on_a_terminal

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


def host(server: RunningServer) -> str:
    return server.url.split("://", 1)[1]


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
    dev: RunningServer, day: dict[str, str], tmp_path: Path
) -> None:
    body(run_http(["-b", "--session=qa", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day))
    (session_file,) = (tmp_path / "httpie-config" / "sessions").rglob("qa.json")
    assert json.loads(session_file.read_text())["auth"] == {"type": "trulioo", "raw_auth": "@dev"}
    body(run_http(["-b", "--session=qa", dev.url + "/x"], day))

    del day["DEV_SECRET"]  # reused on a terminal, without the secret at hand: the plugin asks
    code, screen = run_on_a_terminal(
        [find_http(), "-b", "--pretty=none", "--session=qa", dev.url + "/y"],
        day,
        prompt=f"client secret for {DEV_ID} at {host(dev)}: ",
        answer=DEV_SECRET,
    )
    assert code == 0, screen
    assert '"path": "/y"' in screen
    assert DEV_SECRET not in screen + session_file.read_text()
    assert dev.fake.token_requests == 1  # the secret typed is the one the cached token was for


# --- the plugin's own prompt --------------------------------------------------------------------


@posix_only("a pseudo-terminal")
@pytest.mark.parametrize(
    ("key", "why"),
    [("\x04", "the prompt was closed (Ctrl-D)"), ("\x03", "the prompt was interrupted (Ctrl-C)")],
)
def test_ctrl_d_or_ctrl_c_at_the_prompt_is_one_line(
    dev: RunningServer, day: dict[str, str], key: str, why: str
) -> None:
    del day["TRULIOO_CLIENT_SECRET"]
    prompt = f"client secret for {DEV_ID} at {host(dev)}: "
    command = [find_http(), "-b", "-A", "trulioo", "-a", DEV_ID, dev.url + "/x"]
    code, screen = run_on_a_terminal(command, day, prompt=prompt, answer=key)
    assert code == 1, screen
    after = re.sub(r"\x1b\[[0-9;]*m|\^C|\^D", "", screen.split(prompt, 1)[1])  # colours, echoed keys
    assert one_line(after) == (
        f"http: error: PromptCancelled: no client secret for client '{DEV_ID}' at {host(dev)}: {why}."
    )
    assert dev.fake.token_requests == 0


def test_a_body_on_stdin_is_never_read_as_the_secret(dev: RunningServer, day: dict[str, str]) -> None:
    del day["TRULIOO_CLIENT_SECRET"]
    result = run_http(["-b", "-A", "trulioo", "-a", DEV_ID, "POST", dev.url + "/x"], day, stdin=b'{"a": 1}')
    assert result.returncode == 1
    assert one_line(result.stderr).startswith(
        f"http: error: ConfigurationError: no client secret for client '{DEV_ID}' at {host(dev)}, and no "
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
def test_a_failing_secret_cmd_is_one_line_that_never_shows_its_output(
    dev: RunningServer, day: dict[str, str], tmp_path: Path
) -> None:
    helper(tmp_path, day, "import sys; print('LEAKED-1'); sys.stderr.write('LEAKED-2'); sys.exit(2)")
    result = run_http(["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        "http: error: SecretCommandFailed: the secret_cmd of profile 'dev' exited with status 2 (its "
        "output is not shown: run it yourself to see why)."
    )
    assert "LEAKED" not in result.stdout + result.stderr
    assert dev.fake.token_requests == 0


@posix_only("mode bits; on Windows the folder's ACL decides who may write")
def test_a_profiles_file_others_can_write_is_refused_when_it_names_a_command(
    dev: RunningServer, day: dict[str, str], tmp_path: Path
) -> None:
    helper(tmp_path, day, f"print({DEV_SECRET!r})")
    profiles = Path(day["XDG_CONFIG_HOME"]) / "httpie-trulioo" / "config.toml"
    profiles.chmod(0o666)
    result = run_http(["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day)
    assert one_line(result.stderr) == (
        f"http: error: ConfigurationError: {profiles}: refusing a profiles file that names a secret_cmd "
        f"and that others can write (run: chmod go-w '{profiles}')."
    )
    assert dev.fake.token_requests == 0


# --- logs ---------------------------------------------------------------------------------------


def test_every_decision_names_profile_client_and_token_host(dev: RunningServer, day: dict[str, str]) -> None:
    day["TRULIOO_LOG"] = "info"
    result = run_http(["-b", "-A", "trulioo", "-a", "@dev", dev.url + "/x"], day)
    lines = result.stderr.splitlines()
    about = f"httpie-trulioo: {context_of(dev, DEV_ID, profile='dev')} "
    assert [line.removeprefix(about).split(" …")[0] for line in lines] == [
        "client secret from profile dev secret_env DEV_SECRET",
        "cache miss (none)",
        "token",
    ]
