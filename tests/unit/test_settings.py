"""Unit tests for settings: defaults, overrides, and a clear error for each bad value."""

from __future__ import annotations

import importlib
import os
import sys
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
    DEFAULT_SCOPE,
    DEFAULT_TOKEN_URL,
    check_token_url,
    load_settings,
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


def test_arguments_are_checked_like_variables() -> None:
    with pytest.raises(ConfigurationError, match="TRULIOO_TIMEOUT must be a number of seconds"):
        load_settings({}, timeout=1e10)
    with pytest.raises(ConfigurationError, match="TRULIOO_TOKEN_BUFFER must be a number of seconds"):
        load_settings({}, token_buffer=-1)


def test_arguments_override_environment() -> None:
    settings = load_settings(
        {"TRULIOO_SCOPE": "napi.api", "TRULIOO_TOKEN_BUFFER": "abc"}, scope="x", token_buffer=5
    )
    assert (settings.scope, settings.token_buffer) == ("x", 5)


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
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda name, appauthor: f"/from-platformdirs/{name}")
    assert user_folder("cache") == f"/from-platformdirs/{APP_NAME}"


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
