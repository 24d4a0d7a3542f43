"""The httpie-trulioo command, run in-process: what each command prints, exits with and leaves behind.

``main([...])`` runs as the installed command does, against the fake Trulioo on 127.0.0.1, a cache
folder and profiles file of the test's own, and the real file keyring the tests install (keyrings.alt).
The command's clock is frozen, and times are shown in UTC, so that every line can be asserted whole.
"""

from __future__ import annotations

import errno
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fake_trulioo import FakeTrulioo, RunningServer, make_jwt
from harness import private_folders
from helpers import CLIENT_ID, CLIENT_SECRET, posix_only

from httpie_trulioo import __version__, cache, cli, secret_sources
from httpie_trulioo.cache import TokenCache, TokenKey
from httpie_trulioo.cli import main
from httpie_trulioo.token import Token, fingerprint

# The time the status listings are frozen at: 2027-01-15 08:00:00 UTC.
LISTED_AT = 1_800_000_000.0
OTHER_URL = "https://auth.example/connect/token"
SCOPE = "workflow.studio.api"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command with ``args``: its exit status, stdout and stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int | str | None, str]:
    """Run the command with ``args`` that argparse stops: the exit status and the last line of stderr."""
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    out, err = capsys.readouterr()
    assert out == ""
    return stopped.value.code, err.splitlines()[-1]


def freeze(monkeypatch: pytest.MonkeyPatch, at: float) -> float:
    """Make the command read ``at`` as the time now (``time.time`` is its only clock)."""
    monkeypatch.setattr(cli, "time", SimpleNamespace(time=lambda: at))
    return at


def store(cache_dir: Path, key: TokenKey, token: Token, secret: str = "any secret") -> str:
    """Put a token in the cache as a call that fetched it with ``secret`` would; return its fingerprint."""
    cache_dir.mkdir(mode=0o700, exist_ok=True)
    TokenCache(str(cache_dir), 1).store(key, token, secret)
    return fingerprint(token.access_token)


def write(path: Path, text: str) -> Path:
    """Write an owner-only file, and the folders it needs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
    return path


def utc(epoch: float, form: str = "%Y-%m-%d %H:%M:%S UTC") -> str:
    return time.strftime(form, time.gmtime(epoch))


@pytest.fixture(autouse=True)
def _no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """No terminal to prompt on, as in a script or CI, whatever runs the tests; a test may give one."""
    monkeypatch.setattr(secret_sources, "can_prompt", lambda: False)


@pytest.fixture
def env(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No TRULIOO_* variable but the cache folder; HOME, XDG folders and keyring of this test alone.

    Returns the profiles file's place (the default one, in the test's config folder).
    """
    for name in list(os.environ):
        if name.startswith("TRULIOO_"):
            monkeypatch.delenv(name)
    for name, value in private_folders(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TRULIOO_CACHE_DIR", str(cache_dir))
    return tmp_path / "xdg-config" / "httpie-trulioo" / "config.toml"


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> float:
    """The command's clock, frozen at a whole second of the real time (the provider reads the real one)."""
    return freeze(monkeypatch, float(int(time.time())))


@pytest.fixture
def fake(now: float) -> FakeTrulioo:
    """The fake Trulioo on the command's clock: its JWTs expire at ``now + 3000``, before its ExpiresIn."""
    return FakeTrulioo(clock=lambda: now, jwt_exp_offset=3000.0)


@pytest.fixture
def client(env: Path, server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> RunningServer:
    """The demo client in TRULIOO_* variables, as a script exports it, at the fake's token URL."""
    monkeypatch.setenv("TRULIOO_TOKEN_URL", server.token_url)
    monkeypatch.setenv("TRULIOO_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("TRULIOO_CLIENT_SECRET", CLIENT_SECRET)
    return server


@pytest.fixture
def dev(client: RunningServer, env: Path) -> RunningServer:
    """A profile dev for another client of the fake, beside the demo client of the variables."""
    client.fake.clients["dev-client"] = "dev-s3cret"
    profile = f'token_url = "{client.token_url}"\nclient_id = "dev-client"\nsecret_env = "DEV_SECRET"\n'
    write(env, "[profiles.dev]\n" + profile)
    return client


@pytest.fixture
def in_utc() -> Iterator[None]:
    """Local time is UTC for the test."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset (POSIX) to show local times in UTC")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


# --- usage -----------------------------------------------------------------------------------------

HELP = {
    "": """\
usage: httpie-trulioo [-h] [--version] COMMAND ...

Trulioo client-credentials tokens, as http --auth-type=trulioo caches them.

options:
  -h, --help  show this help message and exit
  --version   show the version and exit

commands:
  COMMAND
    token     print a valid bearer token (cached, or fetched)
    exec      run a command with a valid token in TRULIOO_TOKEN
    status    show each profile, login and cached token (never a secret or a token)
    clear     remove cached tokens
    login     check a client secret and keep it in the OS keyring
    logout    remove the client secret from the OS keyring, and the cached tokens
    completion
              print a shell completion script

Settings come from -p/--profile, TRULIOO_PROFILE and TRULIOO_* variables, as for the plugin.
""",
    "token": """\
usage: httpie-trulioo token [-h] [-p NAME] [--client-id ID] [--json] [--refresh]
                            [--min-ttl SECONDS]

Print a valid bearer token to stdout, from the cache or fetched, e.g. curl -H "Authorization:
Bearer $(httpie-trulioo token)" ...

options:
  -h, --help            show this help message and exit
  -p NAME, --profile NAME
                        use this profile of the profiles file (NAME or @NAME); its values beat the
                        TRULIOO_* variables
  --client-id ID        this client id, over the profile's and TRULIOO_CLIENT_ID
  --json                print the token with its expiry, settings and their sources
  --refresh             get a new token now and replace the cached one
  --min-ttl SECONDS     get a new token unless the cached one lives at least this long
""",
    "exec": """\
usage: httpie-trulioo exec [-h] [-p NAME] [--client-id ID] [--min-ttl SECONDS] -- COMMAND [ARG ...]

Run COMMAND (no shell) with a valid bearer token, cached or fetched, in its environment as
TRULIOO_TOKEN, and exit with its exit status: httpie-trulioo exec -p dev -- pytest tests/api, or,
for a tool that takes the token as an argument, a shell: httpie-trulioo exec -- sh -c 'newman run
suite.json --env-var "token=$TRULIOO_TOKEN"'.

options:
  -h, --help            show this help message and exit
  -p NAME, --profile NAME
                        use this profile of the profiles file (NAME or @NAME); its values beat the
                        TRULIOO_* variables
  --client-id ID        this client id, over the profile's and TRULIOO_CLIENT_ID
  --min-ttl SECONDS     get a new token unless the cached one lives at least this long (a long
                        test run)
""",
    "status": """\
usage: httpie-trulioo status [-h] [-p NAME] [--client-id ID] [--json] [--claims] [--check]

Show the active credentials (what http -A trulioo uses without @NAME), each profile and each login
in the keyring: the client, token URL and scope, where the secret would come from, and the state
of the cached token: valid, refresh due (the next call gets a new one) or expired, with its
fingerprint as logged. Then the cached tokens none of them gets. With --profile or --client-id,
only that choice.

options:
  -h, --help            show this help message and exit
  -p NAME, --profile NAME
                        use this profile of the profiles file (NAME or @NAME); its values beat the
                        TRULIOO_* variables
  --client-id ID        this client id, over the profile's and TRULIOO_CLIENT_ID
  --json                print JSON for scripts
  --claims              add the JWT claims scope, aud, client_id, exp
  --check               print one line; exit 0 only if the chosen credentials (--profile,
                        TRULIOO_PROFILE or variables) have a valid cached token, else 1
""",
    "clear": """\
usage: httpie-trulioo clear [-h] [-p NAME] [--client-id ID] [--json]

Remove every cached token; with --profile, only the token that profile gets; with --client-id
alone, every token of that client. Exit 1 when nothing was removed.

options:
  -h, --help            show this help message and exit
  -p NAME, --profile NAME
                        use this profile of the profiles file (NAME or @NAME); its values beat the
                        TRULIOO_* variables
  --client-id ID        this client id, over the profile's and TRULIOO_CLIENT_ID
  --json                print JSON for scripts
""",
    "login": """\
usage: httpie-trulioo login [-h] [-p NAME] [--client-id ID] [--secret-stdin] [--json]

Ask for the client secret (or read it from stdin), check it by getting a token, and keep it in the
OS keyring, where http -A trulioo and this command find it. Needs the keyring extra: pip install
'httpie-trulioo[keyring]'.

options:
  -h, --help            show this help message and exit
  -p NAME, --profile NAME
                        use this profile of the profiles file (NAME or @NAME); its values beat the
                        TRULIOO_* variables
  --client-id ID        this client id, over the profile's and TRULIOO_CLIENT_ID
  --secret-stdin        read the secret from the first line of stdin
  --json                print JSON for scripts
""",
    "logout": """\
usage: httpie-trulioo logout [-h] [-p NAME] [--client-id ID] [--json]

Remove the chosen client's secret from the OS keyring, and its cached tokens.

options:
  -h, --help            show this help message and exit
  -p NAME, --profile NAME
                        use this profile of the profiles file (NAME or @NAME); its values beat the
                        TRULIOO_* variables
  --client-id ID        this client id, over the profile's and TRULIOO_CLIENT_ID
  --json                print JSON for scripts
""",
    "completion": """\
usage: httpie-trulioo completion [-h] SHELL

Print a script that completes the commands, options and profile names of
httpie-trulioo in SHELL; it reads the names from the profiles file at each TAB. Load it once:

  bash  add to ~/.bashrc: eval "$(httpie-trulioo completion bash)"
  zsh   mkdir -p ~/.zfunc && httpie-trulioo completion zsh > ~/.zfunc/_httpie-trulioo
        and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)
  fish  httpie-trulioo completion fish > ~/.config/fish/completions/httpie-trulioo.fish

positional arguments:
  SHELL       bash, zsh or fish

options:
  -h, --help  show this help message and exit
""",
}


def words_of_help(text: str) -> list[str]:
    """argparse's help as words: Python 3.13 writes "-p, --profile NAME" where 3.11 writes
    "-p NAME, --profile NAME", and aligns the columns to that."""
    return text.replace("-p NAME, --profile NAME", "-p, --profile NAME").split()


@pytest.mark.parametrize("command", HELP)
def test_help_says_what_each_command_does_and_takes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to the terminal's width
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    with pytest.raises(SystemExit) as stopped:
        main([command, "--help"] if command else ["--help"])
    assert stopped.value.code == 0
    out, err = capsys.readouterr()
    assert (words_of_help(out), err) == (words_of_help(HELP[command]), "")


def test_version_is_the_package_s_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr() == (f"httpie-trulioo {__version__}\n", "")  # stdout: `> file` keeps it


# Command lines argparse stops, and the last line it prints. No option may be shortened: an option
# added later could make a short form mean another one.
BAD_USAGE = {
    "no command": ([], "httpie-trulioo: error: the following arguments are required: COMMAND"),
    "--vers": (["--vers", "status"], "httpie-trulioo: error: unrecognized arguments: --vers"),
    "token --js": (["token", "--js"], "httpie-trulioo: error: unrecognized arguments: --js"),
    "status --chec": (["status", "--chec"], "httpie-trulioo: error: unrecognized arguments: --chec"),
    "clear --client": (
        ["clear", "--client", "x"],
        "httpie-trulioo: error: unrecognized arguments: --client x",
    ),
    "login --secret": (["login", "--secret"], "httpie-trulioo: error: unrecognized arguments: --secret"),
    "logout --prof": (["logout", "--prof", "x"], "httpie-trulioo: error: unrecognized arguments: --prof x"),
    "-p without a name": (
        ["status", "-p"],
        "httpie-trulioo status: error: argument -p/--profile: expected one argument",
    ),
    **{
        f"--min-ttl {given}": (
            ["token", "--min-ttl", given],
            (
                "httpie-trulioo token: error: argument --min-ttl: must be a number of seconds, 0 or more; "
                f"it is {given!r}"
            ),
        )
        for given in ("-5", "-0.5", "soon", "inf", "nan")
    },
}


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("case", BAD_USAGE)
def test_bad_usage_exits_2_with_one_line_saying_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    args, line = BAD_USAGE[case]
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # nothing to read, should a command run
    assert usage_error(capsys, *args) == (2, line)


# --- token -----------------------------------------------------------------------------------------


def test_token_prints_a_bare_token_then_reuses_it(
    capsys: pytest.CaptureFixture[str], client: RunningServer
) -> None:
    first = run(capsys, "token")
    (token,) = client.fake.issued
    assert first == (0, f"{token}\n", "")
    assert run(capsys, "token") == first
    assert client.fake.token_requests == 1


def test_token_json_gives_expiry_settings_and_their_sources_never_the_secret(
    capsys: pytest.CaptureFixture[str], client: RunningServer, now: float
) -> None:
    code, out, err = run(capsys, "token", "--json")
    (token,) = client.fake.issued
    expected = {
        "token": token,
        "fingerprint": fingerprint(token),
        "expires_at": utc(now + 3000, "%Y-%m-%dT%H:%M:%SZ"),  # the JWT's exp
        "expires_in": 3000,
        "token_url": client.token_url,
        "scope": SCOPE,
        "client_id": CLIENT_ID,
        "audience": "",
        "resource": "",
        "profile": None,
        "sources": {
            "client_id": "TRULIOO_CLIENT_ID",
            "token_url": "TRULIOO_TOKEN_URL",
            "scope": "default",
            "auth_method": "default",
            "audience": "default",
            "resource": "default",
            "api_hosts": "default",
            "token_buffer": "default",
            "default_lifetime": "default",
            "timeout": "default",
            "cache_dir": "TRULIOO_CACHE_DIR",
            "cache_enabled": "default",
            "retry_401": "default",
            "log": "default",
            "secret": "TRULIOO_CLIENT_SECRET",
        },
        "granted_scope": SCOPE,
    }
    assert (code, err) == (0, "")
    assert out == json.dumps(expected, indent=2) + "\n"
    assert CLIENT_SECRET not in out


def test_token_refresh_replaces_the_cached_token(
    capsys: pytest.CaptureFixture[str], client: RunningServer
) -> None:
    _, first, _ = run(capsys, "token")
    code, refreshed, err = run(capsys, "token", "--refresh")
    assert (code, err) == (0, "")
    assert refreshed not in ("", first)
    assert run(capsys, "token") == (0, refreshed, "")
    assert client.fake.token_requests == 2


def test_token_min_ttl_gets_a_token_that_lives_that_long_or_says_it_could_not(
    capsys: pytest.CaptureFixture[str], client: RunningServer
) -> None:
    # Every token of the fake lives 3000 s.
    code, first, err = run(capsys, "token", "--min-ttl", "3000")
    assert (code, err) == (0, "")  # it lives as long as asked
    assert run(capsys, "token", "--min-ttl", "600") == (0, first, "")
    too_long = (
        "httpie-trulioo: error: --min-ttl 3500 s is longer than the token endpoint's tokens live "
        "(3000 s, 50 min): ask for 3000 s or less.\n"
    )
    # The cached token says how long the server's tokens live: no request is made for more.
    assert run(capsys, "token", "--min-ttl", "3500") == (1, "", too_long)
    assert client.fake.token_requests == 1
    # A new token that lives less than asked is not printed either.
    code, out, err = run(capsys, "token", "--refresh", "--min-ttl", "3500")
    assert (code, out, err) == (1, "", too_long)
    second = list(client.fake.issued)[-1]
    assert second != first
    for seconds in ("0.5", "0"):
        assert run(capsys, "token", "--min-ttl", seconds) == (0, f"{second}\n", "")
    assert client.fake.token_requests == 2


def test_min_ttl_cannot_be_promised_for_a_token_without_expiry(
    capsys: pytest.CaptureFixture[str], client: RunningServer
) -> None:
    client.fake.expires_in = None
    client.fake.token_kind = "opaque"
    code, out, err = run(capsys, "token", "--min-ttl", "60")
    assert (code, out) == (1, "")
    assert err.endswith(
        "httpie-trulioo: error: the token endpoint gives tokens without an expiry, so none can be "
        "promised to live --min-ttl 60 s; leave --min-ttl out.\n"
    )


def test_a_token_without_expiry_is_printed_with_one_warning_and_no_times(
    capsys: pytest.CaptureFixture[str], client: RunningServer
) -> None:
    client.fake.expires_in = None
    client.fake.token_kind = "opaque"
    warning = (
        f"httpie-trulioo: [client {CLIENT_ID} @ {client.token_url}] the token endpoint gave no expiry (no "
        "ExpiresIn, no JWT exp); the token is used for this call only.\n"
    )
    code, out, err = run(capsys, "token")
    (first,) = client.fake.issued
    assert (code, out, err) == (0, f"{first}\n", warning)
    code, out, err = run(capsys, "token", "--json")
    assert (code, err) == (0, warning)
    details = json.loads(out)
    (second,) = set(client.fake.issued) - {first}  # never cached: fetched again
    assert (details["token"], details["expires_at"], details["expires_in"]) == (
        second,
        None,
        None,
    )


def test_token_without_a_secret_or_a_terminal_is_one_line_naming_the_ways_to_give_it(
    capsys: pytest.CaptureFixture[str], client: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRULIOO_CLIENT_SECRET")
    assert run(capsys, "token") == (
        1,
        "",
        (
            f"httpie-trulioo: error: no client secret for client '{CLIENT_ID}' at {client.token_url}, and no "
            "terminal to ask on: set TRULIOO_CLIENT_SECRET, or keep it in the OS keyring: httpie-trulioo "
            "login.\n"
        ),
    )
    assert client.fake.token_requests == 0


def test_token_profile_beats_the_variables_and_json_says_where_each_value_came_from(
    capsys: pytest.CaptureFixture[str], dev: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEV_SECRET", "dev-s3cret")
    code, out, err = run(capsys, "token", "--profile", "dev", "--json")
    assert (code, err) == (0, "")
    details = json.loads(out)
    (token,) = dev.fake.issued  # to the profile's client, not the variables' demo client
    assert (details["client_id"], details["profile"], details["token"]) == ("dev-client", "dev", token)
    assert dev.fake.issued[token][1] == "dev-client"
    assert {name: details["sources"][name] for name in ("client_id", "token_url", "secret")} == {
        "client_id": "profile dev",
        "token_url": "profile dev",
        "secret": "profile dev secret_env DEV_SECRET",
    }


def answering(monkeypatch: pytest.MonkeyPatch, answer: str) -> list[str]:
    """A terminal where a person types ``answer`` at the prompt; the prompts shown are listed."""
    import getpass  # noqa: PLC0415 - only the prompt tests replace the person at the terminal

    prompts: list[str] = []

    def person(prompt: str = "") -> str:
        prompts.append(prompt)
        return answer

    monkeypatch.setattr(secret_sources, "can_prompt", lambda: True)
    monkeypatch.setattr(getpass, "getpass", person)
    return prompts


def test_token_asks_on_the_terminal_for_a_missing_secret(
    capsys: pytest.CaptureFixture[str], client: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRULIOO_CLIENT_SECRET")
    prompts = answering(monkeypatch, CLIENT_SECRET)
    code, out, err = run(capsys, "token")
    (token,) = client.fake.issued
    assert (code, out, err) == (0, f"{token}\n", "")
    assert prompts == [f"client secret for {CLIENT_ID} at {client.token_url}: "]


# --- status ----------------------------------------------------------------------------------------

PROFILES = f"""
[profiles.dev]
token_url = "{OTHER_URL}"
client_id = "dev-client"

[profiles.qa]
token_url = "{OTHER_URL}"
client_id = "dev-client"
scope = "{SCOPE}"

[profiles.prod]
token_url = "{OTHER_URL}"
client_id = "prod-client"
secret_env = "PROD_SECRET"
"""


DEV_CLAIMS = {
    "iss": "fake-trulioo",
    "client_id": "dev-client",
    "scope": SCOPE,
    "aud": "trulioo-api",
    "exp": int(LISTED_AT) + 3540,
    "jti": "0123456789abcdef",
}
DEV_JWT = make_jwt(DEV_CLAIMS)


@pytest.fixture
def listed(env: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Four cached tokens as of ``LISTED_AT``, where the command's clock stands; profiles dev and qa
    (one client, one token) and prod.

    Returns each token's fingerprint by its client id.
    """
    freeze(monkeypatch, LISTED_AT)
    write(env, PROFILES)
    at = LISTED_AT
    tokens = {
        # valid: profiles dev and qa get it
        TokenKey(OTHER_URL, SCOPE, "dev-client"): Token(DEV_JWT, at - 60, at + 3540, SCOPE),
        # refresh due, with a granted scope of control characters and a line break
        TokenKey(OTHER_URL, "napi.api", "soon-client"): Token(
            "soon-token", at - 3599, at + 1, "\x1b[31mread\nw"
        ),
        # expired this very second; no scope asked for, none said granted; a password in its URL
        TokenKey("https://demo:hunter2@auth.example/connect/token", "", "old-client"): Token(
            "old-token", at - 3600, at
        ),
        # expired at the start of POSIX time
        TokenKey(OTHER_URL, SCOPE, "epoch-client"): Token("epoch-token", 0.0, 0.0, SCOPE),
    }
    return {key.client_id: store(cache_dir, key, token) for key, token in tokens.items()}


def blocks_of(out: str) -> list[str]:
    """The blocks of status's output: each unindented line with the indented lines below it."""
    blocks: list[str] = []
    for line in out.splitlines():
        if line.startswith(" ") and blocks:
            blocks[-1] += "\n" + line
        else:
            blocks.append(line)
    return blocks


NO_SECRET_AT_HAND = "none at hand: log in (httpie-trulioo login), or type it when asked"


@pytest.mark.usefixtures("in_utc")
def test_status_shows_each_profile_and_each_cached_token_with_its_state_and_never_the_token(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path, listed: dict[str, str]
) -> None:
    code, out, err = run(capsys, "status", "--claims")
    assert (code, err) == (0, "")
    assert max(len(line) for line in out.splitlines()[2:]) <= 100  # below the two paths of this machine
    fp = listed  # each token's fingerprint, by client id
    claims = (
        '  claims     {"scope": "workflow.studio.api", "aud": "trulioo-api", "client_id": "dev-client",\n'
        '             "exp": 1800003540}'
    )
    dev_token = (
        f"  token      valid, expires in 59 min (2027-01-15 08:59:00 UTC), …{fp['dev-client']}\n"
        f"  granted    workflow.studio.api\n{claims}"
    )
    blocks = blocks_of(out)
    assert blocks[:5] == [
        f"cache folder:  {cache_dir}",
        f"profiles file: {env}",
        (
            "profile dev\n  client     dev-client\n"
            f"  token URL  {OTHER_URL}\n  scope      workflow.studio.api\n"
            f"  secret     {NO_SECRET_AT_HAND}\n{dev_token}"
        ),
        (
            "profile prod\n  client     prod-client\n"
            f"  token URL  {OTHER_URL}\n  scope      workflow.studio.api\n"
            "  secret     none at hand: set PROD_SECRET (its secret_env), log in (httpie-trulioo login), or "
            "type\n             it when asked\n"
            "  token      none cached"
        ),
        (
            "profile qa\n  client     dev-client\n"
            f"  token URL  {OTHER_URL}\n  scope      workflow.studio.api\n"
            f"  secret     {NO_SECRET_AT_HAND}\n{dev_token}"
        ),
    ]
    # Tokens no profile gets, in the order of the cache's file names.
    unchosen = "(named by --auth, or by nothing set now)"
    assert sorted(blocks[5:]) == [
        (
            f"cached for client 'epoch-client' {unchosen}\n"
            f"  token URL  {OTHER_URL}\n  scope      workflow.studio.api\n"
            f"  token      expired at 1970-01-01 00:00:00 UTC, …{fp['epoch-client']}\n"
            "  granted    workflow.studio.api\n  claims     null"
        ),
        (
            f"cached for client 'old-client' {unchosen}\n"
            '  token URL  https://***@auth.example/connect/token\n  scope      "" (none asked for)\n'
            f"  token      expired at 2027-01-15 08:00:00 UTC, …{fp['old-client']}\n"
            "  granted    (not said)\n  claims     null"
        ),
        (
            f"cached for client 'soon-client' {unchosen}\n"
            f"  token URL  {OTHER_URL}\n  scope      napi.api\n"
            f"  token      refresh due, expires in 1 s (2027-01-15 08:00:01 UTC), …{fp['soon-client']}\n"
            "  granted     [31mread w\n  claims     null"  # the server's escape and line break, made harmless
        ),
    ]
    assert not any(token in out for token in (DEV_JWT, "soon-token", "old-token", "epoch-token", "hunter2"))


@pytest.mark.usefixtures("in_utc", "keyring_folder")
def test_status_shows_the_active_choice_the_logins_and_where_each_secret_comes_from(
    capsys: pytest.CaptureFixture[str], listed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRULIOO_CLIENT_ID", "soon-client")
    monkeypatch.setenv("TRULIOO_TOKEN_URL", OTHER_URL)
    monkeypatch.setenv("TRULIOO_SCOPE", "napi.api")
    monkeypatch.setenv("TRULIOO_CLIENT_SECRET", "exported")
    monkeypatch.setenv("PROD_SECRET", "prod-secret")
    secret_sources.store_in_keyring(OTHER_URL + "/", "dev-client", "kept")  # dev and qa's, spelled otherwise
    secret_sources.store_in_keyring("https://login.example/token", "tester", "kept")
    code, out, err = run(capsys, "status")
    assert (code, err) == (0, "")
    secrets = [line for line in out.splitlines() if line.startswith("  secret ")]
    assert secrets == [
        "  secret     TRULIOO_CLIENT_SECRET",
        "  secret     the keyring (httpie-trulioo login)",
        "  secret     profile prod secret_env PROD_SECRET",
        "  secret     the keyring (httpie-trulioo login)",
        "  secret     TRULIOO_CLIENT_SECRET",  # a login the variables' secret would beat
    ]
    titles = [line for line in out.splitlines() if not line.startswith(" ")][2:]
    assert titles[:5] == [
        "active (http -A trulioo without @NAME): the TRULIOO_* variables",
        "profile dev",
        "profile prod",
        "profile qa",
        "login in the keyring",
    ]
    assert (
        f"  token      refresh due, expires in 1 s (2027-01-15 08:00:01 UTC), …{listed['soon-client']}" in out
    )
    assert "  client     tester\n  token URL  https://login.example/token\n" in out
    assert not any(secret in out for secret in ("exported", "prod-secret", "kept"))


TRULIOO_URL = "https://auth-api.trulioo.com/connect/token"
# Each setting as status --json reports it when nothing sets it: (variable, default shown, value).
UNSET = {
    "client_id": ("TRULIOO_CLIENT_ID", "none", None),
    "token_url": ("TRULIOO_TOKEN_URL", TRULIOO_URL, TRULIOO_URL),
    "scope": ("TRULIOO_SCOPE", SCOPE, SCOPE),
    "auth_method": ("TRULIOO_AUTH_METHOD", "client_secret_post", "client_secret_post"),
    "audience": ("TRULIOO_AUDIENCE", "none", ""),
    "resource": ("TRULIOO_RESOURCE", "none", ""),
    "api_hosts": (
        "TRULIOO_API_HOSTS",
        "*.trulioo.com, and loopback for a loopback token URL",
        ["*.trulioo.com"],
    ),
    "token_buffer": ("TRULIOO_TOKEN_BUFFER", "60", 60.0),
    "default_lifetime": ("TRULIOO_DEFAULT_LIFETIME", "none", None),
    "timeout": ("TRULIOO_TIMEOUT", "30", 30.0),
    "cache_dir": ("TRULIOO_CACHE_DIR", "the user cache folder (below)", None),
    "cache_enabled": ("TRULIOO_CACHE", "on", True),
    "retry_401": ("TRULIOO_RETRY_401", "on", True),
    "log": ("TRULIOO_LOG", "warning", "warning"),
}


def settings_report(**set_as: tuple[object, str]) -> dict[str, dict[str, object]]:
    """The settings of status --json: each unset but those in ``set_as`` (name: (value, source))."""
    report = {}
    for name, (variable, default, unset) in UNSET.items():
        value, source = set_as.get(name, (unset, "default"))
        report[name] = {"value": value, "source": source, "variable": variable, "default": default}
    return report


def listed_row(client_id: str, fingerprint: str, **fields: object) -> dict[str, object]:
    """A token of ``listed`` as status --json reports it: these fields, the others as most have them."""
    return {
        "client_id": client_id,
        "profiles": [],
        "token_url": OTHER_URL,
        "scope": SCOPE,
        "granted_scope": SCOPE,
        "audience": "",
        "resource": "",
        "fingerprint": fingerprint,
        "expired": True,
        "state": "expired",
        "claims": None,
        **fields,
    }


def json_report(out: str) -> dict[str, Any]:
    """The one JSON document ``out`` holds, printed with an indent of 2."""
    report: dict[str, Any] = json.loads(out)
    assert out == json.dumps(report, indent=2) + "\n"
    return report


def test_status_json_reports_the_settings_and_each_token_for_scripts(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path, listed: dict[str, str]
) -> None:
    code, out, err = run(capsys, "status", "--json", "--claims")
    assert (code, err) == (0, "")
    report = json_report(out)
    tokens = report.pop("tokens")
    credentials = report.pop("credentials")
    assert report == {
        "cache_dir": str(cache_dir),
        "config_file": str(env),
        "settings": settings_report(cache_dir=(str(cache_dir), "TRULIOO_CACHE_DIR")),
    }
    profile = {
        "kind": "profile",
        "client_id": "dev-client",
        "token_url": OTHER_URL,
        "scope": SCOPE,
        "audience": "",
        "resource": "",
        "secret": NO_SECRET_AT_HAND,
        "state": "valid",
        "fingerprint": listed["dev-client"],
        "expires_at": "2027-01-15T08:59:00Z",
    }
    assert credentials == [
        {**profile, "profile": "dev"},
        {
            **profile,
            "profile": "prod",
            "client_id": "prod-client",
            "secret": "none at hand: set PROD_SECRET (its secret_env), log in (httpie-trulioo login), or "
            "type it when asked",
            "state": None,
            "fingerprint": None,
            "expires_at": None,
        },
        {**profile, "profile": "qa"},
    ]
    assert sorted(tokens, key=lambda row: row["client_id"]) == [
        listed_row(
            "dev-client",
            listed["dev-client"],
            profiles=["dev", "qa"],
            obtained_at="2027-01-15T07:59:00Z",
            expires_at="2027-01-15T08:59:00Z",
            expires_in=3540,
            state="valid",
            expired=False,
            claims={"scope": SCOPE, "aud": "trulioo-api", "client_id": "dev-client", "exp": 1800003540},
        ),
        listed_row(
            "epoch-client",
            listed["epoch-client"],
            obtained_at="1970-01-01T00:00:00Z",
            expires_at="1970-01-01T00:00:00Z",
            expires_in=-1_800_000_000,
        ),
        listed_row(
            "old-client",
            listed["old-client"],
            token_url="https://***@auth.example/connect/token",
            scope="",
            granted_scope=None,
            obtained_at="2027-01-15T07:00:00Z",
            expires_at="2027-01-15T08:00:00Z",
            expires_in=0,
        ),
        listed_row(
            "soon-client",
            listed["soon-client"],
            scope="napi.api",
            granted_scope="\x1b[31mread\nw",  # as the server said it: JSON escapes it
            obtained_at="2027-01-15T07:00:01Z",
            expires_at="2027-01-15T08:00:01Z",
            expires_in=1,
            state="refresh due",
            expired=False,
        ),
    ]


def test_status_profile_lists_that_profile_s_tokens_and_settings(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path, listed: dict[str, str]
) -> None:
    code, out, err = run(capsys, "status", "--json", "--profile", "dev")
    assert (code, err) == (0, "")
    report = json_report(out)
    assert report["settings"] == settings_report(
        cache_dir=(str(cache_dir), "TRULIOO_CACHE_DIR"),
        client_id=("dev-client", "profile dev"),
        token_url=(OTHER_URL, "profile dev"),
    )
    assert [(row["client_id"], row["fingerprint"]) for row in report["tokens"]] == [
        ("dev-client", listed["dev-client"])
    ]
    assert [block["profile"] for block in report["credentials"]] == ["dev"]  # the chosen one only
    code, out, err = run(capsys, "status", "-p", "@prod")
    assert (code, err) == (0, "")
    assert blocks_of(out)[2:] == [
        (
            f"chosen: profile prod\n  client     prod-client\n  token URL  {OTHER_URL}\n"
            "  scope      workflow.studio.api\n"
            "  secret     none at hand: set PROD_SECRET (its secret_env), log in (httpie-trulioo login), or "
            "type\n             it when asked\n  token      none cached"
        ),
        "no cached tokens",
    ]


@pytest.mark.usefixtures("in_utc")
def test_status_shows_audience_and_resource_only_where_a_token_has_them(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze(monkeypatch, LISTED_AT)
    token = Token("t", LISTED_AT - 60, LISTED_AT + 3540, SCOPE)
    store(cache_dir, TokenKey(OTHER_URL, SCOPE, "plain"), token)
    store(cache_dir, TokenKey(OTHER_URL, SCOPE, "for-api", resource="https://api.example/"), token)
    store(cache_dir, TokenKey(OTHER_URL, SCOPE, "for-aud", audience="trulioo-api"), token)
    fields = {
        block.splitlines()[0].split("'")[1]: [line.split()[0] for line in block.splitlines()[1:]]
        for block in blocks_of(run(capsys, "status")[1])[2:]
    }
    common = ["token", "scope", "token", "granted"]
    assert fields == {
        "plain": common,
        "for-api": [*common[:2], "resource", *common[2:]],
        "for-aud": [*common[:2], "audience", *common[2:]],
    }
    monkeypatch.setenv("TRULIOO_CLIENT_ID", "for-aud")
    monkeypatch.setenv("TRULIOO_TOKEN_URL", OTHER_URL)
    monkeypatch.setenv("TRULIOO_AUDIENCE", "trulioo-api")
    (active,) = [block for block in blocks_of(run(capsys, "status")[1]) if block.startswith("active")]
    assert "\n  audience   trulioo-api\n" in active
    assert "resource" not in active


def test_status_of_an_empty_cache_says_so_whatever_trulioo_profile_names(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing what is cached needs no profile: one that cannot be read does not stop it."""
    monkeypatch.setenv("TRULIOO_PROFILE", "missing")
    assert run(capsys, "status") == (
        0,
        (
            f"cache folder:  {cache_dir} (none yet)\nprofiles file: {env} (none yet)\n"
            f"active: cannot be used: {env}: no such file, so no profile 'missing' (TRULIOO_PROFILE).\n"
            "no cached tokens\n"
        ),
        "",
    )
    assert not cache_dir.exists()


def test_status_says_why_the_profiles_file_cannot_be_used_and_lists_the_tokens(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path
) -> None:
    write(env, "[profiles.dev]\nscope = 5\n")
    assert run(capsys, "status") == (
        0,
        (
            f"cache folder:  {cache_dir} (none yet)\n"
            f"profiles file: {env} (cannot be used: :2: scope in profile 'dev' must be a non-empty string.)\n"
            "no cached tokens\n"
        ),
        "",
    )


def test_status_and_clear_on_a_cache_folder_that_is_a_file(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path
) -> None:
    cache_dir.write_text("not a folder")
    assert run(capsys, "status") == (
        0,
        (
            f"cache folder:  {cache_dir} (not a folder: the cache cannot be used)\n"
            f"profiles file: {env} (none yet)\n"
            "no cached tokens\n"
        ),
        "",
    )
    assert run(capsys, "clear") == (
        1,
        "",
        f"httpie-trulioo: error: the cache folder {cache_dir} is not a folder; nothing was removed.\n",
    )


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_status_and_clear_refuse_a_cache_folder_open_to_others(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path
) -> None:
    store(cache_dir, TokenKey(OTHER_URL, SCOPE, "dev-client"), Token("t", LISTED_AT, LISTED_AT + 60))
    cache_dir.chmod(0o777)
    problem = f"the cache folder is open to other users (run: chmod 700 '{cache_dir}')"
    assert run(capsys, "status") == (
        0,
        (
            f"cache folder:  {cache_dir} (not used: {problem})\nprofiles file: {env} (none yet)\n"
            "no cached tokens\n"
        ),
        "",
    )
    assert json.loads(run(capsys, "status", "--json")[1])["tokens"] == []
    assert run(capsys, "clear") == (
        1,
        "",
        (
            f"httpie-trulioo: error: the cache folder {cache_dir} is open to other users (run: chmod 700 "
            f"'{cache_dir}'); nothing was removed.\n"
        ),
    )
    assert len(list(cache_dir.glob("*.json"))) == 1


# What status --check says of the chosen credentials' cached token: when it was fetched and
# expires, as of now (None: none cached), the secret that fetched it, the line printed, the status.
CHECKS = {
    "none cached": (None, "", "no cached token for {whose}", 1),
    "valid": (
        lambda now: (now - 60, now + 3500),
        "prod-secret",
        "valid: token …{fp} for {whose}, expires in 58 min",
        0,
    ),
    "refresh due": (
        lambda now: (now - 7200, now + 600),
        "prod-secret",
        "refresh due: token …{fp} for {whose}, expires in 10 min",
        1,
    ),
    "expired": (
        lambda now: (0.0, 0.0),  # at the start of POSIX time
        "prod-secret",
        "expired: token …{fp} for {whose}, expired at 1970-01-01 00:00:00 UTC",
        1,
    ),
    "another secret": (
        lambda now: (now - 60, now + 3500),
        "an old secret",
        "fetched with another secret: token …{fp} for {whose}, expires in 58 min",
        1,
    ),
}


@pytest.fixture
def prod(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The profiles of ``PROFILES``, prod's secret in the variable it names; a refresh buffer of 3000 s."""
    write(env, PROFILES)
    monkeypatch.setenv("PROD_SECRET", "prod-secret")
    monkeypatch.setenv("TRULIOO_TOKEN_BUFFER", "3000")  # a token with less than 3000 s left is refreshed


@pytest.mark.usefixtures("in_utc", "prod")
@pytest.mark.parametrize("case", CHECKS)
def test_status_check_exits_0_only_for_a_token_the_plugin_would_send(
    capsys: pytest.CaptureFixture[str], cache_dir: Path, now: float, case: str
) -> None:
    times, secret, line, status = CHECKS[case]
    fp = ""
    if times is not None:
        fp = store(cache_dir, TokenKey(OTHER_URL, SCOPE, "prod-client"), Token("prod", *times(now)), secret)
        store(cache_dir, TokenKey(OTHER_URL, SCOPE, "someone-else"), Token("x", now - 60, now + 3500))
    whose = f"client 'prod-client' at {OTHER_URL} (profile prod)"
    assert run(capsys, "status", "--check", "--profile", "prod") == (
        status,
        line.format(whose=whose, fp=fp) + "\n",
        "",
    )
    assert cache_dir.exists() == (times is not None)  # looking creates no cache folder


def test_status_check_without_a_profile_is_about_the_variables_client(
    capsys: pytest.CaptureFixture[str],
    env: Path,
    cache_dir: Path,
    now: float,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRULIOO_CLIENT_ID", "dev-client")
    monkeypatch.setenv("TRULIOO_TOKEN_URL", OTHER_URL)
    fp = store(cache_dir, TokenKey(OTHER_URL, SCOPE, "dev-client"), Token("dev-token", now - 60, now + 3500))
    assert run(capsys, "status", "--check") == (
        0,
        f"valid: token …{fp} for client 'dev-client' at {OTHER_URL}, expires in 58 min\n",
        "",
    )


# --- clear -----------------------------------------------------------------------------------------


def leftovers(cache_dir: Path, entry: Path) -> tuple[Path, Path]:
    """A temp file a killed writer left (a whole entry never renamed into place), and another program's."""
    ours = cache_dir / ".tmp-k1lled.json"
    ours.write_bytes(entry.read_bytes())
    theirs = cache_dir / ".tmp-editor.json"
    theirs.write_bytes(b'{"draft": true}')
    for path in (ours, theirs):
        path.chmod(0o600)
    return ours, theirs


def names(cache_dir: Path) -> set[str]:
    return {path.name for path in cache_dir.iterdir()}


def entry_name(key: TokenKey) -> str:
    return f"{key.digest}.json"


def test_clear_removes_one_client_s_tokens_or_every_token_and_the_leftovers(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path
) -> None:
    token = Token("t", LISTED_AT, LISTED_AT + 60)
    mine = TokenKey(OTHER_URL, SCOPE, "dev-client")
    store(cache_dir, mine, token)
    for scope in (SCOPE, "napi.api"):
        store(cache_dir, TokenKey(OTHER_URL, scope, "other"), token)
    ours, theirs = leftovers(cache_dir, cache_dir / entry_name(mine))
    assert run(capsys, "clear", "--client-id", "other") == (
        0,
        f"removed 2 cached tokens of client 'other' from {cache_dir}\n",
        "",
    )
    assert names(cache_dir) == {entry_name(mine), ours.name, theirs.name}  # whose a temp file was is unknown
    assert run(capsys, "clear") == (0, f"removed 1 cached token from {cache_dir}\n", "")
    assert names(cache_dir) == {theirs.name}
    assert run(capsys, "clear") == (
        1,
        "",
        f"httpie-trulioo: no cached tokens in {cache_dir}: nothing removed.\n",
    )


def test_clear_that_removes_nothing_says_so_and_exits_1(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path
) -> None:
    nothing = f"httpie-trulioo: no cached tokens in {cache_dir}: nothing removed.\n"
    assert run(capsys, "clear") == (1, "", nothing)
    assert not cache_dir.exists()  # and makes no folder
    store(cache_dir, TokenKey(OTHER_URL, SCOPE, "dev-client"), Token("t", LISTED_AT, LISTED_AT + 60))
    assert run(capsys, "clear", "--client-id", "nosuch") == (
        1,
        "",
        f"httpie-trulioo: no cached tokens of client 'nosuch' in {cache_dir}: nothing removed.\n",
    )
    assert names(cache_dir) == {entry_name(TokenKey(OTHER_URL, SCOPE, "dev-client"))}


def test_clear_profile_removes_only_the_token_that_profile_gets(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path
) -> None:
    write(env, PROFILES)
    token = Token("t", LISTED_AT, LISTED_AT + 60)
    kept = {TokenKey(OTHER_URL, "napi.api", "dev-client"), TokenKey(OTHER_URL, SCOPE, "prod-client")}
    for key in (TokenKey(OTHER_URL, SCOPE, "dev-client"), *kept):
        store(cache_dir, key, token)
    whose = f"client 'dev-client' at {OTHER_URL} (profile dev)"
    assert run(capsys, "clear", "-p", "@dev", "--client-id", "nosuch") == (
        1,
        "",
        (
            f"httpie-trulioo: no cached tokens of client 'nosuch' at {OTHER_URL} (profile dev) "
            f"in {cache_dir}: nothing removed.\n"
        ),
    )  # the profile's token URL and scope, another client
    assert run(capsys, "clear", "--profile", "dev") == (
        0,
        f"removed 1 cached token of {whose} from {cache_dir}\n",
        "",
    )
    assert names(cache_dir) == {entry_name(key) for key in kept}


def test_clear_skips_a_token_another_process_removed_and_stops_at_one_it_cannot_remove(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = Token("t", LISTED_AT, LISTED_AT + 60)
    keys = sorted((TokenKey(OTHER_URL, SCOPE, client) for client in ("a", "b", "c")), key=entry_name)
    for key in keys:
        store(cache_dir, key, token)
    first, second, _ = (str(cache_dir / entry_name(key)) for key in keys)  # the order clear takes
    unlink = os.unlink

    def racing(path: str) -> None:
        if path == first:
            unlink(path)  # another clear got there first: this unlink finds nothing
        unlink(path)

    monkeypatch.setattr(os, "unlink", racing)
    assert run(capsys, "clear") == (0, f"removed 2 cached tokens from {cache_dir}\n", "")

    for key in keys:
        store(cache_dir, key, token)

    def refusing(path: str) -> None:
        if path == second:  # as a read-only folder would, but for root, who runs the tests here
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        unlink(path)

    monkeypatch.setattr(os, "unlink", refusing)
    assert run(capsys, "clear") == (
        1,
        "",
        f"httpie-trulioo: error: could not remove {second}: Permission denied.\n",
    )
    assert names(cache_dir) == {entry_name(key) for key in keys[1:]}  # it stopped there


# --- login and logout: the OS keyring --------------------------------------------------------------


def kept_secret(token_url: str, client_id: str = CLIENT_ID) -> str | None:
    """The secret the keyring keeps for the client, read as another tool would read it."""
    import keyring  # noqa: PLC0415 - the real package, with the file keyring the tests install

    return keyring.get_password("httpie-trulioo", f"{client_id} @ {token_url}")


PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"  # the real file keyring the tests use


@pytest.fixture
def no_exported_secret(client: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo client without TRULIOO_CLIENT_SECRET, which would win over a secret login keeps."""
    monkeypatch.delenv("TRULIOO_CLIENT_SECRET")


def test_login_checks_the_secret_keeps_it_in_the_keyring_and_logout_takes_it_away(
    capsys: pytest.CaptureFixture[str],
    client: RunningServer,
    monkeypatch: pytest.MonkeyPatch,
    cache_dir: Path,
) -> None:
    assert run(capsys, "token")[0] == 0
    monkeypatch.delenv("TRULIOO_CLIENT_SECRET")  # it would win over the keyring
    stdin = io.StringIO(f"{CLIENT_SECRET}\r\nthe next line\n")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert run(capsys, "login", "--secret-stdin") == (
        0,
        (
            f"logged in client '{CLIENT_ID}' at {client.token_url}: the secret works and is kept in the "
            "keyring (keyrings.alt.file.PlaintextKeyring)\n"
        ),
        "",
    )
    assert stdin.read() == "the next line\n"  # the first line only
    assert client.fake.token_requests == 2  # checked with the server, though a token was cached
    assert kept_secret(client.token_url) == CLIENT_SECRET

    code, out, _ = run(capsys, "token", "--refresh", "--json")
    assert (code, json.loads(out)["sources"]["secret"]) == (0, "keyring")

    assert run(capsys, "logout") == (
        0,
        (
            f"logged out client '{CLIENT_ID}' at {client.token_url}: removed the secret from the keyring, "
            "and 1 cached token\n"
        ),
        "",
    )
    assert kept_secret(client.token_url) is None
    assert list(cache_dir.glob("*.json")) == []
    assert run(capsys, "logout") == (
        1,
        "",
        (
            "httpie-trulioo: not logged in: no secret in the keyring and no cached token for client "
            f"'{CLIENT_ID}' at {client.token_url}.\n"
        ),
    )


def test_login_refuses_a_secret_that_another_source_would_keep_from_being_used(
    capsys: pytest.CaptureFixture[str], env: Path, server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile chosen by TRULIOO_PROFILE, and a TRULIOO_CLIENT_SECRET left over, which calls would
    use before the keyring; or a profile whose secret_cmd or secret_env gives the secret."""
    write(env, f'[profiles.dev]\ntoken_url = "{server.token_url}"\nclient_id = "{CLIENT_ID}"\n')
    monkeypatch.setenv("TRULIOO_PROFILE", "dev")
    monkeypatch.setenv("TRULIOO_CLIENT_SECRET", "left-over")
    monkeypatch.setattr(sys, "stdin", io.StringIO(CLIENT_SECRET + "\n"))
    whose = f"client '{CLIENT_ID}' at {server.token_url} (profile dev)"
    assert run(capsys, "login", "--secret-stdin") == (
        1,
        "",
        (
            f"httpie-trulioo: error: TRULIOO_CLIENT_SECRET gives the secret of {whose} before the keyring "
            "would: a secret kept there would never be used. Remove that (or unset it), then log in.\n"
        ),
    )
    monkeypatch.delenv("TRULIOO_CLIENT_SECRET")
    write(
        env,
        f'[profiles.dev]\ntoken_url = "{server.token_url}"\nclient_id = "{CLIENT_ID}"\nsecret_cmd = "x"\n',
    )
    assert run(capsys, "login", "--secret-stdin") == (
        1,
        "",
        (
            f"httpie-trulioo: error: the secret_cmd of profile dev ({env}:4) gives the secret of {whose} "
            "before the keyring would: a secret kept there would never be used. Remove that (or unset "
            "it), then log in.\n"
        ),
    )
    write(
        env,
        f'[profiles.dev]\ntoken_url = "{server.token_url}"\nclient_id = "{CLIENT_ID}"\nsecret_env = "V"\n',
    )
    monkeypatch.setenv("V", "from-the-variable")
    code, out, err = run(capsys, "login", "--secret-stdin")
    assert (code, out) == (1, "")
    assert err.startswith("httpie-trulioo: error: profile dev secret_env V gives the secret of ")
    assert server.fake.token_requests == 0
    assert sys.stdin.read() == CLIENT_SECRET + "\n"  # nothing read: nothing asked for
    monkeypatch.delenv("V")  # named but not set: the keyring is used until it is, and login says so
    monkeypatch.setattr(sys, "stdin", io.StringIO(CLIENT_SECRET + "\n"))
    assert run(capsys, "login", "--secret-stdin") == (
        0,
        f"logged in {whose}: the secret works and is kept in the keyring ({PLAINTEXT})\n",
        (
            f"httpie-trulioo: note: profile dev ({env}:4) names secret_env V: whenever V is set, it is used "
            "instead of the keyring.\n"
        ),
    )
    assert [form["client_secret"] for form in server.fake.token_forms] == [CLIENT_SECRET]


def test_login_with_a_profile_asks_on_the_terminal_and_logout_forgets_that_client(
    capsys: pytest.CaptureFixture[str], dev: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = answering(monkeypatch, "dev-s3cret")
    code, out, err = run(capsys, "login", "--profile", "dev")
    assert (code, out) == (
        0,
        (
            f"logged in client 'dev-client' at {dev.token_url} (profile dev): the secret works and is kept "
            "in the keyring (keyrings.alt.file.PlaintextKeyring)\n"
        ),
    )
    assert err.endswith(
        "names secret_env DEV_SECRET: whenever DEV_SECRET is set, it is used instead of the keyring.\n"
    )
    assert prompts == [f"client secret for dev-client at {dev.token_url}: "]
    assert kept_secret(dev.token_url, "dev-client") == "dev-s3cret"
    assert run(capsys, "logout", "--profile", "dev") == (
        0,
        (
            f"logged out client 'dev-client' at {dev.token_url} (profile dev): removed the secret from the "
            "keyring, and 1 cached token\n"
        ),
        "",
    )
    assert kept_secret(dev.token_url, "dev-client") is None


# What login is given, on its command line and stdin, that holds no secret to read; what it says.
NO_SECRET = {
    "no terminal": (
        ["login"],
        CLIENT_SECRET + "\n",  # never read as the secret without --secret-stdin
        "no terminal to ask for the secret on: pipe it to login --secret-stdin.",
    ),
    "empty first line": (
        ["login", "--secret-stdin"],
        "\n" + CLIENT_SECRET + "\n",
        "no secret on stdin: its first line is empty (--secret-stdin).",
    ),
}


@pytest.mark.usefixtures("no_exported_secret")
@pytest.mark.parametrize("case", NO_SECRET)
def test_login_without_a_secret_to_read_says_how_to_give_it(
    capsys: pytest.CaptureFixture[str], client: RunningServer, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    args, stdin, message = NO_SECRET[case]
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert run(capsys, *args) == (1, "", f"httpie-trulioo: error: {message}\n")
    assert client.fake.token_requests == 0
    assert kept_secret(client.token_url) is None


@pytest.mark.usefixtures("no_exported_secret")
def test_login_with_a_wrong_secret_keeps_nothing(
    capsys: pytest.CaptureFixture[str], client: RunningServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("wrong\n"))
    code, out, err = run(capsys, "login", "--secret-stdin")
    assert (code, out) == (1, "")
    assert err.startswith("httpie-trulioo: error: the token endpoint answered 400 invalid_client")
    assert err.count("\n") == 1
    assert not (tmp_path / "xdg-data" / "python_keyring" / "keyring_pass.cfg").exists()


@pytest.mark.usefixtures("no_exported_secret")
def test_login_without_the_keyring_package_reads_no_secret(
    capsys: pytest.CaptureFixture[str], client: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # what an install without the extra looks like
    stdin = io.StringIO(CLIENT_SECRET + "\n")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert run(capsys, "login", "--secret-stdin") == (
        1,
        "",
        (
            "httpie-trulioo: error: the OS keyring needs the keyring package: pip install "
            "'httpie-trulioo[keyring]'.\n"
        ),
    )
    assert stdin.tell() == 0
    assert client.fake.token_requests == 0


class InterruptedStdin:
    """Standard input at which the person presses Ctrl-C."""

    def readline(self) -> str:
        raise KeyboardInterrupt


@pytest.mark.usefixtures("no_exported_secret")
def test_ctrl_c_ends_the_command_with_status_130_and_a_line_break(
    capsys: pytest.CaptureFixture[str], client: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", InterruptedStdin())
    assert run(capsys, "login", "--secret-stdin") == (130, "", "\n")  # as a shell shows SIGINT


def test_logout_says_what_it_took_away_and_fails_when_there_was_nothing(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every token of the client at that token URL goes, whatever its scope, audience or resource: a
    fresh one may be sent without the secret. Other clients' tokens, and temp files, stay."""
    monkeypatch.setenv("TRULIOO_CLIENT_ID", "dev-client")
    monkeypatch.setenv("TRULIOO_TOKEN_URL", OTHER_URL)
    token = Token("t", LISTED_AT, LISTED_AT + 60)
    for key in (
        TokenKey(OTHER_URL, SCOPE, "dev-client"),
        TokenKey(OTHER_URL, "napi.api", "dev-client", "a", "r"),
    ):
        store(cache_dir, key, token)
    kept = {
        TokenKey(OTHER_URL, SCOPE, "other"),
        TokenKey("https://elsewhere.example/connect/token", SCOPE, "dev-client"),
    }
    for key in kept:
        store(cache_dir, key, token)
    ours, theirs = leftovers(cache_dir, cache_dir / entry_name(next(iter(kept))))
    assert run(capsys, "logout") == (
        0,
        f"logged out client 'dev-client' at {OTHER_URL}: no secret was in the keyring, and 2 cached tokens\n",
        "",
    )
    assert names(cache_dir) == {*(entry_name(key) for key in kept), ours.name, theirs.name}

    secret_sources.store_in_keyring(OTHER_URL, "dev-client", "dev-secret")
    assert run(capsys, "logout") == (
        0,
        (
            f"logged out client 'dev-client' at {OTHER_URL}: removed the secret from the keyring, and 0 "
            "cached tokens\n"
        ),
        "",
    )
    assert kept_secret(OTHER_URL, "dev-client") is None
    assert run(capsys, "logout")[0] == 1


# --- what the commands trust -----------------------------------------------------------------------


def plant_copies(cache_dir: Path, entry: Path) -> dict[str, Path]:
    """Entry-named files that reading would not trust, each holding a copy of a good entry.

    "foreign" stands for another user's file: ``owned_by_me`` must say so (see the test).
    """
    content = entry.read_bytes()
    planted = {}
    for name, letter, mode in (("readable", "a", 0o644), ("foreign", "b", 0o600)):
        path = cache_dir / f"{letter * 64}.json"
        path.write_bytes(content)
        path.chmod(mode)
        planted[name] = path
    target = cache_dir.parent / "elsewhere.json"
    target.write_bytes(content)
    target.chmod(0o600)
    planted["symlink"] = cache_dir / ("c" * 64 + ".json")
    planted["symlink"].symlink_to(target)
    return planted


@posix_only("mode bits and symlinks")
def test_status_and_clear_trust_only_what_reading_trusts(
    capsys: pytest.CaptureFixture[str],
    client: RunningServer,
    cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run(capsys, "token")[0] == 0
    (entry,) = cache_dir.glob("*.json")
    planted = plant_copies(cache_dir, entry)
    # Another user's file, without root to chown one: the package's own test of ownership says so
    # of that file alone, and of every other file what it always says.
    foreign = planted["foreign"].stat()
    owned_by_me = cache.owned_by_me
    monkeypatch.setattr(
        cache,
        "owned_by_me",
        lambda info: (info.st_dev, info.st_ino) != (foreign.st_dev, foreign.st_ino) and owned_by_me(info),
    )
    code, out, _ = run(capsys, "status", "--json")
    assert code == 0
    assert len(json.loads(out)["tokens"]) == 1
    code, out, _ = run(capsys, "clear")
    assert code == 0
    assert out.startswith("removed 1 cached token from")
    assert out == f"removed 1 cached token from {cache_dir}\n"
    assert not entry.exists()
    assert all(path.is_symlink() or path.exists() for path in planted.values())
    assert (cache_dir.parent / "elsewhere.json").exists()


# --- exec ----------------------------------------------------------------------------------------


def test_exec_replaces_itself_with_the_command_and_the_token_in_its_environment(
    capsys: pytest.CaptureFixture[str], client: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[tuple[str, list[str], dict[str, str]]] = []

    def execvpe(program: str, argv: list[str], environ: dict[str, str]) -> None:
        ran.append((program, argv, environ))
        raise SystemExit(0)  # the command ran in this process's place

    monkeypatch.setattr(cli, "REPLACE_PROCESS", True)
    monkeypatch.setattr(os, "execvpe", execvpe)
    with pytest.raises(SystemExit):
        main(["exec", "--", "newman", "run", "--", "suite.json"])
    ((program, argv, environ),) = ran
    (token,) = client.fake.issued
    assert (program, argv, environ["TRULIOO_TOKEN"]) == (
        "newman",
        ["newman", "run", "--", "suite.json"],
        token,
    )
    assert {name: value for name, value in environ.items() if name != "TRULIOO_TOKEN"} == dict(os.environ)
    with pytest.raises(SystemExit):
        main(["exec", "newman"])  # the -- may be left out when the command has no options
    assert ran[-1][1] == ["newman"]


def test_exec_on_windows_runs_the_command_and_gives_its_exit_status(
    capsys: pytest.CaptureFixture[str], client: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "REPLACE_PROCESS", False)  # as on Windows
    code = main(
        ["exec", "--", sys.executable, "-c", "import os, sys; sys.exit(len(os.environ['TRULIOO_TOKEN']))"]
    )
    (token,) = client.fake.issued
    assert code == len(token) % 256


@pytest.mark.parametrize(("program", "code", "why"), [("no-such-program-x", 127, "no such program")])
def test_exec_of_a_program_that_cannot_run_is_one_line(
    capsys: pytest.CaptureFixture[str], client: RunningServer, program: str, code: int, why: str
) -> None:
    assert run(capsys, "exec", "--", program) == (
        code,
        "",
        f"httpie-trulioo: error: cannot run {program!r}: {why}.\n",
    )


def test_exec_of_a_file_that_is_not_a_program_exits_126(
    capsys: pytest.CaptureFixture[str], client: RunningServer, tmp_path: Path
) -> None:
    script = tmp_path / "notes.txt"
    script.write_text("not a program\n")
    code, out, err = run(capsys, "exec", "--", str(script))
    assert (code, out) == (126, "")
    assert err == f"httpie-trulioo: error: cannot run {str(script)!r}: Permission denied.\n"


def test_exec_without_a_command_is_one_line(
    capsys: pytest.CaptureFixture[str], client: RunningServer
) -> None:
    for args in (["exec"], ["exec", "--"]):
        assert run(capsys, *args) == (
            1,
            "",
            "httpie-trulioo: error: exec needs a command to run: httpie-trulioo exec -- COMMAND [ARG ...].\n",
        )
    assert client.fake.token_requests == 0  # nothing to run: no token fetched


# --- JSON on every command that prints -----------------------------------------------------------


@pytest.mark.usefixtures("prod")
def test_status_check_json_says_what_the_line_says_with_the_same_exit_status(
    capsys: pytest.CaptureFixture[str], cache_dir: Path, now: float
) -> None:
    code, out, err = run(capsys, "status", "--check", "--json", "-p", "prod")
    assert (code, err) == (1, "")
    none = {
        "valid": False,
        "state": "none cached",
        "client_id": "prod-client",
        "token_url": OTHER_URL,
        "profile": "prod",
        "fingerprint": None,
        "expires_at": None,
        "expires_in": None,
    }
    assert json_report(out) == none
    fp = store(
        cache_dir, TokenKey(OTHER_URL, SCOPE, "prod-client"), Token("p", now - 60, now + 3500), "prod-secret"
    )
    code, out, _ = run(capsys, "status", "--check", "--json", "-p", "prod")
    expires_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3500))
    valid = {"valid": True, "state": "valid", "fingerprint": fp, "expires_at": expires_at, "expires_in": 3500}
    assert (code, json_report(out)) == (0, {**none, **valid})
    store(
        cache_dir, TokenKey(OTHER_URL, SCOPE, "prod-client"), Token("p", now - 60, now + 3500), "old-secret"
    )
    code, out, _ = run(capsys, "status", "--check", "--json", "-p", "prod")
    assert (code, json_report(out)["state"]) == (1, "fetched with another secret")


def test_clear_json_says_how_many_were_removed_and_exits_1_for_none(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path
) -> None:
    store(cache_dir, TokenKey(OTHER_URL, SCOPE, "dev-client"), Token("t", LISTED_AT, LISTED_AT + 60))
    report = {"removed": 1, "cache_dir": str(cache_dir), "profile": None, "client_id": "dev-client"}
    code, out, err = run(capsys, "clear", "--client-id", "dev-client", "--json")
    assert (code, json_report(out), err) == (0, report, "")
    code, out, err = run(capsys, "clear", "--client-id", "dev-client", "--json")
    assert (code, json_report(out), err) == (1, {**report, "removed": 0}, "")


@pytest.mark.usefixtures("no_exported_secret")
def test_login_and_logout_json_say_what_was_kept_and_removed(
    capsys: pytest.CaptureFixture[str], client: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(CLIENT_SECRET + "\n"))
    whose = {"client_id": CLIENT_ID, "token_url": client.token_url, "profile": None}
    code, out, err = run(capsys, "login", "--secret-stdin", "--json")
    assert (code, json_report(out), err) == (0, {**whose, "keyring": PLAINTEXT}, "")
    code, out, err = run(capsys, "logout", "--json")
    assert (code, json_report(out), err) == (0, {**whose, "secret_removed": True, "tokens_removed": 1}, "")
    code, out, err = run(capsys, "logout", "--json")
    assert (code, json_report(out), err) == (1, {**whose, "secret_removed": False, "tokens_removed": 0}, "")
    assert CLIENT_SECRET not in out


def test_status_names_the_active_choice_and_refuses_a_chosen_one_that_cannot_be_made(
    capsys: pytest.CaptureFixture[str], env: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRULIOO_CLIENT_ID", "dev-client")
    code, out, _ = run(capsys, "status", "--json")
    assert (code, [block["kind"] for block in json_report(out)["credentials"]]) == (0, ["active"])
    assert run(capsys, "status", "-p", "missing") == (
        1,
        "",
        f"httpie-trulioo: error: {env}: no such file, so no profile 'missing'.\n",
    )  # a choice that cannot be made is an error, not a listing
