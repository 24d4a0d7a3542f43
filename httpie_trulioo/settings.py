"""Settings from arguments and ``TRULIOO_*`` environment variables, checked before any I/O.

Every call reads them, a warm one too, so this module imports nothing more than the URL rules
and the cache entries' limits, and its errors load only when one is raised.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpie_trulioo as _package  # its errors load only when one is raised (see _package.__getattr__)

from .entries import MAX_LIFETIME
from .urls import DEFAULT_TOKEN_URL, check_token_url, default_api_hosts, parse_api_hosts, token_host

log = logging.getLogger("httpie_trulioo")

LOG_LEVELS = ("warning", "info", "debug")  # TRULIOO_LOG: how much the plugin says on stderr
ARGUMENT = "argument"  # the source of a value that the caller passed (http --auth, Python arguments)
DEFAULT_SCOPE = "workflow.studio.api"
# A token is refreshed this many seconds before it expires, so that it does not run out between
# the moment it is read from the cache and the moment the API checks it.
DEFAULT_TOKEN_BUFFER = 60.0
# Seconds to wait for the token endpoint: long enough for a slow identity server, short enough
# that a person at a terminal is not left wondering.
DEFAULT_TIMEOUT = 30.0
# No token request is worth waiting an hour for; the bound also keeps the value within what the
# thread and socket calls that enforce it accept.
MAX_TIMEOUT = 3600.0
# How the client authenticates to the token endpoint (RFC 6749 section 2.3.1): in the form, as
# Trulioo documents, or in an HTTP Basic header, which every OAuth 2.0 server must accept.
AUTH_METHODS = ("client_secret_post", "client_secret_basic")
DEFAULT_AUTH_METHOD = AUTH_METHODS[0]
_CACHE_OFF = frozenset({"off", "0", "false", "no"})
_CACHE_ON = frozenset({"on", "1", "true", "yes", ""})


# What Settings holds, in order; each is also a profile key or a TRULIOO_* variable (variable_for).
SETTING_NAMES = (
    "token_url", "scope", "token_buffer", "timeout", "cache_dir", "cache_enabled", "api_hosts", "auth_method",
    "audience", "resource",
)  # fmt: skip


class Settings:
    """Everything a token request and the cache need, except the credentials.

    A plain class rather than a NamedTuple, whose making costs an http call more than reading
    every setting does.
    """

    __slots__ = SETTING_NAMES

    def __init__(
        self,
        *,
        token_url: str,
        scope: str,
        token_buffer: float,
        timeout: float,
        cache_dir: str | None,
        cache_enabled: bool,
        api_hosts: tuple[str, ...],
        auth_method: str,
        audience: str,
        resource: str,
    ) -> None:
        """Keep the values as given: ``load_settings`` checks them."""
        self.token_url = token_url
        self.scope = scope
        self.token_buffer = token_buffer
        self.timeout = timeout
        self.cache_dir = cache_dir  # None: the default folder
        self.cache_enabled = cache_enabled
        self.api_hosts = api_hosts
        self.auth_method = auth_method
        self.audience = audience  # "" sends no audience field
        self.resource = resource  # "" sends no resource field (RFC 8707)

    def __repr__(self) -> str:
        """All the values, as keywords."""
        return f"Settings({', '.join(f'{name}={getattr(self, name)!r}' for name in SETTING_NAMES)})"


def text_of(profile: Mapping[str, object], key: str) -> str | None:
    """A profile's string value for ``key``; None when it has none."""
    value = profile.get(key)
    return value if isinstance(value, str) else None


def variable_for(key: str) -> str:
    """The TRULIOO_* variable that sets the same value as a profile key or a setting."""
    return "TRULIOO_CACHE" if key == "cache_enabled" else "TRULIOO_" + key.upper()


def given_settings(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The settings passed as arguments: those that are not None."""
    return {name: value for name, value in arguments.items() if value is not None}


def given_or_variable(given: str | None, environ: Mapping[str, str], variable: str) -> tuple[str, str] | None:
    """A value the caller passed, else the variable's unless it is blank, with where it came from."""
    if given:
        return given, ARGUMENT
    value = environ.get(variable)
    return (value, variable) if value else None


def who(profile: str | None, client_id: str, token_url: str) -> str:
    """``[profile dev, client my-client @ auth-api.trulioo.com]``, or without the profile when none."""
    client = f"client {client_id} @ {token_host(token_url)}"
    return f"[profile {profile}, {client}]" if profile else f"[{client}]"


def note_secret_source(context: str, source: str) -> None:
    """Log where the secret came from, unless the caller passed it (TRULIOO_LOG=info)."""
    if source != ARGUMENT:
        log.info("%s client secret from %s", context, source)


def load_settings(
    environ: Mapping[str, str],
    *,
    profile: Mapping[str, object] | None = None,
    token_url: str | None = None,
    scope: str | None = None,
    token_buffer: float | None = None,
    timeout: float | None = None,
    cache_dir: str | None = None,
    cache_enabled: bool | None = None,
    api_hosts: tuple[str, ...] | None = None,
    auth_method: str | None = None,
    audience: str | None = None,
    resource: str | None = None,
) -> Settings:
    """Merge explicit arguments over environment variables over a profile over defaults; check them.

    A scope set to the empty string, anywhere, asks for no scope; an unset one falls through.
    """
    profile = profile or {}
    url = _first(
        token_url, environ.get("TRULIOO_TOKEN_URL"), text_of(profile, "token_url"), DEFAULT_TOKEN_URL
    )
    chosen_scope = _set_or_default(
        scope, environ.get("TRULIOO_SCOPE"), text_of(profile, "scope"), DEFAULT_SCOPE
    )
    token_buffer = _seconds(
        "TRULIOO_TOKEN_BUFFER", token_buffer, environ, DEFAULT_TOKEN_BUFFER, least=0.0, most=MAX_LIFETIME
    )
    timeout = _seconds("TRULIOO_TIMEOUT", timeout, environ, DEFAULT_TIMEOUT, least=None, most=MAX_TIMEOUT)
    if cache_enabled is None:
        cache_enabled = _switch(environ, "TRULIOO_CACHE")
    log_level = environ.get("TRULIOO_LOG", "").strip().lower()
    if log_level and log_level not in LOG_LEVELS:
        raise _package.ConfigurationError(
            f"TRULIOO_LOG must be one of {', '.join(LOG_LEVELS)}; it is {log_level!r}."
        )
    return Settings(
        token_url=check_token_url(url),
        scope=chosen_scope,
        token_buffer=token_buffer,
        timeout=timeout,
        cache_dir=_folder(cache_dir if cache_dir is not None else environ.get("TRULIOO_CACHE_DIR")),
        cache_enabled=cache_enabled,
        api_hosts=api_hosts if api_hosts is not None else _api_hosts(environ, profile, url),
        auth_method=_auth_method(
            _optional(auth_method, environ.get("TRULIOO_AUTH_METHOD"), text_of(profile, "auth_method"))
        ),
        audience=_optional(audience, environ.get("TRULIOO_AUDIENCE"), text_of(profile, "audience")),
        resource=_resource(
            _optional(resource, environ.get("TRULIOO_RESOURCE"), text_of(profile, "resource"))
        ),
    )


def _first(*candidates: str | None) -> str:
    return next(candidate for candidate in candidates if candidate)


def _set_or_default(*candidates: str | None) -> str:
    """The first candidate that is set, even to "" (which stays ""); blanks count as ""."""
    chosen = next(candidate for candidate in candidates if candidate is not None)
    return chosen if chosen.strip() else ""


def _optional(*candidates: str | None) -> str:
    """The first candidate that is not blank, without surrounding spaces; "" when there is none."""
    return next((candidate.strip() for candidate in candidates if candidate and candidate.strip()), "")


def _auth_method(chosen: str) -> str:
    method = chosen.lower() or DEFAULT_AUTH_METHOD
    if method not in AUTH_METHODS:
        raise _package.ConfigurationError(
            f"TRULIOO_AUTH_METHOD must be {' or '.join(AUTH_METHODS)}; it is {chosen!r}."
        )
    return method


def _resource(chosen: str) -> str:
    """RFC 8707 section 2: a resource is an absolute URI without a fragment."""
    if chosen and (not urlsplit(chosen).scheme or "#" in chosen):
        raise _package.ConfigurationError(
            f"TRULIOO_RESOURCE must be an absolute URI without a fragment, such as "
            f"https://api.example.com/; it is {chosen!r}."
        )
    return chosen


def _api_hosts(environ: Mapping[str, str], profile: Mapping[str, object], token_url: str) -> tuple[str, ...]:
    """TRULIOO_API_HOSTS, else the profile's api_hosts, else the default for this token URL."""
    raw = environ.get("TRULIOO_API_HOSTS", "").strip()
    if raw:
        return parse_api_hosts(raw, "TRULIOO_API_HOSTS")
    listed = profile.get("api_hosts")
    if isinstance(listed, list):
        return parse_api_hosts(listed, "the profile's api_hosts")
    return default_api_hosts(token_url)


def _folder(configured: str | None) -> str | None:
    """The cache folder asked for, ``~`` expanded; a relative path is refused (it would follow the cwd)."""
    if not configured:
        return None
    folder = os.path.expanduser(configured)
    if not os.path.isabs(folder):
        raise _package.ConfigurationError(
            f"TRULIOO_CACHE_DIR must be an absolute path (or start with ~); it is {configured!r}."
        )
    return folder


def _seconds(
    name: str,
    given: float | None,
    environ: Mapping[str, str],
    default: float,
    *,
    least: float | None,
    most: float,
) -> float:
    """A number of seconds, given or from variable ``name``, within ``least`` (None: above 0) and ``most``."""
    raw = str(given) if given is not None else environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    low_enough = value <= most
    high_enough = value > 0 if least is None else value >= least
    if not (math.isfinite(value) and low_enough and high_enough):
        lowest = "more than 0" if least is None else f"{least:g} or more"
        raise _package.ConfigurationError(
            f"{name} must be a number of seconds, {lowest} and at most {most:g}; it is {raw!r}."
        )
    return value


def _switch(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in _CACHE_ON:
        return True
    if raw in _CACHE_OFF:
        return False
    raise _package.ConfigurationError(f"{name} must be 'on' or 'off'; it is {raw!r}.")
