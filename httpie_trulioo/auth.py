"""``TruliooAuth``: a requests auth that sends a cached client-credentials bearer token.

Most calls find a fresh token in the cache, in a new process each time: such a call loads this
module, ``settings``, ``urls`` and ``entries``, and nothing else of the package. Everything else
(the profile, the secret sources, the token request, writing the cache) loads when a call needs
it, through ``credentials`` and ``keeper``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import requests

import httpie_trulioo as _package  # its errors load only when one is raised (see _package.__getattr__)

from .entries import cache_folder, entry_name, folder_problem, is_fresh, load_entry
from .settings import (
    LOG_LEVELS,
    Settings,
    given_or_variable,
    given_settings,
    load_settings,
    note_secret_source,
    who,
)
from .urls import Origin, check_api_url, origin_of

if TYPE_CHECKING:
    from .credentials import Choice, SecretPrompt
    from .keeper import Keeper
    from .token import Token

log = logging.getLogger("httpie_trulioo")

PROFILE_MARK = "@"  # http --auth=@dev chooses profile dev; a client id never starts with it

# A multipart upload up to this size is held in memory so that a 401 can be answered by sending
# it again; identity documents and selfies are a few megabytes.
MAX_BUFFERED_UPLOAD = 64 << 20
# What an offline preview shows when no fresh token is cached: plainly not a token.
OFFLINE_PLACEHOLDER = "<token-not-fetched-offline>"


class TruliooAuth(requests.auth.AuthBase):
    """Bearer auth for the Trulioo API: gets a client-credentials token, caches it, retries a 401.

    Arguments left as None come from the profile and the ``TRULIOO_*`` variables, then defaults,
    as ``credentials`` says; ``profile`` chooses a profile by name, whose values then beat the
    variables; ``scope=""`` asks for no scope. Nothing is checked or read until the first request,
    so building one never raises; the first request raises a ``TruliooError`` if a setting is
    wrong, or if its URL is not one a token may go to. One object may be shared by threads: they
    share one token request per need.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        profile: str | None = None,
        token_url: str | None = None,
        scope: str | None = None,
        token_buffer: float | None = None,
        timeout: float | None = None,
        cache_dir: str | None = None,
        cache: bool | None = None,
        api_hosts: tuple[str, ...] | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        offline: bool = False,
        secret_prompt: SecretPrompt | None = None,
        proxies: Mapping[str, str] | None = None,
        auth_method: str | None = None,
        audience: str | None = None,
        resource: str | None = None,
    ) -> None:
        """Keep the arguments; the environment is read at the first request.

        ``offline=True`` never asks the token endpoint (``http --offline``): requests carry the
        cached token if it is fresh, else ``OFFLINE_PLACEHOLDER``. ``secret_prompt(client_id,
        token_url)``, when given, is asked for a secret that no other source has; it returns
        None when no one can be asked (``secret_sources.ask_on_terminal`` is the plugin's).
        ``proxies`` are those the request goes through besides the environment's (HTTPie's
        ``--proxy``): a token is never sent through one over plain http.
        """
        self._client_id = client_id
        self._client_secret = client_secret
        self._profile = profile
        self._overrides: dict[str, Any] = {
            "token_url": token_url,
            "scope": scope,
            "token_buffer": token_buffer,
            "timeout": timeout,
            "cache_dir": cache_dir,
            "cache_enabled": cache,
            "api_hosts": api_hosts,
            "auth_method": auth_method,
            "audience": audience,
            "resource": resource,
        }
        self._environ_given = environ
        self._clock = clock
        self._offline = offline
        self._secret_prompt = secret_prompt
        self._proxies = dict(proxies or {})
        self._choice: Choice | None = None
        self._settings: Settings | None = None
        self._secret_noted = False
        self._keeper: Keeper | None = None
        self._lock = threading.Lock()  # so that threads sharing this object configure it once

    @classmethod
    def from_choice(cls, choice: Choice, client_id: str, client_secret: str) -> TruliooAuth:
        """An auth object for a profile and settings already chosen (``credentials.choose``)."""
        auth = cls(client_id, client_secret, profile=choice.profile)
        auth._choice = choice
        return auth

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set ``Authorization: Bearer …`` and a hook that keeps the token home and answers a 401.

        The request's URL is checked first (https, an allowed host), before any token is had.
        """
        url = request.url or ""
        origin = check_api_url(url, self._read_settings().api_hosts)
        if origin[0] == "http":
            _refuse_a_proxy(url, origin[1], self._proxies)
        if self._offline:
            request.headers["Authorization"] = f"Bearer {self._configure().offline_token()}"
            return request
        access_token = self._warm_token() if self._keeper is None else None
        from_cache = access_token is not None
        if access_token is None:
            token, from_cache = self._configure().obtain()
            access_token = token.access_token
        request.headers["Authorization"] = f"Bearer {access_token}"
        if from_cache:
            _buffer_multipart(request)
        hook = _TokenGuard(self, origin, access_token, request.body, retry=from_cache)
        request.register_hook("response", hook)  # type: ignore[no-untyped-call]
        return request

    def token(self, *, min_ttl: float = 0.0, renew: bool = False) -> Token:
        """A token that may be sent now: the cached one, or a new one (and cache it).

        ``min_ttl``: the cached one only if it lives at least that many seconds more.
        ``renew``: a new one whatever is cached, which it replaces.
        """
        return self._configure().obtain(min_ttl=min_ttl, renew=renew)[0]

    def describe(self) -> dict[str, Any]:
        """The token URL, scope, client id and profile in use, and where each came from; never the secret."""
        credentials = self._configure().credentials
        return {
            "token_url": credentials.settings.token_url,
            "scope": credentials.settings.scope,
            "client_id": credentials.client_id,
            "audience": credentials.settings.audience,
            "resource": credentials.settings.resource,
            "profile": credentials.profile,
            "sources": dict(credentials.sources),
        }

    def _environ(self) -> Mapping[str, str]:
        """The environment as it was at the first request: every later look sees the same values."""
        if self._environ_given is None:
            self._environ_given = dict(os.environ)
        return self._environ_given

    def _read_settings(self) -> Settings:
        """The settings, read once; with a profile, as ``credentials.choose`` reads them."""
        if self._settings is None:
            if self._profile_chosen():
                self._settings = self._choose().settings
            else:
                # With no profile, choose() reads the variables just so, but this needs no credentials module.
                self._settings = load_settings(self._environ(), **given_settings(self._overrides))
        return self._settings

    def _warm_token(self) -> str | None:
        """A fresh token from the cache, if the client id and secret are at hand; else None.

        At hand: passed, or in TRULIOO_CLIENT_ID and TRULIOO_CLIENT_SECRET, with no profile, which
        is where ``credentials.resolve`` would find them first. Any other call, and a miss, goes
        the keeper's way, which looks again and says why it missed.
        """
        settings = self._read_settings()
        if self._profile_chosen() or not settings.cache_enabled:
            return None
        environ = self._environ()
        client_id = given_or_variable(self._client_id, environ, "TRULIOO_CLIENT_ID")
        secret = given_or_variable(self._client_secret, environ, "TRULIOO_CLIENT_SECRET")
        if client_id is None or secret is None:
            return None
        now = self._clock()
        entry = _fresh_entry(settings, client_id[0], secret[0], now)
        if entry is None:
            return None
        access_token: str = entry["token"]
        self._secret_noted = True  # a keeper made after a 401 need not say it again
        if log.isEnabledFor(logging.INFO):
            context = who(None, client_id[0], settings.token_url)
            note_secret_source(context, secret[1])
            describe_hit(context, "cache", access_token, entry["expires_at"] - now)
        return access_token

    def _profile_chosen(self) -> bool:
        """Tell whether a profile is chosen: already (``from_choice``), by name, or by TRULIOO_PROFILE."""
        return (
            self._choice is not None
            or self._profile is not None
            or bool(self._environ().get("TRULIOO_PROFILE", "").strip())
        )

    def _choose(self) -> Choice:
        """The profile and the settings, read once: all that checking a URL needs."""
        if self._choice is None:
            from .credentials import choose  # noqa: PLC0415 - a warm call without a profile needs none of it

            given = [name for name in ("client_id", "client_secret") if getattr(self, f"_{name}")]
            self._choice = choose(
                self._environ(), profile=self._profile, overrides=self._overrides, given=given
            )
        return self._choice

    def _configure(self) -> Keeper:
        """The credentials and their token keeper, worked out once (one prompt, whatever the threads)."""
        if self._keeper is None:
            with self._lock:
                if self._keeper is None:
                    from .credentials import resolve  # noqa: PLC0415 - see _warm_token
                    from .keeper import Keeper  # noqa: PLC0415 - see _warm_token

                    credentials = resolve(
                        self._choose(),
                        client_id=self._client_id,
                        client_secret=self._client_secret,
                        prompt=self._secret_prompt,
                        note=not self._secret_noted,
                    )
                    self._keeper = Keeper(credentials, self._clock)
        return self._keeper


def for_httpie(username: str | None, password: str | None) -> TruliooAuth:
    """The auth object for ``http --auth-type=trulioo --auth=USERNAME:PASSWORD`` (or ``--auth=@PROFILE``).

    HTTPie parses its arguments before it calls this: ``--offline`` and ``--proxy`` are read from
    them, and the plugin asks for a missing secret on the terminal by itself.
    """
    keep_dependencies_importable()
    log_to_stderr()
    profile = None
    if username and username.startswith(PROFILE_MARK):
        profile, username = username[len(PROFILE_MARK) :], None
    parsed = _httpie_arguments()
    offline = getattr(parsed, "offline", None)
    return TruliooAuth(
        username or None,
        password or None,
        profile=profile,
        offline=offline if isinstance(offline, bool) else "--offline" in sys.argv,
        secret_prompt=_ask_on_terminal,
        proxies={item.key: item.value for item in getattr(parsed, "proxy", None) or ()},
    )


def keep_dependencies_importable() -> None:
    """Keep the folder this package was installed in on ``sys.path``.

    ``httpie cli plugins install`` puts a plugin and its dependencies in a folder of their own,
    which HTTPie adds to ``sys.path`` only while it loads plugins; the imports this package makes
    later, at request time, would then fail. Elsewhere the folder is on the path already.
    """
    folder = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if folder not in sys.path:
        sys.path.append(folder)


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
    level = os.environ.get("TRULIOO_LOG", "").strip().lower()
    logger.setLevel(level.upper() if level in LOG_LEVELS else logging.WARNING)


def _ask_on_terminal(client_id: str, token_url: str) -> str | None:
    """The plugin's own prompt, loaded only when no other source has the secret."""
    from .secret_sources import ask_on_terminal  # noqa: PLC0415 - most calls never prompt

    return ask_on_terminal(client_id, token_url)


def _httpie_arguments() -> object:
    """The parsed arguments of this http call (``--offline``, ``--proxy``), or None.

    HTTPie does not pass its arguments to plugins; its parser keeps the parsed ones, which are
    read here. Without them, ``--offline`` is looked for on the command line.
    """
    definition = sys.modules.get("httpie.cli.definition")
    return getattr(getattr(definition, "parser", None), "args", None)


def _fresh_entry(settings: Settings, client_id: str, secret: str, now: float) -> dict[str, Any] | None:
    """The cache entry of these credentials if its token is fresh at ``now``; else None."""
    folder = cache_folder(settings.cache_dir)
    if folder_problem(folder):
        return None  # the keeper's way says why
    name = entry_name(
        settings.token_url,
        settings.scope,
        client_id,
        secret,
        audience=settings.audience,
        resource=settings.resource,
    )
    fields = (settings.token_url, settings.scope, client_id, settings.audience, settings.resource)
    entry, _ = load_entry(folder, name, *fields)
    if entry is None:
        return None
    return entry if is_fresh(entry["expires_at"], entry["obtained_at"], now, settings.token_buffer) else None


def describe_hit(context: str, where: str, access_token: str, seconds_left: float) -> None:
    """Log a cache hit with the token's fingerprint and how long it has left (TRULIOO_LOG=info)."""
    if log.isEnabledFor(logging.INFO):
        log.info(
            "%s %s hit: token …%s expires in %s",
            context,
            where,
            fingerprint(access_token),
            duration(seconds_left),
        )


def fingerprint(access_token: str) -> str:
    """Six hex digits that tell tokens apart in logs without revealing them."""
    return hashlib.sha256(access_token.encode()).hexdigest()[-6:]


def duration(seconds: float) -> str:
    """A time left, for a log line: in minutes from 90 seconds on."""
    return f"{seconds / 60:.0f} min" if abs(seconds) >= 90 else f"{seconds:.0f} s"


def _refuse_a_proxy(url: str, host: str, given: Mapping[str, str]) -> None:
    """Refuse a plain-http request that a proxy would carry: the token would cross it in clear."""
    from requests.utils import get_environ_proxies, select_proxy  # noqa: PLC0415 - plain http only

    if select_proxy(url, {**get_environ_proxies(url), **given}):
        raise _package.InsecureAPIURL(
            f"refusing to send the Trulioo token over plain http to {host} through a proxy "
            f"(HTTP_PROXY, ALL_PROXY or --proxy): add {host} to NO_PROXY, or use https://."
        )


class _TokenGuard:
    """A response hook that keeps the token at its origin and, for a cached one, answers a 401.

    requests copies hooks and headers onto redirected requests. It drops the token when a
    redirect leaves the host, but not on an http to https upgrade of the same host; so a
    redirect to another origin has the token taken off here first. Only a 401 to the request the
    token was attached to counts: from the same origin, to a request that carried that token; a
    401 from anywhere else must not bring a new one. Then the cached token is replaced once, and
    the request sent again, by ``keeper.answer_401``.
    """

    def __init__(self, auth: TruliooAuth, origin: Origin, sent: str, body: object, *, retry: bool) -> None:
        """Remember where the token went, which it was, where the body starts, and if a 401 is ours."""
        self.auth = auth
        self.origin = origin
        self.rejected = sent
        self.body = body
        self.start = _start_of(body)
        self.used = not retry

    def __call__(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """Keep the token home on a redirect; answer the first 401 to it, from its origin."""
        if response.is_redirect:
            self.keep_home(response, response.request)
            return response
        if response.status_code != 401 or self.used or not self._answers_our_request(response):
            return response
        self.used = True
        from .keeper import answer_401  # noqa: PLC0415 - most calls never meet a 401

        return answer_401(self, response, kwargs)

    def keep_home(self, response: requests.Response, copied: requests.PreparedRequest) -> None:
        """Take the token off ``copied``, which requests copies to follow a redirect elsewhere."""
        target = origin_of(urljoin(response.url, response.headers["Location"]))
        if target != self.origin:
            copied.headers.pop("Authorization", None)

    def _answers_our_request(self, response: requests.Response) -> bool:
        sent = response.request
        return (
            origin_of(sent.url or "") == self.origin
            and sent.headers.get("Authorization") == f"Bearer {self.rejected}"
        )


def _start_of(body: object) -> int | None:
    """Where a file body starts, to rewind it to; None for anything that cannot be rewound."""
    if not hasattr(body, "read"):
        return None  # bytes need no rewinding; a generator or another iterable is read once
    stream: Any = body
    try:
        return int(stream.tell())
    except (AttributeError, OSError, ValueError):
        return None  # a pipe, or a stream with no position


def _buffer_multipart(request: requests.PreparedRequest) -> None:
    """Read a multipart upload (requests-toolbelt's encoder) into bytes, so that it can be resent.

    The encoder can be read only once and its fields may have come from a one-shot iterator (they
    do in HTTPie), so it cannot be rebuilt after a 401. An upload larger than the cap is left as a
    stream; a 401 to it is answered by asking to run the command again.
    """
    body: Any = request.body
    if type(body).__name__ == "MultipartEncoder" and 0 <= getattr(body, "len", -1) <= MAX_BUFFERED_UPLOAD:
        request.body = body.read()
