"""Named profiles for environments and clients, from a TOML file in the user config folder.

    [profiles.dev]
    token_url = "https://auth-api-primary.dev.trulioo.com/connect/token"
    scope = "workflow.studio.api"
    client_id = "my-dev-client"
    secret_env = "DEV_SECRET"   # the name of a variable that holds the secret
    api_hosts = ["*.trulioo.com"]   # where its tokens may be sent

    [profiles.staging]          # another OAuth 2.0 server
    token_url = "https://idp.example.com/oauth/token"
    scope = ""                  # asks for no scope
    auth_method = "client_secret_basic"
    audience = "https://api.example.com/"
    resource = "https://api.example.com/"

``TRULIOO_PROFILE=dev`` picks one. The secret itself never lives in this file: a profile with a
``client_secret`` key is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from .errors import ConfigurationError

PROFILE_KEYS = (
    "token_url", "scope", "client_id", "secret_env", "api_hosts", "auth_method", "audience", "resource"
)  # fmt: skip
_LIST_KEYS = frozenset({"api_hosts"})  # keys whose value is a list of strings; the others are strings
# Keys whose empty value means something: scope = "" asks for no scope.
_MAY_BE_EMPTY = frozenset({"scope"})


def text_of(profile: Mapping[str, object], key: str) -> str | None:
    """A profile's string value for ``key``; None when it has none."""
    value = profile.get(key)
    return value if isinstance(value, str) else None


def config_file(environ: Mapping[str, str]) -> str:
    """The profiles file: TRULIOO_CONFIG_FILE, else config.toml in the platformdirs config folder."""
    given = environ.get("TRULIOO_CONFIG_FILE", "").strip()
    if given:
        return given
    import platformdirs  # noqa: PLC0415 - only a call that uses profiles needs it

    return os.path.join(platformdirs.user_config_dir("httpie-trulioo", appauthor=False), "config.toml")


def load_profile(environ: Mapping[str, str]) -> dict[str, object]:
    """The profile TRULIOO_PROFILE names, checked; an empty dict when none is named."""
    name = environ.get("TRULIOO_PROFILE", "").strip()
    if not name:
        return {}
    path = config_file(environ)
    text = read_text(path)
    profiles = _read_profiles(path, text)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigurationError(f"{path}: no profile named {name!r} (TRULIOO_PROFILE); profiles: {known}.")
    return _check_profile(path, text, name, profiles[name])


def read_text(path: str) -> str:
    """The file's text, or a one-line ConfigurationError that names it."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: no such file, so no profiles (TRULIOO_PROFILE is set).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})."
        ) from None


def _read_profiles(path: str, text: str) -> dict[str, object]:
    import tomllib  # noqa: PLC0415 - only a call that uses profiles needs it

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}.") from None
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigurationError(f"{path}:{_line_of(text, 'profiles')}: 'profiles' must be a table.")
    return profiles


def _check_profile(path: str, text: str, name: str, profile: object) -> dict[str, object]:
    if not isinstance(profile, dict):
        raise ConfigurationError(f"{path}:{_line_of(text, name)}: profile {name!r} must be a table.")
    if "client_secret" in profile:
        raise ConfigurationError(
            f"{path}:{_line_of(text, 'client_secret', name)}: profile {name!r} holds a client_secret; "
            "secrets do not belong in this file: remove it and name a variable with secret_env."
        )
    for key, value in profile.items():
        if key not in PROFILE_KEYS:
            raise ConfigurationError(
                f"{path}:{_line_of(text, key, name)}: unknown key {key!r} in profile {name!r}; "
                f"known keys: {', '.join(PROFILE_KEYS)}."
            )
        if key in _LIST_KEYS:
            if not (isinstance(value, list) and value and all(isinstance(item, str) for item in value)):
                raise ConfigurationError(
                    f"{path}:{_line_of(text, key, name)}: {key} in profile {name!r} must be a "
                    "non-empty list of strings."
                )
        elif not isinstance(value, str) or (not value and key not in _MAY_BE_EMPTY):
            raise ConfigurationError(
                f"{path}:{_line_of(text, key, name)}: {key} in profile {name!r} must be a non-empty string."
            )
        elif key == "auth_method":
            _check_auth_method(path, text, name, value)
    return dict(profile)


def _check_auth_method(path: str, text: str, name: str, value: str) -> None:
    from .settings import AUTH_METHODS  # noqa: PLC0415 - settings imports this module

    if value.lower() not in AUTH_METHODS:
        raise ConfigurationError(
            f"{path}:{_line_of(text, 'auth_method', name)}: auth_method in profile {name!r} must be "
            f"{' or '.join(AUTH_METHODS)}; it is {value!r}."
        )


def _line_of(text: str, key: str, profile: str | None = None) -> int:
    """The line where ``key`` is set (inside ``[profiles.<profile>]`` when given); 1 if not found."""
    inside = profile is None
    header = re.compile(r"^\s*\[\s*profiles\s*\.\s*[\"']?" + re.escape(profile or "") + r"[\"']?\s*\]")
    assignment = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*[=.\]]")
    for number, line in enumerate(text.splitlines(), start=1):
        if profile is not None and line.lstrip().startswith("["):
            inside = bool(header.match(line))
            if inside and key == profile:
                return number
            continue
        if inside and assignment.match(line):
            return number
    return 1
