"""``httpie-trulioo``: tokens for other tools, what is cached, and the secret kept in the OS keyring.

Exit status: 0 done, 1 error (one line on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from .cache import Entry, TokenCache, TokenKey, cache_folder, folder_problem
from .completion import NAMES_OPTION, SHELLS, profile_names, script
from .credentials import (
    Choice,
    Credentials,
    choose,
    profile_choices,
    profiles_by_key,
    source_before_keyring,
)
from .errors import ConfigurationError, TruliooError
from .profiles import config_file
from .provider import LOCK_GRACE, Provider
from .secret_sources import (
    ask_on_terminal,
    forget_in_keyring,
    kept_logins,
    store_in_keyring,
    usable_keyring,
)
from .settings import READ, Settings, load_settings, log_to_stderr, shown_default
from .token import VALID, Token, duration, fingerprint, freshness, jwt_claims
from .urls import same_endpoint, without_userinfo

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a call milliseconds
if TYPE_CHECKING:
    from typing import Any

CLAIMS = ("scope", "aud", "client_id", "exp")
# exec replaces this process with the command where the system can (signals and the exit status
# are then the command's own); Windows has no such call, so the command runs as a child there.
REPLACE_PROCESS = os.name == "posix"
TOKEN_VARIABLE = "TRULIOO_TOKEN"  # noqa: S105 - a variable's name: where exec puts the token for the command it runs


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    log_to_stderr()
    try:
        status = int(args.run(args))
        sys.stdout.flush()  # here, where a closed pipe can still be caught
    except TruliooError as exc:
        print(f"httpie-trulioo: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130  # as a shell shows a command ended by Ctrl-C (SIGINT, 2)
    except BrokenPipeError:
        return _reader_gone()
    return status


def _reader_gone() -> int:
    """End quietly when what reads the output has stopped (``status | head -1``), as SIGPIPE would.

    What is left in the buffer goes nowhere, so that Python's own flush at exit finds no pipe
    to fail on; the status is the shell's for a process ended by SIGPIPE.
    """
    discard = os.open(os.devnull, os.O_WRONLY)
    os.dup2(discard, sys.stdout.fileno())
    os.close(discard)
    return 128 + 13  # SIGPIPE is 13 on every POSIX system (and has no number on Windows)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="httpie-trulioo",
        allow_abbrev=False,
        description="Trulioo client-credentials tokens, as http --auth-type=trulioo caches them.",
        epilog="Settings come from -p/--profile, TRULIOO_PROFILE and TRULIOO_* variables, as for the plugin.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    # Every command chooses its client the same way.
    choosing = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    choosing.add_argument(
        "-p",
        "--profile",
        metavar="NAME",
        type=_profile_name,
        help="use this profile of the profiles file (NAME or @NAME); its values beat the TRULIOO_* variables",
    )
    choosing.add_argument(
        "--client-id", metavar="ID", help="this client id, over the profile's and TRULIOO_CLIENT_ID"
    )

    token = commands.add_parser(
        "token",
        allow_abbrev=False,
        parents=[choosing],
        help="print a valid bearer token (cached, or fetched)",
        description="Print a valid bearer token to stdout, from the cache or fetched, e.g. "
        'curl -H "Authorization: Bearer $(httpie-trulioo token)" ...',
    )
    token.add_argument(
        "--json", action="store_true", help="print the token with its expiry, settings and their sources"
    )
    token.add_argument(
        "--refresh", action="store_true", help="get a new token now and replace the cached one"
    )
    token.add_argument(
        "--min-ttl",
        metavar="SECONDS",
        type=_seconds,
        default=0.0,
        help="get a new token unless the cached one lives at least this long",
    )
    token.set_defaults(run=_token)

    run = commands.add_parser(
        "exec",
        allow_abbrev=False,
        parents=[choosing],
        help="run a command with a valid token in TRULIOO_TOKEN",
        usage="%(prog)s [-h] [-p NAME] [--client-id ID] [--min-ttl SECONDS] -- COMMAND [ARG ...]",
        description="Run COMMAND (no shell) with a valid bearer token, cached or fetched, in its "
        "environment as TRULIOO_TOKEN, and exit with its exit status: httpie-trulioo exec -p dev -- "
        "pytest tests/api, or, for a tool that takes the token as an argument, a shell: httpie-trulioo "
        "exec -- sh -c 'newman run suite.json --env-var \"token=$TRULIOO_TOKEN\"'.",
    )
    run.add_argument(
        "--min-ttl",
        metavar="SECONDS",
        type=_seconds,
        default=0.0,
        help="get a new token unless the cached one lives at least this long (a long test run)",
    )
    run.add_argument("command", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    run.set_defaults(run=_exec)

    status = commands.add_parser(
        "status",
        allow_abbrev=False,
        parents=[choosing],
        help="show each profile, login and cached token (never a secret or a token)",
        description="Show the active credentials (what http -A trulioo uses without @NAME), each "
        "profile and each login in the keyring: the client, token URL and scope, where the secret "
        "would come from, and the state of the cached token: valid, refresh due (the next call gets "
        "a new one) or expired, with its fingerprint as logged. Then the cached tokens none of them "
        "gets. With --profile or --client-id, only that choice.",
    )
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.add_argument("--claims", action="store_true", help="add the JWT claims scope, aud, client_id, exp")
    status.add_argument(
        "--check",
        action="store_true",
        help="print one line; exit 0 only if the chosen credentials (--profile, TRULIOO_PROFILE or "
        "variables) have a valid cached token, else 1",
    )
    status.set_defaults(run=_status)

    clear = commands.add_parser(
        "clear",
        allow_abbrev=False,
        parents=[choosing],
        help="remove cached tokens",
        description="Remove every cached token; with --profile, only the token that profile gets; "
        "with --client-id alone, every token of that client. Exit 1 when nothing was removed.",
    )
    clear.add_argument("--json", action="store_true", help="print JSON for scripts")
    clear.set_defaults(run=_clear)

    login = commands.add_parser(
        "login",
        allow_abbrev=False,
        parents=[choosing],
        help="check a client secret and keep it in the OS keyring",
        description="Ask for the client secret (or read it from stdin), check it by getting a "
        "token, and keep it in the OS keyring, where http -A trulioo and this command find it. "
        "Needs the keyring extra: pip install 'httpie-trulioo[keyring]'.",
    )
    login.add_argument(
        "--secret-stdin", action="store_true", help="read the secret from the first line of stdin"
    )
    login.add_argument("--json", action="store_true", help="print JSON for scripts")
    login.set_defaults(run=_login)

    logout = commands.add_parser(
        "logout",
        allow_abbrev=False,
        parents=[choosing],
        help="remove the client secret from the OS keyring, and the cached tokens",
        description="Remove the chosen client's secret from the OS keyring, and its cached tokens.",
    )
    logout.add_argument("--json", action="store_true", help="print JSON for scripts")
    logout.set_defaults(run=_logout)

    completion = commands.add_parser(
        "completion",
        allow_abbrev=False,
        help="print a shell completion script",
        description="Print a script that completes the commands, options and profile names of\n"
        "httpie-trulioo in SHELL; it reads the names from the profiles file at each TAB. Load it once:\n\n"
        '  bash  add to ~/.bashrc: eval "$(httpie-trulioo completion bash)"\n'
        "  zsh   mkdir -p ~/.zfunc && httpie-trulioo completion zsh > ~/.zfunc/_httpie-trulioo\n"
        "        and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)\n"
        "  fish  httpie-trulioo completion fish > ~/.config/fish/completions/httpie-trulioo.fish",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the lines to copy, as they are
    )
    completion.add_argument(
        "shell", metavar="SHELL", choices=SHELLS, help=f"{', '.join(SHELLS[:-1])} or {SHELLS[-1]}"
    )
    # What the scripts call at each TAB: hidden, as no one types it.
    completion.add_argument(NAMES_OPTION, dest="profile_names", action="store_true", help=argparse.SUPPRESS)
    completion.set_defaults(run=_completion)
    return parser


class _Version(argparse.Action):
    """``--version``: the installed version, looked up only when asked (the lookup costs milliseconds)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        """Print ``httpie-trulioo VERSION`` and exit."""
        from importlib.metadata import version  # noqa: PLC0415 - see the class docstring

        print(f"{parser.prog} {version('httpie-trulioo')}")  # on stdout, as argparse's own version does
        parser.exit()


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, 0 or more; it is {text!r}")
    return value


def _profile_name(text: str) -> str:
    """A profile name as ``http -a @NAME`` spells it, or without the ``@``."""
    return text.removeprefix("@")


def _choice(args: argparse.Namespace, *, secret_given: bool = False) -> Choice:
    """The chosen client: by --profile and --client-id, else as the plugin chooses it."""
    return choose(
        os.environ,
        profile=args.profile,
        arguments={"client_id": args.client_id},
        secret_given=secret_given,
    )


def _credentials(args: argparse.Namespace, **kwargs: Any) -> Credentials:
    return Credentials(_choice(args), **kwargs)


def _token(args: argparse.Namespace) -> int:
    token, provider = _valid_token(args)
    expires_in = int(token.expires_at - time.time()) if token.expires_at is not None else None
    if not args.json:
        print(token.access_token)
        return 0
    details: dict[str, Any] = {
        "token": token.access_token,
        "fingerprint": fingerprint(token.access_token),
        "expires_at": _iso(token.expires_at),
        "expires_in": expires_in,
        **provider.credentials.describe(),
        "granted_scope": token.scope,  # as the server answered; None if it did not say
    }
    print(json.dumps(details, indent=2))
    return 0


def _exec(args: argparse.Namespace) -> int:
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not argv:
        raise ConfigurationError("exec needs a command to run: httpie-trulioo exec -- COMMAND [ARG ...].")
    token = _valid_token(args)[0].access_token
    environ = {**os.environ, TOKEN_VARIABLE: token}
    sys.stdout.flush()
    try:
        if REPLACE_PROCESS:
            os.execvpe(argv[0], argv, environ)  # noqa: S606 - the user's own command, without a shell
        import subprocess  # noqa: PLC0415 - only exec on Windows needs it

        return subprocess.run(argv, env=environ, check=False).returncode  # noqa: S603 - likewise
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError)
        reason = "no such program" if missing else exc.strerror or type(exc).__name__
        print(f"httpie-trulioo: error: cannot run {argv[0]!r}: {reason}.", file=sys.stderr)
        return 127 if missing else 126  # as a shell says "not found" and "cannot execute"


def _valid_token(args: argparse.Namespace) -> tuple[Token, Provider]:
    """The token ``token`` and ``exec`` give, living ``--min-ttl`` seconds more; and its provider."""
    provider = Provider(_credentials(args, prompt=ask_on_terminal))
    min_ttl = args.min_ttl
    renew = getattr(args, "refresh", False)
    if min_ttl and not renew:
        # A cached token says how long the server's tokens live: no request for one it cannot give.
        _refuse_a_min_ttl_beyond(provider.cached()[0], min_ttl)
    token, _ = provider.token(min_ttl=min_ttl, renew=renew)
    if min_ttl:
        _refuse_a_min_ttl_beyond(token, min_ttl)
    return token, provider


def _refuse_a_min_ttl_beyond(token: Token | None, min_ttl: float) -> None:
    """Refuse a ``--min-ttl`` longer than the token endpoint's tokens live: no token could meet it."""
    if token is None:
        return
    if token.expires_at is None:
        raise TruliooError(
            f"the token endpoint gives tokens without an expiry, so none can be promised to live "
            f"--min-ttl {min_ttl:g} s; leave --min-ttl out."
        )
    lifetime = math.ceil(token.expires_at - token.obtained_at)  # a JWT exp is in whole seconds
    if min_ttl > lifetime:
        raise TruliooError(
            f"--min-ttl {min_ttl:g} s is longer than the token endpoint's tokens live "
            f"({lifetime} s, {duration(lifetime)}): ask for {lifetime} s or less."
        )


def _settings() -> Settings:
    """The settings that do not depend on a profile: the cache folder, the refresh buffer."""
    return load_settings(os.environ)


def _cache(settings: Settings) -> TokenCache:
    return TokenCache(cache_folder(settings), lock_timeout=settings.timeout + LOCK_GRACE)


def _whose(credentials: Credentials) -> str:
    settings = credentials.settings
    profile = f" (profile {settings.profile})" if settings.profile else ""
    return f"client {credentials.client_id!r} at {settings.token_url}{profile}"


def _of_choice(choice: Choice) -> tuple[str, Callable[[Entry], bool]]:
    """Whose token the chosen credentials get (" of client ..."), and a test for it: the same key."""
    credentials = Credentials(choice)
    wanted = TokenKey.of(credentials.settings)
    return f" of {_whose(credentials)}", lambda entry: entry.key == wanted


def _status(args: argparse.Namespace) -> int:
    now = time.time()
    if args.check:
        return _check(Provider(_credentials(args), look_only=True), now, as_json=args.json)
    chosen = args.profile is not None or args.client_id is not None
    trouble = ""
    try:
        active: Choice | None = _choice(args)
    except ConfigurationError as exc:
        if chosen:
            raise  # what was asked for cannot be shown
        active, trouble = None, str(exc)  # what is cached is listed whatever TRULIOO_PROFILE's trouble
    settings = active.settings if active is not None else _settings()
    cache = _cache(settings)
    problem = folder_problem(cache.folder) if os.path.exists(cache.folder) else ""
    listing = _Listing([] if problem else [entry for _, entry in cache.entries()], now, settings.token_buffer)
    profiles = config_file(os.environ)
    try:
        choices = profile_choices(os.environ)
        profiles_state = "" if os.path.exists(profiles) else " (none yet)"
    except ConfigurationError as exc:
        choices, profiles_state = [], f" (cannot be used: {str(exc).removeprefix(profiles)})"
    by_client = profiles_by_key(choices)
    blocks = []
    if active is not None and (chosen or active.settings.client_id is not None):
        blocks.append(listing.block("chosen" if chosen else "active", active))
    if not chosen:
        blocks += [listing.block("profile", choice) for choice in choices]
        blocks += listing.login_blocks(blocks)
    _, belongs = _chosen_tokens(args)
    tokens = [entry for entry in listing.entries if belongs(entry)]
    shown = {id(block["entry"]) for block in blocks}
    others = [entry for entry in tokens if id(entry) not in shown]
    if args.json:
        report = {
            "cache_dir": cache.folder,
            "config_file": profiles,
            "settings": _settings_report(settings),
            "credentials": [
                {key: value for key, value in block.items() if key != "entry"} for block in blocks
            ],
            "tokens": [
                _describe(entry, now, settings.token_buffer, by_client, args.claims) for entry in tokens
            ],
        }
        print(json.dumps(report, indent=2))
        return 0
    lines = [
        f"cache folder:  {cache.folder}{_folder_state(cache.folder, problem)}",
        f"profiles file: {profiles}{profiles_state}",
    ]
    if trouble:
        lines.append(f"active: cannot be used: {trouble}")
    for block in blocks:
        lines += _block_lines(block, listing, args.claims)
    for entry in others:
        key = entry.key
        title = f"cached for client {key.client_id!r} (named by --auth, or by nothing set now)"
        lines += _field_lines(title, listing.token_fields(entry, args.claims, whose=True))
    if not tokens:
        lines.append("no cached tokens")
    print("\n".join(lines))
    return 0


STATUS_WIDTH = 100  # columns: status fits a terminal split in two, and a bug report
_LABEL = 11  # the width of a field's name in status


def _field_lines(title: str, fields: list[tuple[str, str]]) -> list[str]:
    """A title, then each field on its lines, wrapped within ``STATUS_WIDTH`` columns.

    Nothing is cut, and no word is broken: a URL longer than a line keeps a line of its own, whole,
    to be copied.
    """
    import textwrap  # noqa: PLC0415 - only status needs it

    lines = [title]
    for name, value in fields:
        lines += textwrap.wrap(
            value,
            width=STATUS_WIDTH,
            initial_indent=f"  {name:<{_LABEL}}",
            subsequent_indent=" " * (2 + _LABEL),
            break_long_words=False,
            break_on_hyphens=False,
        ) or [f"  {name}"]
    return lines


class _Listing:
    """What status shows each set of credentials against: the cached tokens, the logins, the time."""

    def __init__(self, entries: list[Entry], now: float, token_buffer: float) -> None:
        self.entries = entries
        self.now = now
        self.token_buffer = token_buffer
        self.logins = kept_logins()

    def block(self, kind: str, choice: Choice) -> dict[str, Any]:
        """One set of credentials: whose, where its secret would come from, its cached token."""
        chosen = choice.settings
        key = TokenKey.of(chosen) if chosen.client_id is not None else None
        entry = next((entry for entry in self.entries if entry.key == key), None)
        token = entry.token if entry is not None else None
        return {
            "kind": kind,  # active, chosen, profile or login
            "profile": chosen.profile,
            "client_id": chosen.client_id,
            "token_url": chosen.token_url,
            "scope": chosen.scope,
            "audience": chosen.audience,
            "resource": chosen.resource,
            "secret": self.secret_source(choice),
            "state": freshness(token, self.now, self.token_buffer) if token else None,
            "fingerprint": fingerprint(token.access_token) if token else None,
            "expires_at": _iso(token.expires_at) if token else None,
            "entry": entry,
        }

    def login_blocks(self, shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The logins in the keyring that no block shown already covers."""
        covered = {(block["client_id"], same_endpoint(block["token_url"])) for block in shown}
        blocks = []
        for client_id, token_url in self.logins:
            if (client_id, same_endpoint(token_url)) not in covered:
                environ = {**os.environ, "TRULIOO_PROFILE": ""}
                choice = choose(environ, arguments={"client_id": client_id, "token_url": token_url})
                blocks.append(self.block("login", choice))
        return blocks

    def secret_source(self, choice: Choice) -> str:
        """Where a call would get the secret, found without reading it: no command run, no keyring read."""
        settings = choice.settings
        try:
            source = source_before_keyring(choice)
        except ConfigurationError as exc:
            return f"cannot be used: {exc}"
        if source is not None:
            return f"{source} (not run by status)" if source.startswith("the secret_cmd") else source
        login = (settings.client_id, same_endpoint(settings.token_url))
        if any((client, same_endpoint(url)) == login for client, url in self.logins):
            return "the keyring (httpie-trulioo login)"
        secret_env = choice.values.get("secret_env")
        unset = f"set {secret_env} (its secret_env), " if secret_env else ""
        return f"none at hand: {unset}log in (httpie-trulioo login), or type it when asked"

    def token_fields(self, entry: Entry, with_claims: bool, *, whose: bool = False) -> list[tuple[str, str]]:
        """A cached token's fields: its state and expiry, what scope was granted, its claims if asked."""
        token = entry.token
        expires_at = token.expires_at or 0.0
        state = freshness(token, self.now, self.token_buffer)
        if self.now >= expires_at:
            when = f"expired at {_local(expires_at)}"
        else:
            when = f"{state}, expires in {_left(int(expires_at - self.now))} ({_local(expires_at)})"
        key = entry.key
        fields = []
        if whose:  # a token no block above shows: what it was fetched for
            fields += [("token URL", without_userinfo(key.token_url)), ("scope", _scope_shown(key.scope))]
            fields += [(name, getattr(key, name)) for name in ("audience", "resource") if getattr(key, name)]
        fields.append(("token", f"{when}, …{fingerprint(token.access_token)}"))
        granted = token.scope
        fields.append(("granted", "(not said)" if granted is None else _printable(granted) or '""'))
        if with_claims:
            fields.append(("claims", json.dumps(_claims(token.access_token))))
        return fields


def _scope_shown(scope: str | None) -> str:
    return scope or '"" (none asked for)'


def _block_lines(block: dict[str, Any], listing: _Listing, with_claims: bool) -> list[str]:
    kind = block["kind"]
    if kind == "profile":
        title = f"profile {block['profile']}"
    elif kind == "login":
        title = "login in the keyring"
    else:
        whose = f"profile {block['profile']}" if block["profile"] else "the TRULIOO_* variables"
        title = f"chosen: {whose}" if kind == "chosen" else f"active (http -A trulioo without @NAME): {whose}"
    fields = [
        ("client", block["client_id"] or "none: set TRULIOO_CLIENT_ID, or choose a profile"),
        ("token URL", block["token_url"]),
        ("scope", _scope_shown(block["scope"])),
        *((name, block[name]) for name in ("audience", "resource") if block[name]),
        ("secret", block["secret"]),
    ]
    entry = block["entry"]
    fields += listing.token_fields(entry, with_claims) if entry is not None else [("token", "none cached")]
    return _field_lines(title, fields)


def _settings_report(settings: Settings) -> dict[str, dict[str, Any]]:
    """Each setting, from ``settings.SETTINGS``: its value, where it came from, its variable and default."""
    return {
        setting.name: {
            "value": getattr(settings, setting.name),
            "source": settings.sources[setting.name],
            "variable": setting.variable,
            "default": shown_default(setting).replace("`", ""),
        }
        for setting in READ
    }


def _check(provider: Provider, now: float, *, as_json: bool = False) -> int:
    """One line (or JSON) on the chosen credentials' cached token, as the plugin's first look sees it.

    Exit 0 only if the plugin would send it.
    """
    credentials = provider.credentials
    whose = _whose(credentials)
    token, why = provider.cached()
    expires_at = token.expires_at if token is not None else None
    if as_json:
        report = {
            "valid": token is not None and why == VALID,
            "state": why if token is not None else "none cached",
            "client_id": credentials.client_id,
            "token_url": credentials.settings.token_url,
            "profile": credentials.settings.profile,
            "fingerprint": fingerprint(token.access_token) if token is not None else None,
            "expires_at": _iso(expires_at),
            "expires_in": int(expires_at - now) if expires_at is not None else None,
        }
        print(json.dumps(report, indent=2))
        return 0 if report["valid"] else 1
    if token is None:
        print(f"no cached token for {whose}")
        return 1
    expires_at = expires_at or 0.0
    when = (
        f"expired at {_local(expires_at)}"
        if why == "expired"
        else f"expires in {_left(int(expires_at - now))}"
    )
    print(f"{why}: token …{fingerprint(token.access_token)} for {whose}, {when}")
    return 0 if why == VALID else 1


def _folder_state(folder: str, problem: str) -> str:
    if not os.path.exists(folder):
        return " (none yet)"
    if not os.path.isdir(folder):
        return " (not a folder: the cache cannot be used)"
    return f" (not used: {problem.replace(folder + ' ', '')})" if problem else ""


def _describe(
    entry: Entry,
    now: float,
    token_buffer: float,
    by_client: dict[TokenKey, list[str]],
    with_claims: bool,
) -> dict[str, Any]:
    token = entry.token
    key = entry.key
    expires_at = token.expires_at or 0.0
    row: dict[str, Any] = {
        "client_id": key.client_id,
        "profiles": by_client.get(key, []),
        "token_url": without_userinfo(key.token_url),  # never one a token request took, but shown safe
        "scope": key.scope,
        "granted_scope": token.scope,
        "audience": key.audience,
        "resource": key.resource,
        "fingerprint": fingerprint(token.access_token),
        "obtained_at": _iso(token.obtained_at),
        "expires_at": _iso(expires_at),
        "expires_in": int(expires_at - now),
        "state": freshness(token, now, token_buffer),  # valid, refresh due or expired
        "expired": now >= expires_at,
    }
    if with_claims:
        row["claims"] = _claims(token.access_token)
    return row


def _claims(access_token: str) -> dict[str, Any] | None:
    claims = jwt_claims(access_token)
    if claims is None:
        return None
    return {name: claims[name] for name in CLAIMS if name in claims}


def _clear(args: argparse.Namespace) -> int:
    cache = _cache(_settings())
    whose, belongs = _chosen_tokens(args)
    removed = _remove(cache, belongs, leftovers=not whose)
    if args.json:
        report = {
            "removed": removed,
            "cache_dir": cache.folder,
            "profile": args.profile,
            "client_id": args.client_id,
        }
        print(json.dumps(report, indent=2))
        return 0 if removed else 1
    if not removed:
        print(f"httpie-trulioo: no cached tokens{whose} in {cache.folder}: nothing removed.", file=sys.stderr)
        return 1
    print(f"removed {removed} cached token{'' if removed == 1 else 's'}{whose} from {cache.folder}")
    return 0


def _chosen_tokens(args: argparse.Namespace) -> tuple[str, Callable[[Entry], bool]]:
    """Whose cached tokens a command picked, and a test for them; every token when it picked none.

    ``--profile`` (with or without ``--client-id``): the one token that choice gets;
    ``--client-id`` alone: every token of that client, whatever its token URL or scope.
    """
    if args.profile is not None:
        return _of_choice(_choice(args))
    if args.client_id is not None:
        return f" of client {args.client_id!r}", lambda entry: entry.key.client_id == args.client_id
    return "", lambda entry: True


def _remove(cache: TokenCache, belongs: Callable[[Entry], bool], *, leftovers: bool) -> int:
    """Remove the cached tokens that ``belongs`` picks (and temp files left by killed writers)."""
    if not os.path.exists(cache.folder):
        return 0
    problem = folder_problem(cache.folder)
    if problem:
        raise TruliooError(f"{problem}; nothing was removed.")
    chosen = [path for path, entry in cache.entries() if belongs(entry)]
    removed = 0
    for path in chosen + (cache.leftovers() if leftovers else []):
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise TruliooError(f"could not remove {path}: {exc.strerror}.") from None
        removed += path in chosen
    return removed


def _login(args: argparse.Namespace) -> int:
    choice = _choice(args, secret_given=True)
    client_id = Credentials(choice).client_id
    token_url = choice.settings.token_url
    winner = source_before_keyring(choice)
    if winner is not None:
        raise ConfigurationError(
            f"{winner} gives the secret of {_whose(Credentials(choice))} before the keyring would: a "
            "secret kept there would never be used. Remove that (or unset it), then log in."
        )
    secret_env = choice.values.get("secret_env")
    if secret_env:
        print(
            f"httpie-trulioo: note: {choice.place('secret_env')} names secret_env {secret_env}: "
            f"whenever {secret_env} is set, it is used instead of the keyring.",
            file=sys.stderr,
        )
    usable_keyring()  # before anyone types a secret that could not be kept
    secret = _secret_from_stdin() if args.secret_stdin else ask_on_terminal(client_id, token_url)
    if secret is None:
        raise ConfigurationError("no terminal to ask for the secret on: pipe it to login --secret-stdin.")
    credentials = Credentials(choice, client_secret=secret)
    Provider(credentials).token(renew=True)
    backend = store_in_keyring(token_url, client_id, secret)
    if args.json:
        report = {
            "client_id": client_id,
            "token_url": token_url,
            "profile": choice.profile,
            "keyring": backend,
        }
        print(json.dumps(report, indent=2))
        return 0
    print(f"logged in {_whose(credentials)}: the secret works and is kept in the keyring ({backend})")
    return 0


def _secret_from_stdin() -> str:
    secret = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not secret:
        raise ConfigurationError("no secret on stdin: its first line is empty (--secret-stdin).")
    return secret


def _logout(args: argparse.Namespace) -> int:
    choice = _choice(args)
    credentials = Credentials(choice)
    client_id, token_url = credentials.client_id, choice.settings.token_url
    forgotten = forget_in_keyring(token_url, client_id)
    # Every token of the client at this token URL, whatever its scope, audience or resource: a
    # fresh one may be sent without the secret, and the secret is what logout takes away.
    removed = _remove(
        _cache(choice.settings),
        lambda entry: (entry.key.token_url, entry.key.client_id) == (token_url, client_id),
        leftovers=False,
    )
    whose = _whose(credentials)
    if args.json:
        report = {
            "client_id": client_id,
            "token_url": token_url,
            "profile": choice.profile,
            "secret_removed": forgotten,
            "tokens_removed": removed,
        }
        print(json.dumps(report, indent=2))
        return 0 if forgotten or removed else 1
    if not forgotten and not removed:
        print(
            f"httpie-trulioo: not logged in: no secret in the keyring and no cached token for {whose}.",
            file=sys.stderr,
        )
        return 1
    secret = "removed the secret from the keyring" if forgotten else "no secret was in the keyring"
    print(f"logged out {whose}: {secret}, and {removed} cached token{'' if removed == 1 else 's'}")
    return 0


def _completion(args: argparse.Namespace) -> int:
    """Print the completion script for a shell; with --profile-names (the script's TAB), the profile names.

    The names go one a line; a profiles file that cannot be used gives none, no error, and status 1.
    """
    if args.profile_names:
        names = profile_names(os.environ)
        if names:
            print("\n".join(names))
        return 0 if names is not None else 1
    print(script(_parser(), args.shell), end="")
    return 0


def _printable(text: str | None) -> str:
    """Server text for a table cell: no escapes, no line breaks."""
    return "".join(ch if ch.isprintable() else " " for ch in text or "")


def _iso(epoch: float | None) -> str | None:
    try:
        moment = datetime.fromtimestamp(epoch, UTC) if epoch is not None else None
    except (ValueError, OverflowError, OSError):
        return None  # a time no calendar date can show
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def _local(epoch: float) -> str:
    """Local time with its zone, e.g. ``2026-11-29 11:34:17 CET``; "-" for a time no calendar shows."""
    try:
        moment = datetime.fromtimestamp(epoch).astimezone()
    except (ValueError, OverflowError, OSError):
        return "-"
    return moment.strftime("%Y-%m-%d %H:%M:%S ") + (moment.strftime("%Z") or moment.strftime("%z"))


def _left(seconds: int) -> str:
    """Time left, for a table: "-" when none is."""
    return duration(seconds) if seconds > 0 else "-"


if __name__ == "__main__":
    sys.exit(main())
