"""Unit tests for settings: defaults, overrides, and a clear error for each bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from httpie_trulioo.errors import ConfigurationError, InsecureTokenURL
from httpie_trulioo.profiles import load_profile
from httpie_trulioo.settings import DEFAULT_SCOPE, DEFAULT_TOKEN_URL, check_token_url, load_settings


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
