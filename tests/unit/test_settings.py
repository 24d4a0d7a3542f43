"""Unit tests for settings: defaults, overrides, and a clear error for each bad value."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httpie_trulioo import settings as settings_module
from httpie_trulioo.cache import cache_folder
from httpie_trulioo.errors import ConfigurationError, InsecureTokenURL
from httpie_trulioo.profiles import config_file, load_profile
from httpie_trulioo.settings import (
    APP_NAME,
    BY_NAME,
    DEFAULT_SCOPE,
    DEFAULT_TOKEN_URL,
    Setting,
    check_token_url,
    load_settings,
    log_to_stderr,
    pick,
    shown_default,
    user_folder,
)


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.token_url == DEFAULT_TOKEN_URL == "https://auth-api.trulioo.com/connect/token"
    assert settings.scope == DEFAULT_SCOPE == "workflow.studio.api"
    assert settings.token_buffer == 60
    assert settings.timeout == 30
    assert settings.cache_dir is None
    assert settings.cache_enabled


def test_environment_overrides_defaults() -> None:
    settings = load_settings(
        {
            "TRULIOO_TOKEN_URL": "https://auth-api-primary.dev.trulioo.com/connect/token",
            "TRULIOO_SCOPE": "napi.api",
            "TRULIOO_TOKEN_BUFFER": "0",
            "TRULIOO_TIMEOUT": "2.5",
            "TRULIOO_CACHE_DIR": "/somewhere",
            "TRULIOO_CACHE": "off",
        }
    )
    assert settings.token_url == "https://auth-api-primary.dev.trulioo.com/connect/token"
    assert (settings.scope, settings.token_buffer, settings.timeout) == ("napi.api", 0, 2.5)
    assert (settings.cache_dir, settings.cache_enabled) == ("/somewhere", False)


def test_arguments_are_checked_like_variables_and_named_as_arguments() -> None:
    with pytest.raises(ConfigurationError, match=r"^the timeout argument must be a number of seconds"):
        load_settings({}, timeout=1e10)
    with pytest.raises(ConfigurationError, match=r"^the token_buffer argument must be a number of seconds"):
        load_settings({}, token_buffer=-1)


def test_arguments_override_environment() -> None:
    settings = load_settings(
        {"TRULIOO_SCOPE": "napi.api", "TRULIOO_TOKEN_BUFFER": "abc"}, scope="x", token_buffer=5
    )
    assert (settings.scope, settings.token_buffer) == ("x", 5)


def test_an_unknown_argument_is_a_type_error_naming_each() -> None:
    with pytest.raises(TypeError) as caught:
        load_settings({}, timeout=5, scopes="napi.api", colour="blue")
    assert str(caught.value) == "unknown settings: colour, scopes"


def test_the_settings_repr_shows_every_value_as_a_keyword() -> None:
    settings = load_settings(
        {"TRULIOO_CLIENT_ID": "my-client"}, profile={"scope": "napi.api"}, profile_name="dev"
    )
    assert repr(settings) == (
        "Settings(client_id='my-client', token_url='https://auth-api.trulioo.com/connect/token', "
        "scope='napi.api', auth_method='client_secret_post', audience='', resource='', "
        "api_hosts=('*.trulioo.com',), token_buffer=60.0, default_lifetime=None, timeout=30.0, "
        "cache_dir=None, cache_enabled=True, retry_401=True, log='warning', profile='dev', "
        "sources={'client_id': 'TRULIOO_CLIENT_ID', 'token_url': 'default', 'scope': 'profile dev', "
        "'auth_method': 'default', 'audience': 'default', 'resource': 'default', 'api_hosts': 'default', "
        "'token_buffer': 'default', 'default_lifetime': 'default', 'timeout': 'default', "
        "'cache_dir': 'default', 'cache_enabled': 'default', 'retry_401': 'default', 'log': 'default'})"
    )


def test_a_row_of_the_table_is_all_it_takes_to_read_a_setting() -> None:
    """What a row declares is what pick, is_set and shown_default go by."""
    row = Setting("colour", "TRULIOO_COLOUR", True, "blue", "the colour of things", settings_module._text)
    assert (row.name, row.variable, row.in_profile, row.default) == ("colour", "TRULIOO_COLOUR", True, "blue")
    assert (row.meaning, row.read, row.blank_is_a_value, row.shown) == (
        "the colour of things",
        settings_module._text,
        False,
        "",
    )
    environ = {"TRULIOO_COLOUR": "green"}
    assert pick(row, {"colour": "red"}, environ, {"colour": "grey"}, "dev") == ("red", "argument")
    assert pick(row, {}, environ, {"colour": "grey"}, "dev") == ("green", "TRULIOO_COLOUR")
    assert pick(row, {}, {"TRULIOO_COLOUR": " "}, {"colour": "grey"}, "dev") == ("grey", "profile dev")
    assert pick(row, {}, {}, {"colour": ""}, "dev") == (None, "default")
    assert shown_default(row) == "`blue`"
    env_only = Setting(
        "colour", "TRULIOO_COLOUR", False, None, "m", blank_is_a_value=True, shown="as it comes"
    )
    assert pick(env_only, {}, {"TRULIOO_COLOUR": ""}, {"colour": "grey"}, "dev") == ("", "TRULIOO_COLOUR")
    assert pick(env_only, {}, {}, {"colour": "grey"}, "dev") == (None, "default")
    assert shown_default(env_only) == "as it comes"


@pytest.mark.parametrize(
    ("default", "shown"),
    [
        (True, "`on`"),
        (False, "`off`"),
        (None, "none"),
        ("", "none"),
        (60.0, "`60`"),
        (0.5, "`0.5`"),
        ("x", "`x`"),
    ],
)
def test_defaults_are_shown_as_people_write_them(default: object, shown: str) -> None:
    assert shown_default(Setting("name", "TRULIOO_NAME", False, default, "meaning")) == shown


def test_the_readme_defaults_of_the_table() -> None:
    assert [shown_default(BY_NAME[name]) for name in ("cache_enabled", "token_buffer", "api_hosts")] == [
        "`on`",
        "`60`",
        "`*.trulioo.com`, and `loopback` for a loopback token URL",
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRULIOO_TOKEN_BUFFER", "-1"),
        ("TRULIOO_TOKEN_BUFFER", "abc"),
        ("TRULIOO_TOKEN_BUFFER", "nan"),
        ("TRULIOO_TOKEN_BUFFER", "inf"),
        ("TRULIOO_TIMEOUT", "0"),
        ("TRULIOO_TIMEOUT", "-3"),
        ("TRULIOO_TIMEOUT", "ten"),
        ("TRULIOO_TIMEOUT", "1e10"),  # past what a thread join or a socket timeout accepts
        ("TRULIOO_TIMEOUT", "3601"),
        ("TRULIOO_TOKEN_BUFFER", "86401"),
        ("TRULIOO_CACHE", "maybe"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name) as caught:
        load_settings({name: value})
    assert repr(value) in str(caught.value)


# The table builds its readers of seconds when the module is imported: the factory is called here.
@pytest.mark.parametrize(
    ("least", "most", "variable", "raw", "seconds"),
    [
        (None, 3600.0, "TRULIOO_TIMEOUT", " 2.5 ", 2.5),
        (None, 3600.0, "TRULIOO_TIMEOUT", "0.5", 0.5),
        (None, 3600.0, "TRULIOO_TIMEOUT", "3600", 3600.0),
        (None, 3600.0, "TRULIOO_TIMEOUT", 7, 7.0),
        (0.0, 86400.0, "TRULIOO_TOKEN_BUFFER", "0", 0.0),
        (0.0, 86400.0, "TRULIOO_TOKEN_BUFFER", "86400", 86400.0),
    ],
)
def test_a_number_of_seconds_within_its_bounds_is_read(
    least: float | None, most: float, variable: str, raw: object, seconds: float
) -> None:
    assert settings_module._seconds(least, most)(raw, variable) == seconds
    assert getattr(load_settings({variable: str(raw)}), variable.removeprefix("TRULIOO_").lower()) == seconds


@pytest.mark.parametrize(
    ("least", "most", "variable", "raw", "message"),
    [
        (None, 3600.0, "TRULIOO_TIMEOUT", "0", "more than 0 and at most 3600; it is '0'."),
        (None, 3600.0, "TRULIOO_TIMEOUT", " -3 ", "more than 0 and at most 3600; it is '-3'."),
        (None, 3600.0, "TRULIOO_TIMEOUT", "ten", "more than 0 and at most 3600; it is 'ten'."),
        (None, 3600.0, "TRULIOO_TIMEOUT", "3600.5", "more than 0 and at most 3600; it is '3600.5'."),
        (None, 3600.0, "TRULIOO_TIMEOUT", "inf", "more than 0 and at most 3600; it is 'inf'."),
        (0.0, 86400.0, "TRULIOO_TOKEN_BUFFER", "-1", "0 or more and at most 86400; it is '-1'."),
        (0.0, 86400.0, "TRULIOO_TOKEN_BUFFER", "nan", "0 or more and at most 86400; it is 'nan'."),
    ],
)
def test_a_number_of_seconds_out_of_bounds_is_one_line_saying_them(
    least: float | None, most: float, variable: str, raw: str, message: str
) -> None:
    expected = f"{variable} must be a number of seconds, {message}"
    with pytest.raises(ConfigurationError) as caught:
        settings_module._seconds(least, most)(raw, variable)
    assert str(caught.value) == expected
    with pytest.raises(ConfigurationError) as caught:
        load_settings({variable: raw})
    assert str(caught.value) == expected


def test_a_relative_cache_folder_is_refused_and_a_home_one_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings({"TRULIOO_CACHE_DIR": "~/tokens"}).cache_dir == str(tmp_path / "tokens")
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"TRULIOO_CACHE_DIR": "relative/cache"})
    assert str(caught.value) == (
        "TRULIOO_CACHE_DIR must be an absolute path (or start with ~); it is 'relative/cache'."
    )


@pytest.mark.parametrize(("value", "level"), [(" Info ", "info"), ("DEBUG", "debug"), ("warning", "warning")])
def test_trulioo_log_is_read_in_any_case(value: str, level: str) -> None:
    settings = load_settings({"TRULIOO_LOG": value})
    assert (settings.log, settings.sources["log"]) == (level, "TRULIOO_LOG")


def test_a_bad_trulioo_log_is_one_line_with_the_choices() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"TRULIOO_LOG": " Loud "})
    assert str(caught.value) == "TRULIOO_LOG must be one of warning, info, debug; it is 'loud'."


@pytest.fixture
def plugin_logger() -> Iterator[logging.Logger]:
    """The package's logger as Python leaves it (no handler, propagating); put back afterwards."""
    logger = logging.getLogger("httpie_trulioo")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers.clear()
    logger.propagate = True
    yield logger
    logger.handlers[:], logger.propagate = saved[0], saved[2]
    logger.setLevel(saved[1])


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ["warning"]),
        ("loud", ["warning"]),  # reported with the other settings, at request time
        (" Info ", ["info", "warning"]),
        ("debug", ["debug", "info", "warning"]),
    ],
)
def test_log_lines_go_to_stderr_once_at_the_level_trulioo_log_asks(
    value: str | None,
    shown: list[str],
    *,
    plugin_logger: logging.Logger,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    if value is None:
        monkeypatch.delenv("TRULIOO_LOG", raising=False)
    else:
        monkeypatch.setenv("TRULIOO_LOG", value)
    log_to_stderr()
    log_to_stderr()  # every call sets the level; none adds a second handler
    log = logging.getLogger("httpie_trulioo.provider")
    log.debug("[client c @ h] lock waited 12 ms")
    log.info("[client c @ h] cache miss (none)")
    log.warning("[client c @ h] a warning")
    lines = {
        "debug": "httpie-trulioo: [client c @ h] lock waited 12 ms\n",
        "info": "httpie-trulioo: [client c @ h] cache miss (none)\n",
        "warning": "httpie-trulioo: [client c @ h] a warning\n",
    }
    assert capsys.readouterr().err == "".join(lines[level] for level in shown)
    assert caplog.records == []  # not also through the application's root logger


def test_api_hosts_from_an_argument_a_variable_or_the_profile_replace_the_default() -> None:
    loopback = {"TRULIOO_TOKEN_URL": "http://127.0.0.1:8765/connect/token"}

    def api_hosts(environ: dict[str, str], **options: object) -> tuple[tuple[str, ...], str]:
        settings = load_settings(environ, **options)  # type: ignore[arg-type]
        return settings.api_hosts, settings.sources["api_hosts"]

    assert api_hosts({}) == (("*.trulioo.com",), "default")
    assert api_hosts(loopback) == (("*.trulioo.com", "loopback"), "default")
    variable = {**loopback, "TRULIOO_API_HOSTS": " API.example.com ,*.gw.example.net"}
    assert api_hosts(variable) == (("api.example.com", "*.gw.example.net"), "TRULIOO_API_HOSTS")
    profile = {"api_hosts": ["api.example.com", "[::1]"]}
    assert api_hosts(loopback, profile=profile, profile_name="staging") == (
        ("api.example.com", "::1"),
        "profile staging",
    )
    assert api_hosts(variable, profile=profile, api_hosts=("gateway.example.org",)) == (
        ("gateway.example.org",),
        "argument",
    )


@pytest.mark.parametrize(
    ("environ", "profile", "message"),
    [
        (
            {"TRULIOO_API_HOSTS": "api.example.com:443"},
            {},
            (
                "TRULIOO_API_HOSTS must list host names, *.domain patterns or 'loopback', separated by "
                "commas; 'api.example.com:443' is not one."
            ),
        ),
        (
            {},
            {"api_hosts": ["api.example.com", "*"]},
            (
                "api_hosts in profile dev must list host names, *.domain patterns or 'loopback', separated "
                "by commas; '*' is not one."
            ),
        ),
    ],
)
def test_bad_api_hosts_are_one_line_naming_where_they_came_from(
    environ: dict[str, str], profile: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ, profile=profile, profile_name="dev")
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "url",
    [
        "https://auth-api.trulioo.com/connect/token",
        "http://127.0.0.1:8080/connect/token",
        "http://127.8.9.10/connect/token",
        "http://[::1]:9/connect/token",
        "http://localhost/connect/token",
        "http://LOCALHOST/connect/token",
    ],
)
def test_secure_or_loopback_urls_are_accepted(url: str) -> None:
    assert check_token_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://auth-api.trulioo.com/connect/token",
        "http://10.0.0.1/connect/token",
        "http://localhost.example.com/connect/token",
        "http://127.0.0.1.example.com/connect/token",
    ],
)
def test_plain_http_elsewhere_is_refused(url: str) -> None:
    with pytest.raises(InsecureTokenURL, match="refusing to send the client secret over plain http"):
        check_token_url(url)


@pytest.mark.parametrize(
    "url", ["ftp://x/y", "auth-api.trulioo.com/connect/token", "https://", "https://h:99999/"]
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="TRULIOO_TOKEN_URL"):
        check_token_url(url)


def test_other_oauth_servers_settings_default_to_what_trulioo_documents() -> None:
    settings = load_settings({})
    assert (settings.auth_method, settings.audience, settings.resource) == ("client_secret_post", "", "")


def test_other_oauth_servers_settings_from_environment_and_profile() -> None:
    environ = {
        "TRULIOO_AUTH_METHOD": "Client_Secret_Basic",
        "TRULIOO_AUDIENCE": " https://api.example.com/ ",
        "TRULIOO_RESOURCE": "urn:example:api",
    }
    settings = load_settings(environ)
    assert settings.auth_method == "client_secret_basic"
    assert (settings.audience, settings.resource) == ("https://api.example.com/", "urn:example:api")
    profile = {"auth_method": "client_secret_basic", "audience": "a", "resource": "https://r.example/"}
    from_profile = load_settings({}, profile=profile)
    assert (from_profile.auth_method, from_profile.audience, from_profile.resource) == (
        "client_secret_basic",
        "a",
        "https://r.example/",
    )
    assert load_settings({"TRULIOO_AUDIENCE": "b"}, profile=profile).audience == "b"


@pytest.mark.parametrize(
    ("environ", "profile", "argument", "expected"),
    [
        ({}, {}, None, DEFAULT_SCOPE),
        ({"TRULIOO_SCOPE": ""}, {}, None, ""),
        ({"TRULIOO_SCOPE": "  "}, {}, None, ""),
        ({"TRULIOO_SCOPE": ""}, {"scope": "napi.api"}, None, ""),
        ({}, {"scope": ""}, None, ""),
        ({}, {"scope": "napi.api"}, None, "napi.api"),
        ({"TRULIOO_SCOPE": "napi.api"}, {}, "", ""),
    ],
)
def test_an_empty_scope_asks_for_none_and_an_unset_one_falls_through(
    environ: dict[str, str], profile: dict[str, str], argument: str | None, expected: str
) -> None:
    assert load_settings(environ, profile=profile, scope=argument).scope == expected


def test_unknown_auth_method_is_one_line_naming_the_variable_and_the_choices() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"TRULIOO_AUTH_METHOD": "private_key_jwt"})
    assert str(caught.value) == (
        "TRULIOO_AUTH_METHOD must be client_secret_post or client_secret_basic; it is 'private_key_jwt'."
    )


@pytest.mark.parametrize("resource", ["api.example.com", "https://api.example.com/#part", "not a uri"])
def test_resource_must_be_an_absolute_uri_without_a_fragment(resource: str) -> None:
    with pytest.raises(ConfigurationError, match="TRULIOO_RESOURCE must be an absolute URI"):
        load_settings({"TRULIOO_RESOURCE": resource})


def test_a_profile_may_ask_for_no_scope(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[profiles.other]\nscope = ""\nauth_method = "client_secret_basic"\nresource = "urn:r"\n')
    profile = load_profile({"TRULIOO_CONFIG_FILE": str(path), "TRULIOO_PROFILE": "other"})
    settings = load_settings({}, profile=profile)
    assert (settings.scope, settings.auth_method, settings.resource) == ("", "client_secret_basic", "urn:r")


# The user cache and config folders, as platformdirs gives them -----------------------------------

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the folder is worked out on Linux only")


@linux_only
@pytest.mark.parametrize("xdg", [None, "", "   ", "absolute"])
def test_the_default_cache_folder_is_platformdirs_folder(
    xdg: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg") if xdg == "absolute" else xdg)
    expected = platformdirs.user_cache_dir(APP_NAME, appauthor=False)
    assert user_folder("cache") == expected
    assert expected.startswith(str(tmp_path))
    if xdg is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config") if xdg == "absolute" else xdg)
    monkeypatch.delenv("TRULIOO_CONFIG_FILE", raising=False)
    folder = platformdirs.user_config_dir(APP_NAME, appauthor=False)
    assert config_file(dict(os.environ)) == os.path.join(folder, "config.toml")


@linux_only
@pytest.mark.parametrize("home", [None, "", "relative/home"])
def test_without_an_absolute_home_platformdirs_says(
    home: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """platformdirs then finds the home folder in the password database; so does the plugin."""
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    if home is None:
        monkeypatch.delenv("HOME", raising=False)
    else:
        monkeypatch.setenv("HOME", home)
    assert user_folder("cache") == platformdirs.user_cache_dir(APP_NAME, appauthor=False)


@linux_only
def test_a_relative_xdg_cache_home_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The XDG base directory rule: a relative path is invalid, so the default applies."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert user_folder("cache") == os.path.join(tmp_path, ".cache", APP_NAME)


def test_elsewhere_platformdirs_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no author folder: on Windows, appauthor=False gives ...\\httpie-trulioo, not two levels."""
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda name, appauthor: f"/caches/{name}/{appauthor}")
    monkeypatch.setattr(
        platformdirs, "user_config_dir", lambda name, appauthor: f"/config/{name}/{appauthor}"
    )
    assert user_folder("cache") == f"/caches/{APP_NAME}/False"
    assert user_folder("config") == f"/config/{APP_NAME}/False"


@linux_only
@pytest.mark.parametrize(
    ("variables", "cache", "config"),
    [
        ({"HOME": "/home/ann"}, "/home/ann/.cache", "/home/ann/.config"),
        (
            {"HOME": "/home/ann", "XDG_CACHE_HOME": "", "XDG_CONFIG_HOME": ""},
            "/home/ann/.cache",
            "/home/ann/.config",
        ),
        ({"HOME": "/home/ann", "XDG_CACHE_HOME": "/xdg/c", "XDG_CONFIG_HOME": "/xdg/f"}, "/xdg/c", "/xdg/f"),
        ({"XDG_CACHE_HOME": "/xdg/c", "XDG_CONFIG_HOME": "/xdg/f"}, "/xdg/c", "/xdg/f"),
    ],
)
def test_on_linux_the_folders_are_worked_out_without_platformdirs(
    variables: dict[str, str], cache: str, config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing platformdirs costs a warm call more than all its other work; its answer is the same."""
    for name in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "ANDROID_DATA", "ANDROID_ROOT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    expected = {"cache": os.path.join(cache, APP_NAME), "config": os.path.join(config, APP_NAME)}
    if "HOME" in variables:
        assert expected == {
            "cache": platformdirs.user_cache_dir(APP_NAME, appauthor=False),
            "config": platformdirs.user_config_dir(APP_NAME, appauthor=False),
        }

    def not_asked(name: str, appauthor: bool) -> str:
        raise AssertionError("platformdirs was asked")

    monkeypatch.setattr(platformdirs, "user_cache_dir", not_asked)
    monkeypatch.setattr(platformdirs, "user_config_dir", not_asked)
    assert {kind: user_folder(kind) for kind in ("cache", "config")} == expected


@linux_only
@pytest.mark.parametrize("variable", ["ANDROID_DATA", "ANDROID_ROOT", "getandroidapilevel"])
def test_on_android_the_shortcut_leaves_it_to_platformdirs(
    variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """platformdirs may pick an Android app folder there."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    for name in ("ANDROID_DATA", "ANDROID_ROOT"):
        monkeypatch.delenv(name, raising=False)
    assert settings_module._linux_folder("cache") == str(tmp_path / "xdg" / APP_NAME)
    if variable.isupper():
        monkeypatch.setenv(variable, "/data")
    else:
        monkeypatch.setattr(sys, variable, lambda: 34, raising=False)
    assert settings_module._linux_folder("cache") is None
    assert settings_module._linux_folder("config") is None


def test_a_configured_folder_wins() -> None:
    settings = load_settings({"TRULIOO_CACHE_DIR": "/somewhere/else"})
    assert cache_folder(settings) == "/somewhere/else"


folder_values = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "relative/dir", "~/x", " /leading-space", "/trailing-space ", "/", "//double"]),
    st.builds(lambda name: "/abs/" + name, st.text(alphabet="ab -._", min_size=1, max_size=8)),
)


@linux_only
@given(xdg_cache=folder_values, xdg_config=folder_values, home=folder_values)
@settings(max_examples=300, deadline=None)
def test_the_shortcut_is_platformdirs_own_answer_on_linux(
    xdg_cache: str | None, xdg_config: str | None, home: str | None
) -> None:
    """Wherever the shortcut answers, platformdirs answers the same; elsewhere platformdirs answers."""
    values = {"XDG_CACHE_HOME": xdg_cache, "XDG_CONFIG_HOME": xdg_config, "HOME": home}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in values.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        for kind, platformdirs_folder in (
            ("cache", platformdirs.user_cache_dir),
            ("config", platformdirs.user_config_dir),
        ):
            shortcut = settings_module._linux_folder(kind)
            if shortcut is not None:
                assert shortcut == platformdirs_folder(APP_NAME, appauthor=False), (kind, values)


@pytest.mark.parametrize("platform", ["darwin", "win32", "cygwin"])
def test_on_macos_and_windows_the_shortcut_leaves_it_to_platformdirs(
    platform: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(sys, "platform", platform)
    assert settings_module._linux_folder("cache") is None
    assert settings_module._linux_folder("config") is None


@pytest.mark.parametrize(
    ("system", "cache", "config"),
    [
        ("macos", "Library/Caches/httpie-trulioo", "Library/Application Support/httpie-trulioo"),
        ("unix", ".cache/httpie-trulioo", ".config/httpie-trulioo"),
    ],
)
def test_the_folders_the_readme_names_are_platformdirs_own(
    system: str, cache: str, config: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The README's default folders, as platformdirs' own classes for each system give them."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    module = importlib.import_module(f"platformdirs.{system}")
    dirs = getattr(module, "MacOS" if system == "macos" else "Unix")(APP_NAME, appauthor=False)
    assert dirs.user_cache_dir == str(tmp_path / cache)
    assert dirs.user_config_dir == str(tmp_path / config)


@pytest.mark.parametrize(
    "variable", ["TRULIOO_CLIENT_ID", "TRULIOO_SCOPE", "TRULIOO_AUDIENCE", "TRULIOO_TOKEN_URL"]
)
def test_a_variable_that_is_not_utf8_is_one_line_naming_it(variable: str) -> None:
    """os.environ holds a byte that is not UTF-8 as a lone surrogate, which no request can carry."""
    with pytest.raises(ConfigurationError, match=rf"^{variable} is not valid UTF-8 text: set it again\.$"):
        load_settings({variable: "value\udcff"})


def test_an_api_hosts_argument_is_checked_and_spelled_as_a_variable_s_would_be() -> None:
    """The Python API's api_hosts=... was taken as given: 'API.example.com' then matched nothing."""
    settings = load_settings({}, api_hosts=("API.example.com", "[::1]"))
    assert settings.api_hosts == ("api.example.com", "::1")
    with pytest.raises(ConfigurationError) as caught:
        load_settings({}, api_hosts=("api.example.com:443",))
    assert str(caught.value) == (
        "the api_hosts argument must list host names, *.domain patterns or 'loopback', separated by "
        "commas; 'api.example.com:443' is not one."
    )


def test_origin_names_what_set_each_value_for_messages() -> None:
    settings = load_settings(
        {"TRULIOO_SCOPE": "napi.api"},
        profile={"token_url": "https://a.example/t"},
        profile_name="dev",
        where=lambda key: f"profile dev (~/config.toml:{len(key)})",
        client_id="c",
    )
    assert [settings.origin(name) for name in ("scope", "token_url", "client_id", "audience")] == [
        "TRULIOO_SCOPE",
        "token_url in profile dev (~/config.toml:9)",
        "the client_id argument",
        "TRULIOO_AUDIENCE",  # a default: its variable is where to change it
    ]
    unplaced = load_settings({}, profile={"scope": ""}, profile_name="qa")
    assert unplaced.origin("scope") == "scope in profile qa"


def test_a_default_lifetime_is_off_unless_set_and_may_come_from_a_profile() -> None:
    assert load_settings({}).default_lifetime is None
    assert load_settings({"TRULIOO_DEFAULT_LIFETIME": " 3600 "}).default_lifetime == 3600.0
    from_profile = load_settings({}, profile={"default_lifetime": "600"}, profile_name="idp")
    assert (from_profile.default_lifetime, from_profile.sources["default_lifetime"]) == (600.0, "profile idp")
    beaten = load_settings({"TRULIOO_DEFAULT_LIFETIME": "60"}, profile={"default_lifetime": "600"})
    assert beaten.default_lifetime == 60.0
    assert shown_default(BY_NAME["default_lifetime"]) == "none"


@pytest.mark.parametrize("raw", ["0", "-5", "86401", "an hour", "nan"])
def test_a_default_lifetime_out_of_bounds_is_one_line_saying_them(raw: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"TRULIOO_DEFAULT_LIFETIME": raw})
    assert str(caught.value) == (
        f"TRULIOO_DEFAULT_LIFETIME must be a number of seconds, more than 0 and at most 86400; it is {raw!r}."
    )


def test_blame_names_what_set_a_value_where_a_message_names_its_variable() -> None:
    settings = load_settings(
        {"TRULIOO_TOKEN_URL": "https://b.example/t", "TRULIOO_SCOPE_EXTRA": "x"},
        profile={"scope": "x", "auth_method": "client_secret_post", "token_url": "https://a.example/t"},
        profile_name="dev",
        where=lambda key: f"profile dev (~/c.toml:{len(key)})",
    )
    assert settings.blame(
        "check TRULIOO_SCOPE: not allowed (an empty TRULIOO_SCOPE asks for none); TRULIOO_SCOPES, "
        "TRULIOO_SCOPE_X and XTRULIOO_AUDIENCE are other words. Check TRULIOO_TOKEN_URL and "
        "TRULIOO_AUDIENCE; if the server wants HTTP Basic, set TRULIOO_AUTH_METHOD=client_secret_basic."
    ) == (
        "check scope in profile dev (~/c.toml:5): not allowed (an empty TRULIOO_SCOPE asks for none); "
        "TRULIOO_SCOPES, TRULIOO_SCOPE_X and XTRULIOO_AUDIENCE are other words. Check TRULIOO_TOKEN_URL "
        "and TRULIOO_AUDIENCE; if the server wants HTTP Basic, set auth_method in profile dev "
        "(~/c.toml:11) to client_secret_basic."
    )  # the token URL came from its variable, the audience is the default: both named as they are
    assert settings.blame("set TRULIOO_AUTH_METHOD=") == "set auth_method in profile dev (~/c.toml:11)="
    assert settings.blame("TRULIOO_SCOPE") == "scope in profile dev (~/c.toml:5)"
    assert load_settings({}, scope="y").blame("check TRULIOO_SCOPE.") == "check the scope argument."
