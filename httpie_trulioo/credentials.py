"""Which client, secret and settings a call uses: profile, variables, secret sources.

Two steps, so that a request's URL can be checked between them, before any secret is looked for
or anyone is asked: ``choose`` reads the profile and the settings, ``resolve`` then finds the
client id and the secret.

Precedence, for every value: what the caller passed (``--auth``, arguments), then

- with a profile chosen by name (``http -a @dev``, ``--profile dev``): the profile, then the
  ``TRULIOO_*`` variables, then the defaults;
- with a profile chosen by ``TRULIOO_PROFILE``, or none: the variables, then the profile, then
  the defaults; one warning names the variables that override the profile's values.

The secret is looked for in this order: the one passed, ``TRULIOO_CLIENT_SECRET``, the profile's
``secret_env``, its ``secret_cmd``, the OS keyring, a prompt on the terminal. A profile that names
its client (or where its secret is) owns the secret, as it owns its other values: chosen by name,
it is not paired with a ``TRULIOO_CLIENT_SECRET`` meant for another client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any, NamedTuple

from .errors import ConfigurationError
from .profiles import SECRET_KEYS, load_profile, load_profiles
from .settings import (
    ARGUMENT,
    SETTING_NAMES,
    Settings,
    given_or_variable,
    given_settings,
    load_settings,
    note_secret_source,
    text_of,
    variable_for,
    who,
)
from .urls import token_host

log = logging.getLogger("httpie_trulioo")

# Variables that count when set to "": TRULIOO_SCOPE="" asks for no scope. Any other blank
# variable is as good as unset, as load_settings reads them.
_EMPTY_IS_A_VALUE = frozenset({"TRULIOO_SCOPE"})
# Asks a person for the secret of (client id, token URL); None when no one can be asked.
SecretPrompt = Callable[[str, str], str | None]


class Choice(NamedTuple):
    """The first step: the chosen profile and the settings; no client id or secret looked for yet."""

    settings: Settings
    profile: str | None  # the profile's name
    values: Mapping[str, object]  # the profile's keys, as the file has them
    environ: Mapping[str, str]
    beaten: frozenset[str]  # variables that the profile, chosen by name, beats
    sources: Mapping[str, str]  # where each setting came from

    @property
    def applying(self) -> dict[str, str]:
        """The variables but those that the profile chosen by name beats."""
        return {key: value for key, value in self.environ.items() if key not in self.beaten}


class Credentials(NamedTuple):
    """Everything a token request needs, with where each value came from (never the secret itself)."""

    settings: Settings
    client_id: str
    client_secret: str
    profile: str | None
    sources: Mapping[str, str]

    @property
    def context(self) -> str:
        """What log lines and errors are about: ``[profile dev, client my-client @ auth-api.trulioo.com]``."""
        return who(self.profile, self.client_id, self.settings.token_url)


def choose(
    environ: Mapping[str, str],
    *,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    given: Collection[str] = (),
) -> Choice:
    """Read the chosen profile and the settings, with the precedence this module's docstring states.

    ``profile`` is a profile chosen by name; None leaves the choice to TRULIOO_PROFILE.
    ``overrides`` are settings passed as arguments (None: not passed); ``given`` names the
    credentials passed as arguments ("client_id", "client_secret").
    """
    arguments = given_settings(overrides or {})
    by_name = profile is not None
    if by_name and not (profile or "").strip():
        raise ConfigurationError("the profile name is empty: write -a @NAME or --profile NAME.")
    name = profile.strip() if profile is not None else environ.get("TRULIOO_PROFILE", "").strip() or None
    values = load_profile(environ, name, by_name=by_name) if name else {}
    owned = {variable_for(key) for key in values if key not in SECRET_KEYS}
    if _owns_the_secret(values):
        owned.add("TRULIOO_CLIENT_SECRET")
    passed = {variable_for(key) for key in (*arguments, *given)}
    clashing = sorted(variable for variable in owned - passed if _is_set(environ, variable))
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
    applying = {key: value for key, value in environ.items() if key not in beaten}
    settings = load_settings(applying, profile=values, **arguments)
    sources = {field: _source(field, arguments, applying, values, name) for field in SETTING_NAMES}
    return Choice(settings, name, values, environ, beaten, sources)


def resolve(
    choice: Choice,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    prompt: SecretPrompt | None = None,
    note: bool = True,
) -> Credentials:
    """The second step: the client id and the secret, from the first source that has each.

    ``note``: log where the secret came from (TRULIOO_LOG=info), unless that was said already.
    """
    found_id, id_source = client_id_of(choice, client_id)
    secret, secret_source = _secret(choice, found_id, client_secret, id_source, prompt)
    if note:
        note_secret_source(who(choice.profile, found_id, choice.settings.token_url), secret_source)
    sources = {"client_id": id_source, "secret": secret_source, **choice.sources}
    return Credentials(choice.settings, found_id, secret, choice.profile, sources)


def client_id_of(choice: Choice, given: str | None = None) -> tuple[str, str]:
    """The client id and where it came from; a one-line ConfigurationError when there is none."""
    found = given_or_variable(given, choice.applying, "TRULIOO_CLIENT_ID")
    if found:
        return found
    from_profile = text_of(choice.values, "client_id")
    if from_profile:
        return from_profile, f"profile {choice.profile}"
    lacking = f"profile {choice.profile!r} names no client_id: " if choice.profile else ""
    raise ConfigurationError(
        f"no client id: {lacking}choose a profile that has one (http -a @NAME, "
        "httpie-trulioo --profile NAME), pass http --auth=CLIENT_ID, or set TRULIOO_CLIENT_ID."
    )


def profiles_by_client(environ: Mapping[str, str]) -> dict[tuple[str, ...], list[str]]:
    """The profiles of the profiles file by the token they would get: ``token_identity``.

    Each as if chosen by name. A profile that cannot be resolved (no client id, a bad value) is
    left out; a file that cannot be read raises its one-line ConfigurationError.
    """
    found: dict[tuple[str, ...], list[str]] = {}
    for name in sorted(load_profiles(environ)):
        try:
            choice = choose(environ, profile=name)
            client_id, _ = client_id_of(choice)
        except ConfigurationError:
            continue
        found.setdefault(token_identity(choice.settings, client_id), []).append(name)
    return found


def token_identity(settings: Settings, client_id: str) -> tuple[str, ...]:
    """What a cached token is for, but the secret: token URL, scope, client id, audience, resource."""
    return (settings.token_url, settings.scope, client_id, settings.audience, settings.resource)


def _is_set(environ: Mapping[str, str], variable: str) -> bool:
    """Tell whether a variable gives a value, as ``load_settings`` reads it."""
    value = environ.get(variable)
    return value is not None and (variable in _EMPTY_IS_A_VALUE or bool(value.strip()))


def _owns_the_secret(values: Mapping[str, object]) -> bool:
    """Tell whether a profile says whose secret it needs, or where it is: then it is the profile's."""
    return any(key in values for key in ("client_id", *SECRET_KEYS))


def _source(
    field: str,
    arguments: Mapping[str, Any],
    environ: Mapping[str, str],
    values: Mapping[str, object],
    profile: str | None,
) -> str:
    """Where a setting came from, as ``load_settings`` picks it: argument, variable, profile, default."""
    if field in arguments:
        return ARGUMENT
    variable = variable_for(field)
    if _is_set(environ, variable):
        return variable
    if field in values:
        return f"profile {profile}"
    return "default"


def _secret(
    choice: Choice, client_id: str, given: str | None, id_source: str, prompt: SecretPrompt | None
) -> tuple[str, str]:
    """The secret and where it came from, in the order this module's docstring states."""
    found = given_or_variable(given, choice.applying, "TRULIOO_CLIENT_SECRET")
    if found:
        return found
    profile = choice.profile
    secret_env = text_of(choice.values, "secret_env")
    if secret_env and choice.environ.get(secret_env):
        return choice.environ[secret_env], f"profile {profile} secret_env {secret_env}"
    # The sources outside the process are imported only when reached: most calls never get here.
    from .secret_sources import read_keyring, run_secret_command  # noqa: PLC0415

    command = text_of(choice.values, "secret_cmd")
    settings = choice.settings
    if command:
        owner = f"the secret_cmd of profile {profile!r}"
        return run_secret_command(
            command, timeout=settings.timeout, owner=owner
        ), f"profile {profile} secret_cmd"
    stored = read_keyring(settings.token_url, client_id)
    if stored:
        return stored, "keyring"
    asked = prompt(client_id, settings.token_url) if prompt is not None else None
    if asked:
        return asked, "prompt"
    raise ConfigurationError(_no_secret(choice, client_id, id_source, asked_for=prompt is not None))


def _no_secret(choice: Choice, client_id: str, id_source: str, *, asked_for: bool) -> str:
    """One line: whose secret is missing, and each way to give it that applies here."""
    ways = [f"pass --auth={client_id}:SECRET"] if id_source == ARGUMENT else []
    note = ""
    if "TRULIOO_CLIENT_SECRET" not in choice.beaten:
        ways.append("set TRULIOO_CLIENT_SECRET")
    elif choice.environ.get("TRULIOO_CLIENT_SECRET"):
        note = f" (TRULIOO_CLIENT_SECRET is not for profile {choice.profile!r}: it names its own client)"
    secret_env = text_of(choice.values, "secret_env")
    if secret_env:
        ways.append(f"set {secret_env} (the profile's secret_env)")
    ways.append(
        "keep it in the OS keyring: httpie-trulioo login"
        + (f" --profile {choice.profile}" if choice.profile else "")
    )
    where = f"client {client_id!r} at {token_host(choice.settings.token_url)}"
    if choice.profile:
        where += f" (profile {choice.profile})"
    terminal = ", and no terminal to ask on" if asked_for else ""
    listed = ", ".join(ways[:-1]) + (", or " if len(ways) > 1 else "") + ways[-1]
    return f"no client secret for {where}{terminal}{note}: {listed}."
