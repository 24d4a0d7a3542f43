"""Named profiles for environments and clients, from a TOML file in the user config folder.

    [profiles.dev]
    token_url = "https://auth-api-primary.dev.trulioo.com/connect/token"
    scope = "workflow.studio.api"
    client_id = "my-dev-client"
    secret_env = "DEV_SECRET"   # the name of a variable that holds the secret
    secret_cmd = "pass show trulioo/dev"   # or a command that prints it
    api_hosts = ["*.trulioo.com"]   # where its tokens may be sent

    [profiles.staging]          # another OAuth 2.0 server
    token_url = "https://idp.example.com/oauth/token"
    scope = ""                  # asks for no scope
    auth_method = "client_secret_basic"
    audience = "https://api.example.com/"
    resource = "https://api.example.com/"

``http -a @dev``, ``--profile dev`` or ``TRULIOO_PROFILE=dev`` picks one. The secret itself never
lives in this file: a profile with a ``client_secret`` key is refused, and so is a file that
others can write (or replace), whatever it holds, as ssh refuses such a config.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping

from .cache import owned_by_me
from .settings import AUTH_METHODS, BY_NAME, SETTINGS, absolute_path, user_folder

PROFILE_KEYS = tuple(setting.name for setting in SETTINGS if setting.in_profile)
SECRET_KEYS = frozenset({"secret_env", "secret_cmd"})  # keys that say where the secret is, not settings
_LIST_KEYS = frozenset({"api_hosts"})  # keys whose value is a list of strings; the others are strings
# Keys that may also be written as TOML writes their kind (retry_401 = false, default_lifetime =
# 600): the settings table reads such a value as it reads a variable's text.
_TOML_TYPED = {"retry_401": "a boolean", "default_lifetime": "a number"}
# Keys whose empty value means something: scope = "" asks for no scope.
_MAY_BE_EMPTY = frozenset(
    setting.name for setting in SETTINGS if setting.in_profile and setting.blank_is_a_value
)


class Profile(dict[str, object]):
    """A checked profile's keys and values, and where in the profiles file each is set."""

    __slots__ = ("name", "path", "text")

    def __init__(self, name: str, path: str, text: str, values: Mapping[str, object]) -> None:
        """Keep the values, and the file's path and text to place them in."""
        super().__init__(values)
        self.name = name
        self.path = path
        self.text = text

    def where(self, key: str) -> str:
        """``profile dev (~/.config/httpie-trulioo/config.toml:12)``: the line that sets ``key``."""
        return f"profile {self.name} ({shown_path(self.path)}:{_line_of(self.text, key, self.name)})"


def shown_path(path: str) -> str:
    """A path for a message, the home folder written ``~``, as people type it."""
    home = os.path.expanduser("~")
    if home not in ("~", "/") and path.startswith(home + os.sep):
        return "~" + path[len(home) :]
    return path


def config_file(environ: Mapping[str, str]) -> str:
    """The profiles file: TRULIOO_CONFIG_FILE (absolute, or from ``~``), else the user config folder's."""
    variable = BY_NAME["config_file"].variable
    given = environ.get(variable, "").strip()
    if given:
        return absolute_path(given, variable)
    return os.path.join(user_folder("config"), "config.toml")


def others_may_write(info: os.stat_result) -> bool:
    """Tell whether someone but this user or root may have written the file, as ssh judges its config.

    Another owner, or write permission for the group or others; never so without user ids.
    """
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return False  # Windows: the folder's ACL decides, and the mode bits do not show it
    return info.st_uid not in (0, getuid()) or bool(info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def load_profile(environ: Mapping[str, str], name: str | None = None, *, by_name: bool = False) -> Profile:
    """The profile ``name`` (else the one TRULIOO_PROFILE names), checked; {} when none is named.

    ``by_name`` says that the caller chose it (``-a @NAME``, ``--profile``), for the messages.
    """
    name = name if name is not None else environ.get(BY_NAME["profile"].variable, "").strip()
    if not name:
        return Profile("", "", "", {})
    path = config_file(environ)
    chosen = "" if by_name else " (TRULIOO_PROFILE)"
    text, profiles = _read_profiles(path, f"no profile {name!r}{chosen}")
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        from difflib import get_close_matches  # noqa: PLC0415 - only a misspelled name needs it

        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        close = get_close_matches(name, list(profiles), n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigurationError(f"{path}: no profile named {name!r}{chosen}; {guess}profiles: {known}.")
    return _check_profile(path, text, name, profiles[name])


def load_profiles(environ: Mapping[str, str]) -> dict[str, Profile]:
    """Every profile of the profiles file, checked; {} when there is no such file."""
    path = config_file(environ)
    if not os.path.exists(path):
        return {}
    text, profiles = _read_profiles(path, "no profiles")
    return {name: _check_profile(path, text, name, profile) for name, profile in profiles.items()}


def _read_profiles(path: str, missing: str) -> tuple[str, dict[str, object]]:
    """The file's text and its profiles table; a one-line ConfigurationError naming the file if bad.

    ``missing`` says what is lost when there is no such file.
    """
    import tomllib  # noqa: PLC0415 - only a call that uses profiles needs it

    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
            info = os.fstat(handle.fileno())
    except FileNotFoundError:
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(f"{path}: no such file, so {missing}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(
            f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})."
        ) from None
    _refuse_if_others_can_write(path, info)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(f"{path}: not valid TOML: {exc}.") from None
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict):
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(f"{path}:{_line_of(text, 'profiles')}: 'profiles' must be a table.")
    for key, value in document.items():
        if key != "profiles":
            _refuse_a_stray(path, text, key, value)
    return text, profiles


def _refuse_a_stray(path: str, text: str, key: str, value: object) -> None:
    """Refuse what the file holds outside ``[profiles.NAME]``: it would be ignored without a word."""
    header = re.compile(r"^\s*\[\[?\s*[\"']?" + re.escape(key) + r"[\"']?\s*[.\]]")
    line = next((n for n, row in enumerate(text.splitlines(), 1) if header.match(row)), None)
    line = line or _line_of(text, key)
    first = next(iter(value), None) if isinstance(value, dict) else None
    if key == "profile" and first is not None:
        wanted = f"[profile.{first}] is not read: profiles are tables named [profiles.{first}]"
    else:
        wanted = f"{key!r} is not read: every profile is a table named [profiles.NAME]"
    from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

    raise ConfigurationError(f"{path}:{line}: {wanted}.")


def _refuse_if_others_can_write(path: str, info: os.stat_result) -> None:
    """Refuse a profiles file that someone else could have written, or put there, as ssh does.

    Whatever it holds: a token URL and a ``secret_env`` are enough to send a secret elsewhere.
    The folder holding it counts too, unless its sticky bit keeps others from replacing a file
    of the user's own (as in /tmp).
    """
    problem, fix_path, owner = "", path, info
    if others_may_write(info):
        problem = "a profiles file that others can write"
    else:
        folder = os.path.dirname(os.path.abspath(path))
        try:
            owner = os.stat(folder)
        except OSError:
            return  # the file was just read through it; a folder gone since holds nothing to fear
        sticky = bool(owner.st_mode & stat.S_ISVTX) and owned_by_me(info)
        if others_may_write(owner) and not sticky:
            problem, fix_path = "a profiles file in a folder that others can write", folder
    if problem:
        mine = owned_by_me(owner) or owner.st_uid == 0
        fix = f"run: chmod go-w '{fix_path}'" if mine else f"{fix_path} belongs to another user"
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(f"{path}: refusing {problem} ({fix}).")


def _check_profile(path: str, text: str, name: str, profile: object) -> Profile:
    if not isinstance(profile, dict):
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(f"{path}:{_line_of(text, name)}: profile {name!r} must be a table.")
    if "client_secret" in profile:
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(
            f"{path}:{_line_of(text, 'client_secret', name)}: profile {name!r} holds a client_secret; "
            "secrets do not belong in this file: remove it and name a variable with secret_env."
        )
    for key, value in profile.items():
        if key not in PROFILE_KEYS:
            from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

            raise ConfigurationError(
                f"{path}:{_line_of(text, key, name)}: unknown key {key!r} in profile {name!r}; "
                f"known keys: {', '.join(PROFILE_KEYS)}."
            )
        if key in _LIST_KEYS:
            if not (isinstance(value, list) and value and all(isinstance(item, str) for item in value)):
                from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

                raise ConfigurationError(
                    f"{path}:{_line_of(text, key, name)}: {key} in profile {name!r} must be a "
                    "non-empty list of strings."
                )
        elif key in _TOML_TYPED and _of_toml_kind(key, value):
            continue
        elif not isinstance(value, str) or (not value and key not in _MAY_BE_EMPTY):
            from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

            raise ConfigurationError(
                f"{path}:{_line_of(text, key, name)}: {key} in profile {name!r} must be "
                f"{_TOML_TYPED[key] + ' or ' if key in _TOML_TYPED else ''}a non-empty string."
            )
        elif key == "auth_method":
            _check_auth_method(path, text, name, value)
    return Profile(name, path, text, profile)


def _of_toml_kind(key: str, value: object) -> bool:
    """Tell whether ``value`` is of the TOML kind ``key`` may be written as (bool is not a number)."""
    if key == "retry_401":
        return isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_auth_method(path: str, text: str, name: str, value: str) -> None:
    if value.lower() not in AUTH_METHODS:
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

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
            continue
        if inside and assignment.match(line):
            return number
    return 1
