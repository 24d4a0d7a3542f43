"""Unit tests for reading the profiles file: choosing a profile by name, refusing what ssh would."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import posix_only

from httpie_trulioo.errors import ConfigurationError
from httpie_trulioo.profiles import _refuse_if_others_can_write, load_profile, load_profiles, others_may_write


def write(tmp_path: Path, text: str, mode: int = 0o600) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return {"TRULIOO_CONFIG_FILE": str(path)}


@posix_only("mode bits; on Windows the folder's ACL decides who may write")
@pytest.mark.parametrize(
    "holds",
    [
        'secret_cmd = "evil"',
        '"secret\\u005fcmd" = "evil"',  # a TOML escape spells it too
        'token_url = "http://127.0.0.1:9999/"\nsecret_env = "AWS_SECRET_ACCESS_KEY"',  # no command at all
        "",
    ],
)
@pytest.mark.parametrize("mode", [0o620, 0o602])
def test_a_file_others_can_write_is_refused_whatever_it_holds(tmp_path: Path, holds: str, mode: int) -> None:
    environ = write(tmp_path, f'[profiles.other]\n{holds}\n[profiles.p]\nclient_id = "c"\n', mode)
    path = environ["TRULIOO_CONFIG_FILE"]
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "p", by_name=True)
    assert str(caught.value) == (
        f"{path}: refusing a profiles file that others can write (run: chmod go-w '{path}')."
    )
    Path(path).chmod(0o644)
    assert load_profile(environ, "p", by_name=True) == {"client_id": "c"}


@posix_only("mode bits; on Windows the folder's ACL decides who may write")
@pytest.mark.parametrize(("mode", "refused"), [(0o777, True), (0o770, True), (0o1777, False), (0o755, False)])
def test_a_folder_others_can_write_is_refused_unless_its_sticky_bit_keeps_the_file_ours(
    tmp_path: Path, mode: int, refused: bool
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    environ = write(folder, '[profiles.p]\nclient_id = "c"\n')
    folder.chmod(mode)
    if not refused:
        assert load_profile(environ, "p", by_name=True) == {"client_id": "c"}
        return
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "p", by_name=True)
    assert str(caught.value) == (
        f"{environ['TRULIOO_CONFIG_FILE']}: refusing a profiles file in a folder that others can write "
        f"(run: chmod go-w '{folder}')."
    )


@posix_only("user ids")
def test_a_file_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    environ = write(tmp_path, '[profiles.p]\nclient_id = "c"\n', 0o644)
    path = environ["TRULIOO_CONFIG_FILE"]
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)  # root can give the file away for real
    else:
        monkeypatch.setattr(os, "getuid", lambda: os.geteuid() + 1)  # or be someone else
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "p", by_name=True)
    assert str(caught.value) == (
        f"{path}: refusing a profiles file that others can write ({path} belongs to another user)."
    )


@pytest.mark.parametrize("given", ["config.toml", "./config.toml", "profiles/config.toml", "a~/config.toml"])
def test_a_profiles_file_must_be_named_by_an_absolute_path(tmp_path: Path, given: str) -> None:
    """A relative path follows the current folder: a cloned repository could ship the file."""
    with pytest.raises(ConfigurationError) as caught:
        load_profile({"TRULIOO_CONFIG_FILE": given}, "p", by_name=True)
    assert str(caught.value) == (
        f"TRULIOO_CONFIG_FILE must be an absolute path (or start with ~); it is {given!r}."
    )


def test_a_profiles_file_may_start_with_a_tilde(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path, '[profiles.p]\nclient_id = "c"\n')
    assert load_profile({"TRULIOO_CONFIG_FILE": "~/config.toml"}, "p", by_name=True) == {"client_id": "c"}


def test_a_profile_chosen_by_name_beats_trulioo_profile(tmp_path: Path) -> None:
    environ = write(tmp_path, '[profiles.p]\nscope = "a"\n[profiles.q]\nscope = "b"\n')
    environ["TRULIOO_PROFILE"] = "q"
    assert load_profile(environ) == {"scope": "b"}
    assert load_profile(environ, "p", by_name=True) == {"scope": "a"}


def test_unknown_profile_names_are_one_line_naming_the_file(tmp_path: Path) -> None:
    environ = write(tmp_path, '[profiles.dev]\nscope = "a"\n[profiles.bare]\n')
    path = environ["TRULIOO_CONFIG_FILE"]
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "prod", by_name=True)
    assert str(caught.value) == f"{path}: no profile named 'prod'; profiles: bare, dev."
    environ["TRULIOO_CONFIG_FILE"] = str(tmp_path / "absent.toml")
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "prod", by_name=True)
    assert str(caught.value) == f"{tmp_path / 'absent.toml'}: no such file, so no profile 'prod'."


def test_who_may_have_written_a_file_is_judged_as_ssh_does(tmp_path: Path) -> None:
    mine = tmp_path / "config.toml"
    mine.write_text("")
    for mode, others in [(0o600, False), (0o644, False), (0o620, True), (0o602, True)]:
        mine.chmod(mode)
        assert others_may_write(mine.stat()) is others, oct(mode)
    assert others_may_write(SimpleNamespace(st_uid=os.getuid() + 1, st_mode=0o600))
    assert not others_may_write(SimpleNamespace(st_uid=0, st_mode=0o644))  # root's


def test_without_user_ids_who_may_write_is_left_to_the_folder_acl(without_posix_calls: Path) -> None:
    assert not others_may_write(SimpleNamespace(st_uid=12345, st_mode=0o666))


@posix_only("mode bits and user ids")
@pytest.mark.parametrize(
    ("owner", "mode", "advice"),
    [
        (1000, 0o100620, "run: chmod go-w '{path}'"),  # this user's file: they can fix it
        (0, 0o100602, "run: chmod go-w '{path}'"),  # root's file is trusted as ssh trusts it
        (1001, 0o100644, "{path} belongs to another user"),  # only its owner could fix it
    ],
)
def test_a_refused_profiles_file_says_how_to_fix_it_or_whose_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, owner: int, mode: int, advice: str
) -> None:
    monkeypatch.setattr(os, "getuid", lambda: 1000)  # this process runs as user 1000, whoever runs it
    path = str(tmp_path / "config.toml")
    with pytest.raises(ConfigurationError) as caught:
        _refuse_if_others_can_write(path, SimpleNamespace(st_uid=owner, st_mode=mode))
    assert str(caught.value) == (
        f"{path}: refusing a profiles file that others can write ({advice.format(path=path)})."
    )


@posix_only("user ids")
def test_a_file_that_only_this_user_or_root_can_write_may_name_a_secret_cmd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "getuid", lambda: 1000)
    for owner in (1000, 0):
        _refuse_if_others_can_write(
            str(tmp_path / "config.toml"), SimpleNamespace(st_uid=owner, st_mode=0o100644)
        )


def test_no_profile_chosen_reads_no_file(tmp_path: Path) -> None:
    absent = {"TRULIOO_CONFIG_FILE": str(tmp_path / "absent.toml")}
    assert load_profile({}) == {}
    assert load_profile(absent) == {}
    assert load_profile({**absent, "TRULIOO_PROFILE": "  "}) == {}
    assert load_profiles(absent) == {}


def test_a_profile_chosen_by_trulioo_profile_is_named_so_in_its_errors(tmp_path: Path) -> None:
    environ = write(tmp_path, "# no profiles yet\n")
    environ["TRULIOO_PROFILE"] = " prod "
    path = environ["TRULIOO_CONFIG_FILE"]
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ)
    assert str(caught.value) == f"{path}: no profile named 'prod' (TRULIOO_PROFILE); profiles: none."
    environ["TRULIOO_CONFIG_FILE"] = str(tmp_path / "absent.toml")
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ)
    assert str(caught.value) == (
        f"{tmp_path / 'absent.toml'}: no such file, so no profile 'prod' (TRULIOO_PROFILE)."
    )


def test_every_profile_is_read_as_written_with_each_kind_of_value(tmp_path: Path) -> None:
    environ = write(
        tmp_path,
        """
[profiles.dev]
token_url = "https://auth-api-primary.dev.trulioo.com/connect/token"
scope = ""  # asks for no scope
client_id = "my-dev-client"
secret_env = "DEV_SECRET"
auth_method = "Client_Secret_Basic"
api_hosts = ["*.trulioo.com", "api.example.com"]

[profiles.bare]
""",
    )
    dev = {
        "token_url": "https://auth-api-primary.dev.trulioo.com/connect/token",
        "scope": "",
        "client_id": "my-dev-client",
        "secret_env": "DEV_SECRET",
        "auth_method": "Client_Secret_Basic",
        "api_hosts": ["*.trulioo.com", "api.example.com"],
    }
    assert load_profile(environ, "dev", by_name=True) == dev
    assert load_profiles(environ) == {"dev": dev, "bare": {}}


# A valid profile before the bad one: the line is looked for inside the bad one.
QA = (
    '[profiles.qa]\nscope = "x"\naudience = "y"\napi_hosts = ["*.trulioo.com"]\n'
    'auth_method = "client_secret_basic"\n'
)
KNOWN_KEYS = (
    "client_id, secret_env, secret_cmd, token_url, scope, auth_method, audience, resource, api_hosts, "
    "default_lifetime, retry_401"
)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param(
            '[profiles.vault]\nclient_id = "v"\n[profiles.dev]\nclient_id = "c"\nclient_secret = "oops"\n',
            ":5: profile 'dev' holds a client_secret; secrets do not belong in this file: remove it "
            "and name a variable with secret_env.",
            id="client_secret",
        ),
        pytest.param(
            '# team profiles\n[profiles.qa]\nscope = "x"\n[profiles.notes]\nscope = "not dev\'s"\n\n'
            '  [ profiles . "dev" ]\nscope = "a"\n  "scopes" = "y"\n',
            f":9: unknown key 'scopes' in profile 'dev'; known keys: {KNOWN_KEYS}.",
            id="the line is looked for inside the profile's own table, however its header is spaced",
        ),
        pytest.param(
            '[profiles.dev]\nscope = "a"\nextra.part = "x"\n',
            f":3: unknown key 'extra' in profile 'dev'; known keys: {KNOWN_KEYS}.",
            id="a dotted key",
        ),
        pytest.param(
            '[profiles.dev]\n"scope\\u0073" = "x"\n',
            f":1: unknown key 'scopes' in profile 'dev'; known keys: {KNOWN_KEYS}.",
            id="a key spelled with an escape is not found: line 1",
        ),
        pytest.param(
            QA + "[profiles.dev]\nscope = 5\n",
            ":7: scope in profile 'dev' must be a non-empty string.",
            id="not a string",
        ),
        pytest.param(
            QA + '[profiles.dev]\nscope = ""\naudience = ""\n',
            ":8: audience in profile 'dev' must be a non-empty string.",
            id="only scope may be empty",
        ),
        pytest.param(
            QA + "[profiles.dev]\napi_hosts = []\n",
            ":7: api_hosts in profile 'dev' must be a non-empty list of strings.",
            id="an empty list",
        ),
        pytest.param(
            '[profiles.dev]\napi_hosts = ["*.trulioo.com", 5]\n',
            ":2: api_hosts in profile 'dev' must be a non-empty list of strings.",
            id="a list with a number",
        ),
        pytest.param(
            '[profiles.dev]\napi_hosts = "*.trulioo.com"\n',
            ":2: api_hosts in profile 'dev' must be a non-empty list of strings.",
            id="a string for a list",
        ),
        pytest.param(
            QA + '[profiles.dev]\nauth_method = "basic"\n',
            ":7: auth_method in profile 'dev' must be client_secret_post or client_secret_basic; "
            "it is 'basic'.",
            id="auth_method",
        ),
        pytest.param(
            '[profiles]\ndev = "x"\n',
            ":2: profile 'dev' must be a table.",
            id="a profile that is not a table",
        ),
        pytest.param(
            '# profiles\nprofiles = "dev"\n',
            ":2: 'profiles' must be a table.",
            id="profiles that are not a table",
        ),
        pytest.param(
            'hosts = [\n  ["a"],\n]\nprofiles = ["dev"]\n',
            ":4: 'profiles' must be a table.",
            id="a line of a value that starts like a header",
        ),
    ],
)
def test_a_bad_profile_is_one_line_naming_the_file_and_the_line(
    tmp_path: Path, text: str, error: str
) -> None:
    environ = write(tmp_path, text)
    path = environ["TRULIOO_CONFIG_FILE"]
    with pytest.raises(ConfigurationError) as chosen:
        load_profile(environ, "dev", by_name=True)
    assert str(chosen.value) == path + error
    assert "oops" not in str(chosen.value)
    with pytest.raises(ConfigurationError) as listed:
        load_profiles(environ)
    assert str(listed.value) == path + error


def test_a_file_that_is_not_toml_is_one_line_with_the_parsers_reason(tmp_path: Path) -> None:
    text = '[profiles.dev]\nscope = "a"\nscope = = "x"\n'
    environ = write(tmp_path, text)
    with pytest.raises(tomllib.TOMLDecodeError) as parser:
        tomllib.loads(text)
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "dev", by_name=True)
    assert str(caught.value) == f"{environ['TRULIOO_CONFIG_FILE']}: not valid TOML: {parser.value}."
    assert "line 3" in str(caught.value)


@posix_only("opening a folder fails with 'Is a directory'")
def test_a_profiles_file_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()
    with pytest.raises(ConfigurationError) as caught:
        load_profile({"TRULIOO_CONFIG_FILE": str(folder)}, "dev", by_name=True)
    assert str(caught.value) == f"{folder}: cannot be read (Is a directory)."


def test_a_profiles_file_that_is_not_utf8_says_why(tmp_path: Path) -> None:
    environ = write(tmp_path, "")
    path = environ["TRULIOO_CONFIG_FILE"]
    Path(path).write_bytes(b'[profiles.dev]\nscope = "caf\xe9"\n')  # Latin-1
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "dev", by_name=True)
    assert str(caught.value) == (
        f"{path}: cannot be read ('utf-8' codec can't decode byte 0xe9 in position 27: invalid "
        "continuation byte)."
    )


def test_every_profile_is_checked_when_all_are_read_even_one_none_can_choose(tmp_path: Path) -> None:
    environ = write(tmp_path, QA + '[profiles.""]\nscope = "a"\nscope_typo = "b"\n')
    with pytest.raises(ConfigurationError) as caught:
        load_profiles(environ)
    path = environ["TRULIOO_CONFIG_FILE"]
    assert str(caught.value) == f"{path}:8: unknown key 'scope_typo' in profile ''; known keys: {KNOWN_KEYS}."


def test_a_misspelled_profile_name_gets_a_suggestion(tmp_path: Path) -> None:
    environ = write(tmp_path, '[profiles.prod]\nscope = "a"\n[profiles.dev]\n')
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "prd", by_name=True)
    assert str(caught.value) == (
        f"{environ['TRULIOO_CONFIG_FILE']}: no profile named 'prd'; did you mean 'prod'? profiles: dev, prod."
    )


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        (
            '# QA\n[profile.qa]\nclient_id = "c"\n',
            2,
            "[profile.qa] is not read: profiles are tables named [profiles.qa].",
        ),
        (
            '[profiles.p]\nscope = "a"\n\n[profils.q]\nscope = "b"\n',
            4,
            "'profils' is not read: every profile",
        ),
        ('token_url = "https://x.example/t"\n[profiles.p]\n', 1, "'token_url' is not read: every profile"),
    ],
)
def test_what_the_file_holds_outside_profiles_is_refused_not_ignored(
    tmp_path: Path, text: str, line: int, says: str
) -> None:
    """A [profile.qa] table (singular) was silently ignored, and the call went on without it."""
    environ = write(tmp_path, text + "[profiles.p]\n" * ("[profiles.p]" not in text))
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "p", by_name=True)
    assert str(caught.value).startswith(f"{environ['TRULIOO_CONFIG_FILE']}:{line}: {says}")


def test_a_key_named_like_its_profile_is_found_on_its_own_line(tmp_path: Path) -> None:
    environ = write(tmp_path, '[profiles.scope]\nclient_id = "c"\nscope = 5\n')
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "scope", by_name=True)
    assert (
        str(caught.value)
        == f"{environ['TRULIOO_CONFIG_FILE']}:3: scope in profile 'scope' must be a non-empty string."
    )


def test_a_profile_knows_the_line_that_sets_each_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    environ = write(
        tmp_path,
        '# mine\n[profiles.qa]\nclient_id = "q"\n\n[profiles.dev]\nclient_id = "c"\n  scope = "napi.api"\n',
    )
    path = environ["TRULIOO_CONFIG_FILE"]
    dev = load_profile(environ, "dev")
    assert (dev.where("client_id"), dev.where("scope")) == (
        f"profile dev ({path}:6)",
        f"profile dev ({path}:7)",
    )
    assert load_profile(environ, "qa").where("client_id") == f"profile qa ({path}:3)"
    monkeypatch.setenv("HOME", str(tmp_path))  # the file is under the home folder: named from ~
    assert dev.where("scope") == f"profile dev (~{os.sep}{Path(path).relative_to(tmp_path)}:7)"
    monkeypatch.setenv("HOME", str(tmp_path) + "-other")  # a folder whose name only starts the same
    assert dev.where("scope") == f"profile dev ({path}:7)"


def test_a_bad_value_in_a_profile_is_one_line_naming_the_file_and_line(tmp_path: Path) -> None:
    from httpie_trulioo.credentials import choose  # noqa: PLC0415 - the reading of a profile's values

    environ = write(tmp_path, '[profiles.dev]\nclient_id = "c"\ntoken_url = "ftp://a.example/t"\n')
    path = re.escape(environ["TRULIOO_CONFIG_FILE"])
    with pytest.raises(
        ConfigurationError, match=rf"^token_url in profile dev \({path}:3\) must be an https://"
    ):
        choose(environ, profile="dev")
    write(tmp_path, '[profiles.dev]\nclient_id = "c"\n\nresource = "no-scheme"\n')
    with pytest.raises(
        ConfigurationError, match=rf"^resource in profile dev \({path}:4\) must be an absolute"
    ):
        choose(environ, profile="dev")
    with pytest.raises(ConfigurationError, match=r"^TRULIOO_RESOURCE must be an absolute URI"):
        choose({**environ, "TRULIOO_RESOURCE": "also-no-scheme"})  # no profile chosen: the variable


def test_a_switch_or_a_number_may_be_written_as_toml_writes_it(tmp_path: Path) -> None:
    from httpie_trulioo.credentials import choose  # noqa: PLC0415 - the reading of a profile's values

    environ = write(tmp_path, '[profiles.idp]\nclient_id = "c"\nretry_401 = false\ndefault_lifetime = 600\n')
    settings = choose(environ, profile="idp").settings
    assert (settings.retry_401, settings.default_lifetime) == (False, 600.0)
    assert (
        choose(write(tmp_path, '[profiles.idp]\nretry_401 = "off"\n'), profile="idp").settings.retry_401
        is False
    )
    path = environ["TRULIOO_CONFIG_FILE"]
    for line, message in (
        ("retry_401 = 0", "retry_401 in profile 'idp' must be a boolean or a non-empty string."),
        (
            "default_lifetime = true",
            "default_lifetime in profile 'idp' must be a number or a non-empty string.",
        ),
        ("scope = 5", "scope in profile 'idp' must be a non-empty string."),
    ):
        write(tmp_path, f'[profiles.idp]\nclient_id = "c"\n{line}\n')
        with pytest.raises(ConfigurationError) as caught:
            choose(environ, profile="idp")
        assert str(caught.value) == f"{path}:3: {message}"
    write(tmp_path, '[profiles.idp]\nclient_id = "c"\ndefault_lifetime = -1\n')
    with pytest.raises(
        ConfigurationError, match=r"^default_lifetime in profile idp \(.*:3\) must be a number of"
    ):
        choose(environ, profile="idp")
