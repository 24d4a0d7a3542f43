"""Unit tests for choosing the profile, the settings, the client id and the secret (credentials.py).

No server: the variables are a dict, the profiles file is a temp file, the helper commands are
real processes and the keyring is the real file keyring the tests install, in a temp folder.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import DEV_URL, PROD_URL, MemoryKeyring, command, posix_only

from httpie_trulioo import secret_sources
from httpie_trulioo.cache import TokenKey
from httpie_trulioo.credentials import (
    Choice,
    Credentials,
    SecretPrompt,
    choose,
    profile_choices,
    profiles_by_key,
)
from httpie_trulioo.errors import ConfigurationError
from httpie_trulioo.secret_sources import KEYRING_SERVICE, keyring_user, store_in_keyring


def resolve(
    choice: Choice, *, client_secret: str | None = None, prompt: SecretPrompt | None = None
) -> SimpleNamespace:
    """The client and its secret, read as a call that must fetch a token reads them."""
    credentials = Credentials(choice, client_secret=client_secret, prompt=prompt)
    secret = credentials.read_secret()
    return SimpleNamespace(
        settings=credentials.settings,
        client_id=credentials.client_id,
        client_secret=secret,
        profile=choice.profile,
        sources=credentials.sources,
        context=credentials.context,
    )


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[profiles.dev]
token_url = "{DEV_URL}"
scope = "napi.api"
client_id = "dev-client"
secret_env = "DEV_SECRET"

[profiles.bare]
token_url = "{DEV_URL}"
"""
    )
    path.chmod(0o600)
    return path


def exported(profiles: Path, **more: str) -> dict[str, str]:
    """The README's export steps for another client, as a QA engineer's shell would have them."""
    return {
        "TRULIOO_CONFIG_FILE": str(profiles),
        "TRULIOO_CLIENT_ID": "exported-client",
        "TRULIOO_CLIENT_SECRET": "exported-secret",
        "TRULIOO_TOKEN_URL": PROD_URL,
        **more,
    }


def test_a_profile_chosen_by_name_beats_the_variables(
    profiles: Path, caplog: pytest.LogCaptureFixture
) -> None:
    choice = choose(exported(profiles, DEV_SECRET="dev-secret", TRULIOO_SCOPE="x"), profile="dev")
    found = resolve(choice)
    assert (found.settings.token_url, found.settings.scope) == (DEV_URL, "napi.api")
    assert (found.client_id, found.client_secret, found.profile) == ("dev-client", "dev-secret", "dev")
    assert found.sources["client_id"] == "profile dev"
    assert found.sources["secret"] == "profile dev secret_env DEV_SECRET"
    assert found.sources["token_url"] == found.sources["scope"] == "profile dev"
    assert found.sources["timeout"] == "default"
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []


def test_variables_beat_a_profile_that_trulioo_profile_chose_and_say_so_once(
    profiles: Path, caplog: pytest.LogCaptureFixture
) -> None:
    found = resolve(choose(exported(profiles, TRULIOO_PROFILE="dev", DEV_SECRET="dev-secret")))
    assert (found.client_id, found.client_secret) == ("exported-client", "exported-secret")
    assert found.settings.token_url == PROD_URL
    assert found.settings.scope == "napi.api"  # no variable for it: the profile's
    assert found.sources["token_url"] == "TRULIOO_TOKEN_URL"
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert warnings == [
        (
            "TRULIOO_CLIENT_ID, TRULIOO_CLIENT_SECRET, TRULIOO_TOKEN_URL override profile 'dev' (chosen "
            "by TRULIOO_PROFILE); to use the profile as it is, choose it with -a @dev (http) or "
            "--profile dev (httpie-trulioo)."
        )
    ]


def test_what_the_caller_passes_beats_both_and_is_no_override(
    profiles: Path, caplog: pytest.LogCaptureFixture
) -> None:
    environ = exported(profiles, TRULIOO_PROFILE="dev")
    choice = choose(
        environ,
        arguments={"token_url": "https://auth.example/t", "scope": None, "client_id": "mine"},
    )
    found = resolve(choice, client_secret="my-secret")
    assert (found.client_id, found.client_secret, found.settings.token_url) == (
        "mine",
        "my-secret",
        "https://auth.example/t",
    )
    assert (found.sources["client_id"], found.sources["secret"], found.sources["token_url"]) == (
        "argument",
        "argument",
        "argument",
    )
    (warning,) = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert warning.startswith("TRULIOO_CLIENT_SECRET overrides profile 'dev'")


def test_a_profile_that_names_no_client_pairs_with_the_variables(profiles: Path) -> None:
    found = resolve(choose(exported(profiles), profile="bare"))
    assert (found.client_id, found.client_secret, found.settings.token_url) == (
        "exported-client",
        "exported-secret",
        DEV_URL,
    )


def test_an_exported_secret_is_never_paired_with_a_profile_chosen_by_name(
    profiles: Path, keyring_folder: Path
) -> None:
    choice = choose(exported(profiles), profile="dev")
    with pytest.raises(ConfigurationError) as caught:
        resolve(choice, prompt=lambda client_id, token_url: None)
    assert str(caught.value) == (
        "no client secret for client 'dev-client' at https://auth-api-primary.dev.trulioo.com/connect/token "
        "(profile dev), and no terminal to ask on (TRULIOO_CLIENT_SECRET is not for profile 'dev': it "
        "names its own client): set DEV_SECRET (the profile's secret_env), or keep it in the OS keyring: "
        "httpie-trulioo login --profile dev."
    )
    assert "exported-secret" not in str(caught.value)


@posix_only("a secret_cmd quoted for a POSIX shell")
def test_secret_sources_are_tried_in_order(tmp_path: Path, keyring_folder: Path) -> None:
    path = tmp_path / "config.toml"

    def write(**keys: str) -> None:
        body = "".join(f"{key} = {json.dumps(value)}\n" for key, value in keys.items())
        path.write_text(f'[profiles.p]\nclient_id = "c"\ntoken_url = "{DEV_URL}"\n{body}')
        path.chmod(0o600)

    asked: list[tuple[str, str]] = []

    def prompt(client_id: str, token_url: str) -> str:
        asked.append((client_id, token_url))
        return "typed"

    def source(environ: dict[str, str], given: str | None = None) -> tuple[str, str]:
        choice = choose({"TRULIOO_CONFIG_FILE": str(path), "TRULIOO_PROFILE": "p", **environ})
        found = resolve(choice, client_secret=given, prompt=prompt)
        return found.client_secret, found.sources["secret"]

    write(secret_env="P_SECRET", secret_cmd=command("print('from-command')"))
    everything = {"TRULIOO_CLIENT_SECRET": "from-variable", "P_SECRET": "from-secret-env"}
    store_in_keyring(DEV_URL, "c", "from-keyring")
    assert source(everything, given="given") == ("given", "argument")
    assert source(everything) == ("from-variable", "TRULIOO_CLIENT_SECRET")
    assert source({"P_SECRET": "from-secret-env"}) == ("from-secret-env", "profile p secret_env P_SECRET")
    assert source({}) == ("from-command", "profile p secret_cmd")
    write(secret_env="P_SECRET")
    assert source({}) == ("from-keyring", "keyring")
    assert asked == []
    write()
    (keyring_folder / "python_keyring").rename(keyring_folder / "elsewhere")
    assert source({}) == ("typed", "prompt")
    assert asked == [("c", DEV_URL)]


def test_a_profile_that_is_not_there_is_one_line_naming_how_it_was_chosen(profiles: Path) -> None:
    environ = {"TRULIOO_CONFIG_FILE": str(profiles)}
    with pytest.raises(ConfigurationError) as by_name:
        choose(environ, profile="nope")
    with pytest.raises(ConfigurationError) as by_variable:
        choose({**environ, "TRULIOO_PROFILE": "nope"})
    assert str(by_name.value) == f"{profiles}: no profile named 'nope'; profiles: bare, dev."
    assert (
        str(by_variable.value)
        == f"{profiles}: no profile named 'nope' (TRULIOO_PROFILE); profiles: bare, dev."
    )


def test_a_secret_the_caller_passed_is_no_override_of_the_profile(
    profiles: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """httpie-trulioo login, or --auth=ID:SECRET: an exported TRULIOO_CLIENT_SECRET is not what is used."""
    choose(exported(profiles, TRULIOO_PROFILE="dev"), secret_given=True)
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert warnings == [
        (
            "TRULIOO_CLIENT_ID, TRULIOO_TOKEN_URL override profile 'dev' (chosen by TRULIOO_PROFILE); to use "
            "the profile as it is, choose it with -a @dev (http) or --profile dev (httpie-trulioo)."
        )
    ]


def test_an_empty_profile_name_is_one_line(profiles: Path) -> None:
    with pytest.raises(
        ConfigurationError, match=r"^the profile name is empty: write -a @NAME or --profile NAME\.$"
    ):
        choose({"TRULIOO_CONFIG_FILE": str(profiles)}, profile="")


def test_no_client_id_is_one_line_naming_every_way_to_give_one(profiles: Path) -> None:
    choice: Choice = choose({"TRULIOO_CONFIG_FILE": str(profiles)}, profile="bare")
    with pytest.raises(ConfigurationError) as caught:
        resolve(choice)
    assert str(caught.value) == (
        "no client id: profile 'bare' names no client_id: choose a profile that has one "
        "(http -a @NAME, httpie-trulioo --profile NAME), pass http --auth=CLIENT_ID, or set "
        "TRULIOO_CLIENT_ID."
    )


def test_no_client_id_without_a_profile_names_every_way_to_give_one() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Credentials(choose({}))
    assert str(caught.value) == (
        "no client id: choose a profile that has one (http -a @NAME, httpie-trulioo --profile NAME), "
        "pass http --auth=CLIENT_ID, or set TRULIOO_CLIENT_ID."
    )


@pytest.mark.usefixtures("keyring_folder")
@pytest.mark.parametrize(
    ("environ", "arguments", "profile", "message"),
    [
        (
            {},
            {"client_id": "c"},
            None,
            (
                "no client secret for client 'c' at https://auth-api.trulioo.com/connect/token: "
                "pass --auth=c:SECRET, set TRULIOO_CLIENT_SECRET, or keep it in the OS keyring: "
                "httpie-trulioo login."
            ),
        ),
        (
            {"TRULIOO_CLIENT_ID": "c"},
            None,
            None,
            (
                "no client secret for client 'c' at https://auth-api.trulioo.com/connect/token: "
                "set TRULIOO_CLIENT_SECRET, or keep it in the OS keyring: httpie-trulioo login."
            ),
        ),
        (
            {},
            None,
            "only",
            (
                "no client secret for client 'only-client' at "
                "https://auth-api-primary.dev.trulioo.com/connect/token (profile only): keep it in the "
                "OS keyring: httpie-trulioo login --profile only."
            ),
        ),
    ],
    ids=["client id passed", "client id exported", "profile with its own client"],
)
def test_no_secret_is_one_line_naming_each_way_that_applies(
    environ: dict[str, str],
    arguments: dict[str, str] | None,
    profile: str | None,
    message: str,
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[profiles.only]\nclient_id = "only-client"\ntoken_url = "{DEV_URL}"\n')
    path.chmod(0o600)
    choice = choose({"TRULIOO_CONFIG_FILE": str(path), **environ}, profile=profile, arguments=arguments)
    with pytest.raises(ConfigurationError) as caught:
        Credentials(choice).read_secret()  # no prompt: nobody could be asked
    assert str(caught.value) == message


@pytest.mark.usefixtures("keyring_folder")
def test_where_the_secret_came_from_is_logged_once_and_not_for_one_passed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="httpie_trulioo")
    context = "[client c @ https://auth-api.trulioo.com/connect/token]"
    exported = Credentials(choose({"TRULIOO_CLIENT_ID": "c", "TRULIOO_CLIENT_SECRET": "s"}))
    exported.read_secret()
    passed = Credentials(choose({}, arguments={"client_id": "c"}), client_secret="s")
    passed.read_secret()
    typed = Credentials(choose({}, arguments={"client_id": "c"}), prompt=lambda client_id, token_url: "t")
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [f"{context} client secret from TRULIOO_CLIENT_SECRET"]
    assert (typed.read_secret(), typed.read_secret()) == ("t", "t")
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        f"{context} client secret from TRULIOO_CLIENT_SECRET",
        f"{context} client secret from prompt",
    ]


def test_context_names_profile_client_and_token_url_with_its_path(profiles: Path) -> None:
    found = resolve(choose({"TRULIOO_CONFIG_FILE": str(profiles), "DEV_SECRET": "s"}, profile="dev"))
    assert found.context == (
        "[profile dev, client dev-client @ https://auth-api-primary.dev.trulioo.com/connect/token]"
    )
    other = resolve(
        choose({"TRULIOO_TOKEN_URL": "http://127.0.0.1:8765/connect/token"}, arguments={"client_id": "c"}),
        client_secret="s",
    )
    assert other.context == "[client c @ http://127.0.0.1:8765/connect/token]"


# A call through the plugin with the secret in --auth; nothing listens on port 9, so its token
# request fails, after everything a warm call loads has been loaded.
WARM_CALL = """
import sys, requests
from httpie_trulioo import TruliooAuthPlugin
auth = TruliooAuthPlugin().get_auth("c", "s")
try:
    auth(requests.Request("GET", "http://127.0.0.1:9/x").prepare())
except Exception:
    pass
outside = ("keyring", "getpass", "subprocess", "shlex", "httpie_trulioo.secret_sources")
print(sorted(name for name in sys.modules if name.startswith(outside)))
"""


def test_a_call_whose_secret_is_at_hand_loads_no_outside_source(tmp_path: Path) -> None:
    """Helper commands, the keyring and the prompt cost imports: a call that needs none pays none."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("TRULIOO_")}
    environ.update(TRULIOO_TOKEN_URL="http://127.0.0.1:9/connect/token", TRULIOO_CACHE="off")
    result = subprocess.run(
        [sys.executable, "-c", WARM_CALL],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert result.stdout.strip() == "[]"


# Whose secret, and whether one could be read: what decides if a cached token may be sent ---------


def test_a_profile_that_names_only_its_client_is_never_paired_with_the_exported_secret(
    tmp_path: Path, keyring_folder: Path
) -> None:
    """Naming the client is enough to own the secret: an exported one is for some other client."""
    path = tmp_path / "config.toml"
    path.write_text(f'[profiles.only]\nclient_id = "only-client"\ntoken_url = "{DEV_URL}"\n')
    path.chmod(0o600)
    environ = {"TRULIOO_CONFIG_FILE": str(path), "TRULIOO_CLIENT_SECRET": "other-clients-secret"}
    credentials = Credentials(choose(environ, profile="only"))
    assert (credentials.secret, credentials.secret_source) == (None, None)
    with pytest.raises(ConfigurationError, match="TRULIOO_CLIENT_SECRET is not for profile 'only'"):
        credentials.read_secret()


@pytest.fixture
def no_keyring_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the keyring extra were not installed."""
    monkeypatch.setitem(sys.modules, "keyring", None)


def with_terminal(monkeypatch: pytest.MonkeyPatch, present: bool) -> None:
    monkeypatch.setattr(secret_sources, "can_prompt", lambda: present)


@pytest.mark.usefixtures("no_keyring_package")
@pytest.mark.parametrize(
    ("prompt_given", "terminal", "expected"),
    [(False, True, False), (True, False, False), (True, True, True), (False, False, False)],
)
def test_a_prompt_counts_only_when_given_and_there_is_a_terminal(
    prompt_given: bool, terminal: bool, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_terminal(monkeypatch, terminal)
    prompt = (lambda client_id, token_url: "typed") if prompt_given else None
    credentials = Credentials(choose({}, arguments={"client_id": "c"}), prompt=prompt)
    assert credentials.can_read_secret() is expected


@pytest.mark.usefixtures("no_keyring_package")
def test_a_secret_cmd_or_the_keyring_package_could_give_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_terminal(monkeypatch, False)
    path = tmp_path / "config.toml"
    path.write_text(
        f'[profiles.cmd]\nclient_id = "c"\ntoken_url = "{DEV_URL}"\nsecret_cmd = "helper"\n'
        f'[profiles.none]\nclient_id = "c"\ntoken_url = "{DEV_URL}"\n'
    )
    path.chmod(0o600)
    environ = {"TRULIOO_CONFIG_FILE": str(path)}
    assert Credentials(choose(environ, profile="cmd")).can_read_secret()
    assert not Credentials(choose(environ, profile="none")).can_read_secret()
    monkeypatch.delitem(sys.modules, "keyring")  # the package is there again
    assert Credentials(choose(environ, profile="none")).can_read_secret()


def test_a_secret_at_hand_needs_no_other_source(no_keyring_package: None) -> None:
    credentials = Credentials(choose({}, arguments={"client_id": "c"}), client_secret="s")
    assert credentials.can_read_secret()


@posix_only("a secret_cmd quoted for a POSIX shell")
def test_a_secret_cmd_run_for_a_call_stops_at_trulioo_timeout(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    slow = command("import time; time.sleep(600)")
    path.write_text(
        f'[profiles.p]\nclient_id = "c"\ntoken_url = "{DEV_URL}"\nsecret_cmd = {json.dumps(slow)}\n'
    )
    path.chmod(0o600)
    credentials = Credentials(choose({"TRULIOO_CONFIG_FILE": str(path), "TRULIOO_TIMEOUT": "1"}, profile="p"))
    with pytest.raises(ConfigurationError, match=r"did not finish within 1 s \(TRULIOO_TIMEOUT\)"):
        credentials.read_secret()


def test_describe_says_where_each_value_came_from_and_never_the_secret() -> None:
    environ = {"TRULIOO_CLIENT_ID": "c", "TRULIOO_CLIENT_SECRET": "s3cret", "TRULIOO_SCOPE": "napi.api"}
    described = Credentials(choose(environ)).describe()
    assert {key: described[key] for key in ("client_id", "scope", "audience", "resource", "profile")} == {
        "client_id": "c",
        "scope": "napi.api",
        "audience": "",
        "resource": "",
        "profile": None,
    }
    assert described["token_url"] == PROD_URL
    sources = described["sources"]
    assert (sources["client_id"], sources["scope"], sources["secret"], sources["token_url"]) == (
        "TRULIOO_CLIENT_ID",
        "TRULIOO_SCOPE",
        "TRULIOO_CLIENT_SECRET",
        "default",
    )
    assert "s3cret" not in json.dumps(described)


def test_profiles_are_grouped_by_the_token_they_get(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[profiles.a]\nclient_id = "c"\ntoken_url = "{DEV_URL}"\n'
        f'[profiles.b]\nclient_id = "c"\ntoken_url = "{DEV_URL}"\n'
        f'[profiles.other]\nclient_id = "c"\ntoken_url = "{DEV_URL}"\nscope = "napi.api"\n'
        f'[profiles.noclient]\ntoken_url = "{DEV_URL}"\n'
        f'[profiles.0-unusable]\nclient_id = "c"\ntoken_url = "http://auth.example/connect/token"\n'
    )
    path.chmod(0o600)
    found = profiles_by_key(profile_choices({"TRULIOO_CONFIG_FILE": str(path)}))
    assert found == {
        TokenKey(DEV_URL, "workflow.studio.api", "c"): ["a", "b"],
        TokenKey(DEV_URL, "napi.api", "c"): ["other"],
    }


# --- a secret the profile gives goes only where the profile says --------------------------------


def profile_giving(tmp_path: Path, key: str, *, token_url: str | None) -> dict[str, str]:
    """A profiles file whose profile p gives its secret by ``key``, with or without a token_url."""
    path = tmp_path / "config.toml"
    gives = (
        'secret_env = "P_SECRET"'
        if key == "secret_env"
        else f"secret_cmd = {json.dumps(command('print(1)'))}"
    )
    url = f'token_url = "{token_url}"\n' if token_url else ""
    path.write_text(f'[profiles.p]\nclient_id = "c"\n{url}{gives}\n')
    path.chmod(0o600)
    return {"TRULIOO_CONFIG_FILE": str(path), "P_SECRET": "profile-secret"}


@posix_only("a secret_cmd quoted for a POSIX shell")
@pytest.mark.parametrize("key", ["secret_env", "secret_cmd"])
@pytest.mark.parametrize(
    ("chosen", "own_url"),
    [("by name", None), ("by TRULIOO_PROFILE", None), ("by TRULIOO_PROFILE", DEV_URL)],
)
def test_a_secret_the_profile_gives_never_follows_an_exported_token_url(
    tmp_path: Path, key: str, chosen: str, own_url: str | None
) -> None:
    """An exported TRULIOO_TOKEN_URL (an .envrc, a leftover export) is an error, never where it goes."""
    environ = {
        **profile_giving(tmp_path, key, token_url=own_url),
        "TRULIOO_TOKEN_URL": "http://127.0.0.1:9999/",
    }
    if chosen == "by name":
        choice = choose(environ, profile="p")
    else:
        choice = choose({**environ, "TRULIOO_PROFILE": "p"})
    with pytest.raises(ConfigurationError) as caught:
        resolve(choice)
    assert str(caught.value) == (
        f"TRULIOO_TOKEN_URL is set, but profile 'p' gives the client secret (its {key}), which goes "
        "only to the profile's own token URL: put token_url in the profile, or unset TRULIOO_TOKEN_URL."
    )


@posix_only("a secret_cmd quoted for a POSIX shell")
@pytest.mark.parametrize("key", ["secret_env", "secret_cmd"])
def test_a_secret_the_profile_gives_goes_to_its_own_or_the_default_token_url(
    tmp_path: Path, key: str
) -> None:
    mine = resolve(
        choose(
            {**profile_giving(tmp_path, key, token_url=DEV_URL), "TRULIOO_TOKEN_URL": PROD_URL}, profile="p"
        )
    )
    assert (mine.settings.token_url, mine.sources["token_url"]) == (DEV_URL, "profile p")
    default = resolve(choose(profile_giving(tmp_path, key, token_url=None), profile="p"))
    assert (default.settings.token_url, default.sources["token_url"]) == (PROD_URL, "default")


def test_an_exported_token_url_still_serves_a_secret_from_elsewhere(tmp_path: Path) -> None:
    """Only the profile's own secret is held to its token URL: one passed or exported goes where told."""
    environ = {
        **profile_giving(tmp_path, "secret_env", token_url=None),
        "TRULIOO_TOKEN_URL": DEV_URL,
        "TRULIOO_PROFILE": "p",
    }
    passed = resolve(choose(environ), client_secret="passed")
    assert (passed.client_secret, passed.settings.token_url) == ("passed", DEV_URL)
    exported_secret = resolve(choose({**environ, "TRULIOO_CLIENT_SECRET": "exported"}))
    assert (exported_secret.client_secret, exported_secret.settings.token_url) == ("exported", DEV_URL)


def test_a_keyring_login_is_sent_only_to_the_token_url_it_was_kept_for(keyring_folder: Path) -> None:
    store_in_keyring(DEV_URL, "c", "kept-for-dev")
    at_dev = resolve(choose({"TRULIOO_CLIENT_ID": "c", "TRULIOO_TOKEN_URL": DEV_URL}))
    assert (at_dev.client_secret, at_dev.sources["secret"]) == ("kept-for-dev", "keyring")
    elsewhere = choose({"TRULIOO_CLIENT_ID": "c", "TRULIOO_TOKEN_URL": "http://127.0.0.1:9999/connect/token"})
    with pytest.raises(
        ConfigurationError, match=r"^no client secret for client 'c' at http://127\.0\.0\.1:9999/"
    ):
        resolve(elsewhere, prompt=lambda client_id, token_url: None)


def test_a_secret_that_is_not_utf8_is_one_line_naming_its_source(
    profiles: Path, memory_keyring: MemoryKeyring
) -> None:
    undecodable = "s3cret\udcff"  # what os.environ holds for a byte that is not UTF-8
    from_profile = choose({"TRULIOO_CONFIG_FILE": str(profiles), "DEV_SECRET": undecodable}, profile="dev")
    with pytest.raises(ConfigurationError) as caught:
        Credentials(from_profile)
    assert str(caught.value) == (
        "the client secret from profile dev secret_env DEV_SECRET is not valid UTF-8: set it again."
    )
    memory_keyring.set_password(KEYRING_SERVICE, keyring_user(PROD_URL, "c"), undecodable)
    with pytest.raises(ConfigurationError) as caught:
        Credentials(choose({}, arguments={"client_id": "c"})).read_secret()
    assert str(caught.value) == "the client secret from keyring is not valid UTF-8: set it again."


@posix_only("a secret_cmd quoted for a POSIX shell")
def test_a_failing_secret_cmd_is_one_line_naming_its_profile(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    failing = command("import sys; print('half-a-secret'); sys.exit(3)")
    path.write_text(
        f'[profiles.p]\nclient_id = "c"\ntoken_url = "{DEV_URL}"\nsecret_cmd = {json.dumps(failing)}\n'
    )
    path.chmod(0o600)
    credentials = Credentials(choose({"TRULIOO_CONFIG_FILE": str(path)}, profile="p"))
    with pytest.raises(ConfigurationError) as caught:
        credentials.read_secret()
    assert str(caught.value) == (
        f"the secret_cmd of profile p ({path}:4) exited with status 3 (its output is not shown: run it "
        "yourself to see why)."
    )


def test_no_secret_lists_the_logins_there_are(keyring_folder: Path) -> None:
    store_in_keyring(PROD_URL, "c", "kept-for-prod")
    store_in_keyring(DEV_URL, "other", "kept-for-other")
    elsewhere = choose({"TRULIOO_CLIENT_ID": "c", "TRULIOO_TOKEN_URL": DEV_URL})
    with pytest.raises(ConfigurationError) as caught:
        resolve(elsewhere, prompt=lambda client_id, token_url: None)
    assert str(caught.value).endswith(
        "httpie-trulioo login. (logins in the keyring: "
        f"client 'c' at {PROD_URL}; client 'other' at {DEV_URL})"
    )
    assert "kept-for" not in str(caught.value)
