"""Which client a call is for, with which settings, and where its secret comes from.

``choose`` reads the profile and the settings, the client id among them; nothing else is read,
so that a request's URL can be checked before any secret is looked for. ``Credentials`` then
holds the secret if a source that costs nothing has it, and reads the others (a helper command,
the OS keyring, a person at the terminal) only when ``read_secret`` is called: a call that finds
a fresh token in the cache never needs them.

Precedence, for every value: what the caller passed (``--auth``, arguments), then

- with a profile chosen by name (``http -a @dev``, ``--profile dev``): the profile, then the
  ``TRULIOO_*`` variables, then the defaults;
- with a profile chosen by ``TRULIOO_PROFILE``, or none: the variables, then the profile, then
  the defaults; one warning names the variables that override the profile's values.

The secret is looked for in this order: the one passed, ``TRULIOO_CLIENT_SECRET``, the profile's
``secret_env`` (these three cost nothing), its ``secret_cmd``, the OS keyring, a prompt on the
terminal. A profile that names its client (or where its secret is) owns the secret, as it owns
its other values: chosen by name, it is not paired with a ``TRULIOO_CLIENT_SECRET`` meant for
another client.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping

from .settings import ARGUMENT, BY_NAME, SETTINGS, Settings, is_set, load_settings

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a call milliseconds
if TYPE_CHECKING:
    from typing import Any

    from .cache import TokenKey

log = logging.getLogger("httpie_trulioo")

# Asks a person for the secret of (client id, token URL); None when no one can be asked.
SecretPrompt = Callable[[str, str], str | None]
_BY_VARIABLE = {setting.variable: setting for setting in SETTINGS if setting.variable}
_SECRET_VARIABLE = BY_NAME["client_secret"].variable
_PROFILE_VARIABLE = BY_NAME["profile"].variable


class Choice:
    """The first step: the chosen profile and the settings; no secret looked for yet."""

    __slots__ = ("beaten", "environ", "settings", "values")

    def __init__(
        self,
        settings: Settings,
        values: Mapping[str, object],
        environ: Mapping[str, str],
        beaten: frozenset[str],
    ) -> None:
        """Keep what was read.

        ``values`` are the profile's keys as the file has them; ``beaten`` the variables that the
        profile, chosen by name, beats.
        """
        self.settings = settings
        self.values = values
        self.environ = environ
        self.beaten = beaten

    @property
    def profile(self) -> str | None:
        """The chosen profile's name."""
        return self.settings.profile

    def place(self, key: str) -> str:
        """Where the chosen profile sets ``key``: ``profile dev (~/.config/httpie-trulioo/config.toml:5)``."""
        where = getattr(self.values, "where", None)
        return where(key) if where is not None else f"profile {self.profile}"

    def variable(self, name: str) -> str | None:
        """A variable's value, unless the profile chosen by name beats it or it is blank."""
        value = self.environ.get(name)
        return value if value and name not in self.beaten else None


def choose(
    environ: Mapping[str, str],
    *,
    profile: str | None = None,
    arguments: Mapping[str, Any] | None = None,
    secret_given: bool = False,
) -> Choice:
    """Read the chosen profile and the settings, with the precedence this module's docstring states.

    ``profile`` is a profile chosen by name; None leaves the choice to TRULIOO_PROFILE.
    ``arguments`` are settings passed as arguments (None: not passed), the client id among them;
    ``secret_given`` says that the caller passed the secret.
    """
    given = {name: value for name, value in (arguments or {}).items() if value is not None}
    by_name = profile is not None
    if by_name and not (profile or "").strip():
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError("the profile name is empty: write -a @NAME or --profile NAME.")
    name = (profile or "").strip() if by_name else environ.get(_PROFILE_VARIABLE, "").strip() or None
    values: Mapping[str, object] = {}
    where = None
    owned: set[str] = set()
    if name:
        from .profiles import SECRET_KEYS, load_profile  # noqa: PLC0415 - only a call with a profile reads the file

        values = load_profile(environ, name, by_name=by_name)
        where = values.where
        owned = {_variable_of(key) for key in values if key not in SECRET_KEYS}
        if any(key in values for key in ("client_id", *SECRET_KEYS)):
            owned.add(_SECRET_VARIABLE)  # the profile says whose secret it needs, or where it is
    passed = {_variable_of(key) for key in given} | ({_SECRET_VARIABLE} if secret_given else set())
    clashing = sorted(
        variable for variable in owned - passed if is_set(_BY_VARIABLE[variable], environ.get(variable))
    )
    beaten = frozenset(owned if by_name else ())
    if clashing and not by_name:
        log.warning(
            "%s override%s profile %r (chosen by TRULIOO_PROFILE); to use the profile as it is, "
            "choose it with -a @%s (http) or --profile %s (httpie-trulioo).",
            ", ".join(clashing),
            "s" if len(clashing) == 1 else "",
            name,
            name,
            name,
        )
    applying = {key: value for key, value in environ.items() if key not in beaten} if beaten else environ
    settings = load_settings(applying, profile=values, profile_name=name, where=where, **given)
    return Choice(settings, values, environ, beaten)


def _variable_of(key: str) -> str:
    return BY_NAME[key].variable


class Credentials:
    """A client's settings and its secret: known at once where that costs nothing, else read when asked.

    One object may be shared by threads: the secret is read once, whatever their number.
    """

    def __init__(
        self, choice: Choice, *, client_secret: str | None = None, prompt: SecretPrompt | None = None
    ) -> None:
        """The client of ``choice``, with the secret passed or in a source that costs nothing.

        A one-line ConfigurationError when no client id is set.
        """
        settings = choice.settings
        if settings.client_id is None:
            from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

            raise ConfigurationError(_no_client_id(choice.profile))
        self.choice = choice
        self.settings = settings
        self.client_id: str = settings.client_id
        self._prompt = prompt
        self._lock = threading.Lock()
        self.secret, self.secret_source = _secret_at_hand(choice, client_secret)
        if self.secret_source is not None:
            note_secret_source(self.context, self.secret_source)

    @property
    def context(self) -> str:
        """What log lines and errors are about: ``[profile dev, client my-client @ https://.../connect/token]``."""
        return self.settings.context

    @property
    def sources(self) -> dict[str, str]:
        """Where each value came from; the secret's source is "not read" while it has not been needed."""
        return {**self.settings.sources, "secret": self.secret_source or "not read"}

    def describe(self) -> dict[str, Any]:
        """The token URL, scope, client id and profile in use, and where each came from; never the secret."""
        settings = self.settings
        return {
            "token_url": settings.token_url,
            "scope": settings.scope,
            "client_id": settings.client_id,
            "audience": settings.audience,
            "resource": settings.resource,
            "profile": settings.profile,
            "sources": self.sources,
        }

    def can_read_secret(self) -> bool:
        """Tell whether the secret, not at hand, could be read when a token must be fetched.

        Only then is a fresh cached token sent without the secret: a caller that has no way at
        all to give a secret never gets one.
        """
        return self.secret is not None or _can_be_read(self.choice, self._prompt)

    def read_secret(self) -> str:
        """The secret, read from the first source that has it; a one-line error when none has."""
        with self._lock:
            if self.secret is None:
                self.secret, self.secret_source = _secret_read(self.choice, self.client_id, self._prompt)
                note_secret_source(self.context, self.secret_source)
            return self.secret


def note_secret_source(context: str, source: str) -> None:
    """Log where the secret came from, unless the caller passed it (TRULIOO_LOG=info)."""
    if source != ARGUMENT:
        log.info("%s client secret from %s", context, source)


def _no_client_id(profile: str | None) -> str:
    lacking = f"profile {profile!r} names no client_id: " if profile else ""
    return (
        f"no client id: {lacking}choose a profile that has one (http -a @NAME, "
        "httpie-trulioo --profile NAME), pass http --auth=CLIENT_ID, or set TRULIOO_CLIENT_ID."
    )


def _secret_at_hand(choice: Choice, given: str | None) -> tuple[str | None, str | None]:
    """The secret and its source from those that cost nothing: passed, TRULIOO_CLIENT_SECRET, secret_env.

    A secret passed is at hand even when it is empty: it is then compared, and sent, as it is.
    """
    if given is not None:
        return _checked(given, ARGUMENT), ARGUMENT
    value = choice.variable(_SECRET_VARIABLE)
    if value:
        return _checked(value, _SECRET_VARIABLE), _SECRET_VARIABLE
    secret_env = _text_of(choice.values, "secret_env")
    if secret_env and choice.environ.get(secret_env):
        _refuse_a_token_url_from_elsewhere(choice, "secret_env")
        source = f"profile {choice.profile} secret_env {secret_env}"
        return _checked(choice.environ[secret_env], source), source
    return None, None


def source_before_keyring(choice: Choice) -> str | None:
    """What gives the secret before the OS keyring would (a variable, a secret_cmd); None if nothing.

    ``login`` refuses to keep a secret that these would keep from ever being used.
    """
    _, source = _secret_at_hand(choice, None)
    if source is not None:
        return source
    if _text_of(choice.values, "secret_cmd"):
        return f"the secret_cmd of {choice.place('secret_cmd')}"
    return None


def _refuse_a_token_url_from_elsewhere(choice: Choice, key: str) -> None:
    """Send a secret the profile gives only to the profile's own token URL (or the default one).

    A TRULIOO_TOKEN_URL left exported, or set by a cloned repository's ``.envrc``, would
    otherwise carry the profile's secret (a production one, say) to any URL.
    """
    variable = BY_NAME["token_url"].variable
    if choice.settings.sources.get("token_url") == variable:
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(
            f"{variable} is set, but profile {choice.profile!r} gives the client secret (its {key}), "
            f"which goes only to the profile's own token URL: put token_url in the profile, "
            f"or unset {variable}."
        )


def _checked(secret: str, source: str) -> str:
    """``secret``, if it can be sent: text that UTF-8 can encode (a variable may hold other bytes)."""
    try:
        secret.encode()
    except UnicodeEncodeError:
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        where = "the argument" if source == ARGUMENT else source
        raise ConfigurationError(
            f"the client secret from {where} is not valid UTF-8: set it again."
        ) from None
    return secret


def _can_be_read(choice: Choice, prompt: SecretPrompt | None) -> bool:
    """Tell whether a source outside the process could give the secret, without asking it.

    A profile's secret_cmd, the keyring package, or a prompt with a terminal to ask on.
    """
    if _text_of(choice.values, "secret_cmd"):
        return True
    from importlib.util import find_spec  # noqa: PLC0415 - only a warm call without a secret at hand

    if find_spec("keyring") is not None:
        return True
    if prompt is None:
        return False
    from .secret_sources import can_prompt  # noqa: PLC0415 - likewise

    return can_prompt()


def _secret_read(choice: Choice, client_id: str, prompt: SecretPrompt | None) -> tuple[str, str]:
    """The secret from a source outside the process: the profile's secret_cmd, the keyring, a prompt."""
    from .secret_sources import read_keyring, run_secret_command  # noqa: PLC0415 - most calls never get here

    profile = choice.profile
    settings = choice.settings
    command = _text_of(choice.values, "secret_cmd")
    if command:
        _refuse_a_token_url_from_elsewhere(choice, "secret_cmd")
        owner = f"the secret_cmd of {choice.place('secret_cmd')}"
        secret = run_secret_command(command, timeout=settings.timeout, owner=owner)
        return secret, f"profile {profile} secret_cmd"
    stored = read_keyring(settings.token_url, client_id)
    if stored:
        return _checked(stored, "keyring"), "keyring"
    asked = prompt(client_id, settings.token_url) if prompt is not None else None
    if asked:
        return asked, "prompt"
    from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

    raise ConfigurationError(_no_secret(choice, client_id, asked_for=prompt is not None))


def _no_secret(choice: Choice, client_id: str, *, asked_for: bool) -> str:
    """One line: whose secret is missing, and each way to give it that applies here."""
    ways = [f"pass --auth={client_id}:SECRET"] if choice.settings.sources.get("client_id") == ARGUMENT else []
    note = ""
    if _SECRET_VARIABLE not in choice.beaten:
        ways.append("set TRULIOO_CLIENT_SECRET")
    elif choice.environ.get(_SECRET_VARIABLE):
        note = f" (TRULIOO_CLIENT_SECRET is not for profile {choice.profile!r}: it names its own client)"
    secret_env = _text_of(choice.values, "secret_env")
    if secret_env:
        ways.append(f"set {secret_env} (the profile's secret_env)")
    ways.append(
        "keep it in the OS keyring: httpie-trulioo login"
        + (f" --profile {choice.profile}" if choice.profile else "")
    )
    where = f"client {client_id!r} at {choice.settings.token_url}"
    if choice.profile:
        where += f" (profile {choice.profile})"
    terminal = ", and no terminal to ask on" if asked_for else ""
    listed = ", ".join(ways[:-1]) + (", or " if len(ways) > 1 else "") + ways[-1]
    from .secret_sources import kept_logins  # noqa: PLC0415 - only this error needs them

    logins = "; ".join(f"client {client!r} at {url}" for client, url in kept_logins())
    kept = f" (logins in the keyring: {logins})" if logins else ""
    return f"no client secret for {where}{terminal}{note}: {listed}.{kept}"


def _text_of(values: Mapping[str, object], key: str) -> str | None:
    value = values.get(key)
    return value if isinstance(value, str) else None


def profile_choices(environ: Mapping[str, str]) -> list[Choice]:
    """Every profile of the profiles file, each as if chosen by name, in the order of their names.

    A profile that cannot be resolved (a bad value) is left out; a file that cannot be read raises
    its one-line ConfigurationError. [] when there is no such file.
    """
    from .errors import ConfigurationError  # noqa: PLC0415 - only status needs it
    from .profiles import load_profiles  # noqa: PLC0415 - likewise

    choices = []
    for name in sorted(load_profiles(environ)):
        try:
            choices.append(choose(environ, profile=name))
        except ConfigurationError:
            continue
    return choices


def profiles_by_key(choices: Iterable[Choice]) -> dict[TokenKey, list[str]]:
    """The profiles among ``choices`` by the token they would get (``cache.TokenKey``).

    A profile that names no client gets no token and is left out.
    """
    from .cache import TokenKey  # noqa: PLC0415 - only status needs it

    found: dict[TokenKey, list[str]] = {}
    for choice in choices:
        settings = choice.settings
        if settings.client_id is not None and choice.profile is not None:
            found.setdefault(TokenKey.of(settings), []).append(choice.profile)
    return found
