"""The settings: one table of them, read from arguments, ``TRULIOO_*`` variables and a profile.

``SETTINGS`` is the only place a setting is named: its variable, whether a profile may set it,
its default, what it means and how its value is checked. Reading, the error messages, where each
value came from (``token --json``, ``status --json``) and the README's table all come from it.
Every call reads the settings, a warm one too, so this module imports only the token and URL
rules below it, and the errors when one is raised.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from .token import MAX_LIFETIME
from .urls import DEFAULT_TOKEN_URL, check_token_url, default_api_hosts, parse_api_hosts

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a call milliseconds
if TYPE_CHECKING:
    from typing import Any

APP_NAME = "httpie-trulioo"  # this package's folder in the user cache and config folders
ARGUMENT = "argument"  # the source of a value the caller passed (http --auth, Python arguments)
DEFAULT = "default"  # the source of a value that nothing set
LOG_LEVELS = ("warning", "info", "debug")  # TRULIOO_LOG: how much the plugin says on stderr
DEFAULT_SCOPE = "workflow.studio.api"
# How the client authenticates to the token endpoint (RFC 6749 section 2.3.1): in the form, as
# Trulioo documents, or in an HTTP Basic header, which every OAuth 2.0 server must accept.
AUTH_METHODS = ("client_secret_post", "client_secret_basic")
# A token is refreshed this many seconds before it expires, so that it does not run out between
# the moment it is read from the cache and the moment the API checks it.
DEFAULT_TOKEN_BUFFER = 60.0
# Seconds to wait for the token endpoint: long enough for a slow identity server, short enough
# that a person at a terminal is not left wondering.
DEFAULT_TIMEOUT = 30.0
# No token request is worth waiting an hour for; the bound also keeps the value within what the
# thread and socket calls that enforce it accept.
MAX_TIMEOUT = 3600.0
_SWITCH = {
    "on": True,
    "1": True,
    "true": True,
    "yes": True,
    "off": False,
    "0": False,
    "false": False,
    "no": False,
}


class Setting:
    """One row of the settings table (a plain class: a NamedTuple costs a warm call more to make)."""

    __slots__ = ("blank_is_a_value", "default", "in_profile", "meaning", "name", "read", "shown", "variable")

    def __init__(  # noqa: PLR0917 - a table row reads best without keywords
        self,
        name: str,
        variable: str,
        in_profile: bool,
        default: Any,
        meaning: str,
        read: Callable[[Any, str], Any] | None = None,
        *,
        blank_is_a_value: bool = False,
        shown: str = "",
    ) -> None:
        """Keep the row.

        ``name`` is the Settings attribute, the TruliooAuth keyword and, with ``in_profile``, the
        profile key; ``variable`` the TRULIOO_* variable ("" for a profile key alone); ``default``
        the value when nothing sets it (None: none, or worked out where it is used); ``meaning``
        one line, as the README's table has it; ``read`` checks a value (a variable's text, a
        profile's value or an argument) and returns what it means, None for the rows that are not
        Settings attributes; ``blank_is_a_value`` where a blank value means something
        (TRULIOO_SCOPE= asks for no scope); ``shown`` the default as people read it, where the
        value does not say it.
        """
        self.name = name
        self.variable = variable
        self.in_profile = in_profile
        self.default = default
        self.meaning = meaning
        self.read = read
        self.blank_is_a_value = blank_is_a_value
        self.shown = shown


def _exact(value: Any, variable: str) -> str:
    return str(value)


def _text(value: Any, variable: str) -> str:
    return str(value).strip()


def _token_url(value: Any, variable: str) -> str:
    return check_token_url(str(value), variable)


def _scope(value: Any, variable: str) -> str:
    return str(value).strip()


def _auth_method(value: Any, variable: str) -> str:
    method = str(value).strip().lower()
    if method not in AUTH_METHODS:
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(f"{variable} must be {' or '.join(AUTH_METHODS)}; it is {value!r}.")
    return method


def _resource(value: Any, variable: str) -> str:
    """RFC 8707 section 2: a resource is an absolute URI without a fragment."""
    text = str(value).strip()
    if not urlsplit(text).scheme or "#" in text:
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(
            f"{variable} must be an absolute URI without a fragment, such as "
            f"https://api.example.com/; it is {text!r}."
        )
    return text


def _api_hosts(value: Any, variable: str) -> tuple[str, ...]:
    return parse_api_hosts(value, variable)


def _seconds(least: float | None, most: float) -> Callable[[Any, str], float]:
    """A reader of a number of seconds within ``least`` (None: above 0) and ``most``."""

    def read(value: Any, variable: str) -> float:
        raw = str(value).strip()
        try:
            seconds = float(raw)
        except ValueError:
            seconds = math.nan
        high_enough = seconds > 0 if least is None else seconds >= least
        if not (math.isfinite(seconds) and seconds <= most and high_enough):
            lowest = "more than 0" if least is None else f"{least:g} or more"
            from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

            raise ConfigurationError(
                f"{variable} must be a number of seconds, {lowest} and at most {most:g}; it is {raw!r}."
            )
        return seconds

    return read


def absolute_path(value: Any, variable: str) -> str:
    """A file or folder asked for, ``~`` expanded; a relative path is refused (it would follow the cwd).

    A relative path names a different file in each folder the user ``cd``s into, one a cloned
    repository could ship: a profiles file whose ``secret_cmd`` would then run.
    """
    path = os.path.expanduser(str(value))
    if not os.path.isabs(path):
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(
            f"{variable} must be an absolute path (or start with ~); it is {str(value)!r}."
        )
    return path


def _switch(value: Any, variable: str) -> bool:
    if isinstance(value, bool):
        return value
    raw = str(value).strip().lower()
    if raw not in _SWITCH:
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(f"{variable} must be 'on' or 'off'; it is {raw!r}.")
    return _SWITCH[raw]


def _log_level(value: Any, variable: str) -> str:
    level = str(value).strip().lower()
    if level not in LOG_LEVELS:
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(f"{variable} must be one of {', '.join(LOG_LEVELS)}; it is {level!r}.")
    return level


SETTINGS = (
    Setting("client_id", "TRULIOO_CLIENT_ID", True, None, "the client id, when `--auth` gives none", _exact),
    Setting("client_secret", "TRULIOO_CLIENT_SECRET", False, None,
            "the client secret, when `--auth` gives none; never in the profiles file"),
    Setting("secret_env", "", True, None, "the name of a variable that holds the client secret"),
    Setting("secret_cmd", "", True, None, "a command whose first line of output is the client secret"),
    Setting("token_url", "TRULIOO_TOKEN_URL", True, DEFAULT_TOKEN_URL,
            "the token endpoint: `https://`, or `http://` to this machine only", _token_url),
    Setting("scope", "TRULIOO_SCOPE", True, DEFAULT_SCOPE,
            "the scope asked for (`napi.api` is another); empty asks for none", _scope,
            blank_is_a_value=True),
    Setting("auth_method", "TRULIOO_AUTH_METHOD", True, AUTH_METHODS[0],
            "`client_secret_post` (id and secret in the form) or `client_secret_basic` (HTTP Basic)",
            _auth_method),
    Setting("audience", "TRULIOO_AUDIENCE", True, "",
            "sent as the `audience` field; part of the cache key", _text),
    Setting("resource", "TRULIOO_RESOURCE", True, "",
            "sent as the `resource` field (RFC 8707, an absolute URI); part of the cache key", _resource),
    Setting("api_hosts", "TRULIOO_API_HOSTS", True, None,
            "the hosts a token may be sent to, comma-separated (see below)", _api_hosts,
            shown="`*.trulioo.com`, and `loopback` for a loopback token URL"),
    Setting("token_buffer", "TRULIOO_TOKEN_BUFFER", False, DEFAULT_TOKEN_BUFFER,
            "seconds before expiry at which a token stops being reused (at most half its lifetime)",
            _seconds(0.0, MAX_LIFETIME)),
    Setting("default_lifetime", "TRULIOO_DEFAULT_LIFETIME", True, None,
            "seconds a token is reused when the server gives no expiry (no `expires_in`, no JWT `exp`; "
            "at most 86400); none: such a token serves one call", _seconds(None, MAX_LIFETIME)),
    Setting("timeout", "TRULIOO_TIMEOUT", False, DEFAULT_TIMEOUT,
            "seconds the whole token request may take (at most 3600)", _seconds(None, MAX_TIMEOUT)),
    Setting("cache_dir", "TRULIOO_CACHE_DIR", False, None,
            "where tokens are cached: an absolute path, or one starting with `~`", absolute_path,
            shown="the user cache folder (below)"),
    Setting("cache_enabled", "TRULIOO_CACHE", False, True,
            "`off` fetches a new token for every call", _switch),
    Setting("retry_401", "TRULIOO_RETRY_401", True, True,
            "`off`: a 401 to a cached token reaches you as the API sent it (a negative test), "
            "and no new token is fetched", _switch),
    Setting("log", "TRULIOO_LOG", False, "warning",
            "`info`: one line per decision on stderr; `debug` adds lock waits", _log_level),
    Setting("profile", "TRULIOO_PROFILE", False, None,
            "the profile for calls that choose none (`-a @NAME` and `--profile` do)"),
    Setting("config_file", "TRULIOO_CONFIG_FILE", False, None,
            "the profiles file: an absolute path, or one starting with `~`",
            shown="`config.toml` in the user config folder (below)"),
)  # fmt: skip
# The rows that are Settings attributes, in order, and each row by name.
READ = tuple(setting for setting in SETTINGS if setting.read is not None)
BY_NAME = {setting.name: setting for setting in SETTINGS}


def shown_default(setting: Setting) -> str:
    """A setting's default as people read it, in the README's table and in ``status --json``."""
    value = setting.default
    if setting.shown:
        return setting.shown
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "`on`" if value else "`off`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


class Settings:
    """Everything a call needs but the secret: the client, the token it asks for, the cache.

    A plain class rather than a NamedTuple, whose making costs an http call more than reading
    every setting does.
    """

    __slots__ = (*(setting.name for setting in READ), "_where", "profile", "sources")
    client_id: str | None
    token_url: str
    scope: str
    auth_method: str
    audience: str  # "" sends no audience field
    resource: str  # "" sends no resource field (RFC 8707)
    api_hosts: tuple[str, ...]
    token_buffer: float
    default_lifetime: float | None  # None: a token the server gave no expiry serves one call
    timeout: float
    cache_dir: str | None  # None: the user cache folder
    cache_enabled: bool
    retry_401: bool
    log: str
    profile: str | None  # the chosen profile's name
    sources: dict[str, str]  # where each value came from: argument, a variable, "profile NAME", default

    def __init__(
        self,
        values: Mapping[str, Any],
        profile: str | None,
        sources: dict[str, str],
        where: Callable[[str], str] | None = None,
    ) -> None:
        """Keep the values ``load_settings`` checked; ``where`` places a profile's key in its file."""
        for setting in READ:
            setattr(self, setting.name, values[setting.name])
        self.profile = profile
        self.sources = sources
        self._where = where

    def origin(self, name: str) -> str:
        """What set a value, for a message: ``TRULIOO_SCOPE``, ``scope in profile dev (FILE:LINE)``.

        A default is named by its variable: that is where to change it.
        """
        return _origin(BY_NAME[name], self.sources[name], self._where)

    def __repr__(self) -> str:
        """All the values, as keywords."""
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__ if name != "_where")
        return f"Settings({shown})"

    def blame(self, message: str) -> str:
        """``message`` with the first mention of each variable that did not set its value made what did.

        The token request's hints say "check TRULIOO_SCOPE"; when a profile set the scope, the
        line to check is the profile's. Advice to set ``TRULIOO_AUTH_METHOD=VALUE`` becomes advice
        to set the profile's key to that value.
        """
        for setting in READ:
            source = self.sources[setting.name]
            if not setting.variable or source in (setting.variable, DEFAULT):
                continue
            at, end = _mention(message, setting.variable)
            if at >= 0:
                named = at + len(setting.variable)
                value = message[named + 1 : end].rstrip(".")
                shown = self.origin(setting.name) + (f" to {value}" if value else "")
                message = message[:at] + shown + message[named + (len(value) + 1 if value else 0) :]
        return message

    @property
    def context(self) -> str:
        """What log lines and errors are about: ``[profile dev, client my-client @ https://.../connect/token]``."""
        client = f"client {self.client_id} @ {self.token_url}"
        return f"[profile {self.profile}, {client}]" if self.profile else f"[{client}]"


def _mention(message: str, variable: str) -> tuple[int, int]:
    """Where ``variable`` is first named as a word in ``message``, and where a ``=VALUE`` after it ends.

    (-1, -1) when it is not named.
    """
    start = 0
    while (at := message.find(variable, start)) >= 0:
        end = at + len(variable)
        before = message[at - 1] if at else " "
        after = message[end] if end < len(message) else " "
        if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
            if after == "=":
                while end + 1 < len(message) and (message[end + 1].isalnum() or message[end + 1] in "_.-"):
                    end += 1
                return at, end + 1
            return at, end
        start = end
    return -1, -1


def is_set(setting: Setting, value: object) -> bool:
    """Tell whether a value from an argument, a variable or a profile sets ``setting``.

    None never does; a blank string does only where blank is a value (TRULIOO_SCOPE).
    """
    if value is None:
        return False
    return not isinstance(value, str) or setting.blank_is_a_value or bool(value.strip())


def pick(
    setting: Setting,
    arguments: Mapping[str, Any],
    environ: Mapping[str, str],
    profile: Mapping[str, object],
    profile_name: str | None,
) -> tuple[Any, str]:
    """The value that sets ``setting``, and its source: an argument, then the variable, then the profile.

    ``(None, DEFAULT)`` when none does.
    """
    value = arguments.get(setting.name)
    if is_set(setting, value):
        return value, ARGUMENT
    if setting.variable:
        value = environ.get(setting.variable)
        if is_set(setting, value):
            return value, setting.variable
    if setting.in_profile:
        value = profile.get(setting.name)
        if is_set(setting, value):
            return value, f"profile {profile_name}"
    return None, DEFAULT


def load_settings(
    environ: Mapping[str, str],
    *,
    profile: Mapping[str, object] | None = None,
    profile_name: str | None = None,
    where: Callable[[str], str] | None = None,
    **arguments: Any,
) -> Settings:
    """Read and check every setting: arguments over variables over the profile over the defaults.

    ``arguments`` are keyword values named as in ``SETTINGS``; None means not given. ``where``
    places a key of the profile in its file (``profile dev (FILE:LINE)``). A bad value is a
    one-line ConfigurationError naming what set it: its variable, or the profile's file and line.
    """
    unknown = set(arguments) - {setting.name for setting in READ}
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in READ:
        value, source = pick(setting, arguments, environ, profile or {}, profile_name)
        assert setting.read is not None  # noqa: S101 - READ holds only rows with a reader
        if source == DEFAULT:
            values[setting.name] = setting.default
        else:
            origin = _origin(setting, source, where)
            if isinstance(value, str) and not _is_utf8(value):
                from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

                raise ConfigurationError(f"{origin} is not valid UTF-8 text: set it again.")
            values[setting.name] = setting.read(value, origin)
        sources[setting.name] = source
    if values["api_hosts"] is None:
        values["api_hosts"] = default_api_hosts(values["token_url"])
    return Settings(values, profile_name, sources, where)


def _origin(setting: Setting, source: str, where: Callable[[str], str] | None) -> str:
    """What set a value, as messages name it (see ``Settings.origin``)."""
    if source == ARGUMENT:
        return f"the {setting.name} argument"
    if source.startswith("profile "):
        return f"{setting.name} in {where(setting.name) if where else source}"
    return setting.variable if source == DEFAULT else source


def _is_utf8(text: str) -> bool:
    """Tell whether ``text`` is text UTF-8 can encode (a variable may hold other bytes)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def log_to_stderr() -> None:
    """Show warnings on stderr; also decisions with TRULIOO_LOG=info, and lock waits with debug.

    A bad TRULIOO_LOG value is reported at request time, with the other settings.
    """
    logger = logging.getLogger("httpie_trulioo")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("httpie-trulioo: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    level = os.environ.get(BY_NAME["log"].variable, "").strip().lower()
    logger.setLevel(level.upper() if level in LOG_LEVELS else logging.WARNING)


def user_folder(kind: str) -> str:
    """The package's folder in the user ``cache`` or ``config`` folder, as platformdirs gives it.

    On Linux, where platformdirs' answer is plain (``$XDG_CACHE_HOME/httpie-trulioo`` for an
    absolute XDG variable, else ``$HOME/.cache/httpie-trulioo`` for an absolute HOME), it is
    worked out here: importing platformdirs would cost a warm call more than all its other
    work. A test holds this equal to platformdirs' own answer; anywhere else platformdirs says.
    """
    shortcut = _linux_folder(kind)
    if shortcut is not None:
        return shortcut
    import platformdirs  # noqa: PLC0415 - only where the shortcut cannot say

    if kind == "cache":
        return platformdirs.user_cache_dir(APP_NAME, appauthor=False)
    return platformdirs.user_config_dir(APP_NAME, appauthor=False)


def _linux_folder(kind: str) -> str | None:
    """``user_folder`` on Linux when the variables leave no doubt; None where platformdirs must say."""
    if sys.platform != "linux" or hasattr(sys, "getandroidapilevel"):
        return None
    environ = os.environ
    if "ANDROID_DATA" in environ or "ANDROID_ROOT" in environ:
        return None  # platformdirs may pick an Android app folder
    xdg = environ.get(f"XDG_{kind.upper()}_HOME", "")
    if xdg:
        # Absolute and without surrounding spaces, which platformdirs releases read differently.
        return os.path.join(xdg, APP_NAME) if xdg.startswith("/") and xdg == xdg.strip() else None
    home = environ.get("HOME", "")
    if home.startswith("/"):
        return os.path.join(os.path.expanduser("~/." + kind), APP_NAME)
    return None
