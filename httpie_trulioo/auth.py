"""``TruliooAuth``: a requests auth that sends a cached client-credentials bearer token."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urljoin

import requests
from requests.cookies import extract_cookies_to_jar

from .cache import CacheKey, Lookup, TokenCache, cache_folder, prepare_folder
from .credentials import Choice, Credentials, SecretPrompt, choose, resolve
from .endpoint import fetch_token
from .errors import InsecureAPIURL, TokenRequestFailed
from .settings import Settings
from .token import Token
from .urls import Origin, check_api_url, origin_of

log = logging.getLogger("httpie_trulioo")

# A process waits for another's lock at most this long beyond the token request's own timeout:
# a holder cannot legitimately take longer, so past it the holder is wedged and we fetch anyway.
LOCK_GRACE = 2.0
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
        self._environ = environ
        self._clock = clock
        self._offline = offline
        self._secret_prompt = secret_prompt
        self._proxies = dict(proxies or {})
        self._choice: Choice | None = None
        self._keeper: _Keeper | None = None
        self._lock = threading.Lock()  # so that threads sharing this object configure it once

    @classmethod
    def from_choice(cls, choice: Choice, client_id: str, client_secret: str) -> TruliooAuth:
        """An auth object for a profile and settings already chosen (``credentials.choose``)."""
        auth = cls(client_id, client_secret, profile=choice.profile)
        auth._choice = choice
        return auth

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set ``Authorization: Bearer …`` and, for a cached token, a hook that answers a 401.

        The request's URL is checked first (https, an allowed host), before any token is had.
        """
        url = request.url or ""
        origin = check_api_url(url, self._choose().settings.api_hosts)
        if origin.scheme == "http":
            _refuse_a_proxy(url, origin.host, self._proxies)
        keeper = self._configure()
        if self._offline:
            request.headers["Authorization"] = f"Bearer {keeper.offline_token()}"
            return request
        token, from_cache = keeper.obtain()
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        if from_cache:
            _buffer_multipart(request)
        hook = _TokenGuard(keeper, origin, token.access_token, request.body, retry=from_cache)
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

    def _choose(self) -> Choice:
        """The profile and the settings, read once: all that checking a URL needs."""
        if self._choice is None:
            environ = os.environ if self._environ is None else self._environ
            given = [name for name in ("client_id", "client_secret") if getattr(self, f"_{name}")]
            self._choice = choose(environ, profile=self._profile, overrides=self._overrides, given=given)
        return self._choice

    def _configure(self) -> _Keeper:
        """The credentials and their token keeper, worked out once (one prompt, whatever the threads)."""
        if self._keeper is None:
            with self._lock:
                if self._keeper is None:
                    credentials = resolve(
                        self._choose(),
                        client_id=self._client_id,
                        client_secret=self._client_secret,
                        prompt=self._secret_prompt,
                    )
                    self._keeper = _Keeper(credentials, self._clock)
        return self._keeper


class _Keeper:
    """Gets tokens for one set of credentials: from the cache, else from the token endpoint.

    Threads of a process queue on a lock, processes on the cache's file lock; each looks at the
    cache again once it is its turn, so that one token request serves them all. Without a cache
    file, the token lives in this object.
    """

    def __init__(self, credentials: Credentials, clock: Callable[[], float]) -> None:
        """Open the cache the settings name (None when it is off or unusable)."""
        settings = credentials.settings
        self.credentials = credentials
        self.context = credentials.context
        self.key = CacheKey.build(
            settings.token_url,
            settings.scope,
            credentials.client_id,
            credentials.client_secret,
            audience=settings.audience,
            resource=settings.resource,
        )
        self.cache = _open_cache(settings)
        self._clock = clock
        self._memory: Token | None = None
        self._lock = threading.Lock()

    def obtain(
        self, *, rejected: str | None = None, min_ttl: float = 0.0, renew: bool = False
    ) -> tuple[Token, bool]:
        """A token to send, and whether it came from the cache; never ``rejected`` from the cache.

        ``renew`` fetches a new one whatever is cached; ``min_ttl`` takes from the cache only a
        token that lives at least that many seconds more.
        """
        cache = self.cache
        if renew:
            log.info("%s getting a new token, as asked", self.context)
        elif rejected is None:
            lookup = cache.load(self.key) if cache else Lookup(self._memory, "none")
            if lookup.token and self._usable(lookup.token, "cache" if cache else "memory", min_ttl):
                return lookup.token, True
            if cache:
                log.info("%s cache miss (%s)", self.context, self._miss(lookup, min_ttl))
        with self._lock, _file_lock(cache, self.key, self.context):
            # Whoever held the lock before us may have fetched a token already: use it.
            kept = None if renew else cache.load(self.key).token if cache else self._memory
            if (
                kept
                and kept.access_token != rejected
                and self._usable(kept, "cache" if cache else "memory", min_ttl)
            ):
                return kept, True
            if cache and rejected is not None:
                cache.discard(self.key, rejected)
            token = self._fetch()
            if not _keepable(token, self.context):
                self._memory = None
            elif cache is None:
                self._memory = token
            else:
                try:
                    cache.store(self.key, token)
                except OSError as exc:
                    log.warning(
                        "%s could not write the token cache in %s (%s); the token is used but not kept.",
                        self.context,
                        cache.folder,
                        exc.strerror or type(exc).__name__,
                    )
            return token, False

    def offline_token(self) -> str:
        """The cached token if it is fresh, else a placeholder: an offline preview asks no server."""
        cached = self.cache.load(self.key).token if self.cache else self._memory
        if cached and self._usable(cached, "offline: cache"):
            return cached.access_token
        log.info("%s offline: no fresh token in the cache; showing a placeholder", self.context)
        return OFFLINE_PLACEHOLDER

    def _usable(self, token: Token, where: str, min_ttl: float = 0.0) -> bool:
        now = self._clock()
        if not token.is_fresh(now, self.credentials.settings.token_buffer):
            return False
        assert token.expires_at is not None  # noqa: S101 - is_fresh() is False without one
        if token.expires_at - now < min_ttl:
            return False
        if log.isEnabledFor(logging.INFO):
            log.info(
                "%s %s hit: token …%s expires in %s",
                self.context,
                where,
                fingerprint(token.access_token),
                _duration(token.expires_at - now),
            )
        return True

    def _miss(self, lookup: Lookup, min_ttl: float) -> str:
        """Why a looked-up token is not used: none, corrupt, ..., or refresh due, expired, too short."""
        token = lookup.token
        if token is None or token.expires_at is None:
            return lookup.reason
        now = self._clock()
        if now >= token.expires_at:
            return "expired"
        if token.is_fresh(now, self.credentials.settings.token_buffer):
            return f"expires in {_duration(token.expires_at - now)}, sooner than the {min_ttl:g} s asked for"
        return "refresh due"

    def _fetch(self) -> Token:
        credentials = self.credentials
        settings = credentials.settings
        started = time.monotonic()
        try:
            token = fetch_token(
                token_url=settings.token_url,
                scope=settings.scope,
                client_id=credentials.client_id,
                client_secret=credentials.client_secret,
                timeout=settings.timeout,
                clock=self._clock,
                auth_method=settings.auth_method,
                audience=settings.audience,
                resource=settings.resource,
            )
        except TokenRequestFailed as exc:
            # The server refused these credentials: say whose they were.
            raise TokenRequestFailed(f"{exc} {self.context}") from None
        log.info(
            "%s token …%s fetched in %d ms%s",
            self.context,
            fingerprint(token.access_token),
            (time.monotonic() - started) * 1000,
            f", expires in {_duration(token.expires_at - token.obtained_at)}" if token.expires_at else "",
        )
        return token


@contextmanager
def _file_lock(cache: TokenCache | None, key: CacheKey, context: str) -> Iterator[None]:
    """Hold the cache's per-key file lock, when there is a cache; go on without it if it is stuck."""
    if cache is None:
        yield
        return
    with cache.lock(key) as waited:
        if waited is None:
            log.warning(
                "%s could not take the token lock in time (another http may be stuck, or the "
                "cache folder refuses the lock file); fetching a token anyway.",
                context,
            )
        else:
            log.debug("%s lock waited %d ms", context, waited * 1000)
        yield


def fingerprint(access_token: str) -> str:
    """Six hex digits that tell tokens apart in logs without revealing them."""
    return hashlib.sha256(access_token.encode()).hexdigest()[-6:]


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if abs(seconds) >= 90 else f"{seconds:.0f} s"


def _keepable(token: Token, context: str) -> bool:
    """Tell whether a new token may be reused; warn once when it may not."""
    if token.expires_at is None:
        log.warning(
            "%s the token endpoint gave no expiry (no ExpiresIn, no JWT exp); the token is used "
            "for this call only.",
            context,
        )
        return False
    if token.expires_at <= token.obtained_at:
        log.warning(
            "%s the token endpoint gave a token that has already expired (ExpiresIn of 0 or less, "
            "or a JWT exp in the past: is this machine's clock right?); it is used once, not cached.",
            context,
        )
        return False
    return True


def _open_cache(settings: Settings) -> TokenCache | None:
    if not settings.cache_enabled:
        return None
    folder = cache_folder(settings.cache_dir)
    problem = prepare_folder(folder)
    if problem:
        log.warning("%s; going on without a token cache.", problem)
        return None
    return TokenCache(folder, lock_timeout=settings.timeout + LOCK_GRACE)


def _refuse_a_proxy(url: str, host: str, given: Mapping[str, str]) -> None:
    """Refuse a plain-http request that a proxy would carry: the token would cross it in clear."""
    from requests.utils import get_environ_proxies, select_proxy  # noqa: PLC0415 - plain http only

    if select_proxy(url, {**get_environ_proxies(url), **given}):
        raise InsecureAPIURL(
            f"refusing to send the Trulioo token over plain http to {host} through a proxy "
            f"(HTTP_PROXY, ALL_PROXY or --proxy): add {host} to NO_PROXY, or use https://."
        )


class _TokenGuard:
    """A response hook that keeps the token at its origin and, for a cached one, answers a 401.

    requests copies hooks and headers onto redirected requests. It drops the token when a
    redirect leaves the host, but not on an http to https upgrade of the same host; so a
    redirect to another origin has the token taken off here first. Only a 401 to the request the
    token was attached to counts: from the same origin, to a request that carried that token; a
    401 from anywhere else must not bring a new one. Then the cached token is replaced once.

    The body is resent whole: bytes as they are (a multipart upload was read into bytes before
    the first send), a file rewound to where it started. A stream that cannot be read twice is
    never resent, so it is never sent empty or cut short; the 401 is shown and the new token is
    kept for the next run.
    """

    def __init__(self, keeper: _Keeper, origin: Origin, sent: str, body: object, *, retry: bool) -> None:
        """Remember where the token went, which it was, where the body starts, and if a 401 is ours."""
        self.keeper = keeper
        self.origin = origin
        self.rejected = sent
        self.body = body
        self.start = _start_of(body)
        self.used = not retry

    def __call__(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """Keep the token home on a redirect; answer the first 401 to it, from its origin."""
        if response.is_redirect:
            self._keep_home(response, response.request)
            return response
        if response.status_code != 401 or self.used or not self._answers_our_request(response):
            return response
        self.used = True
        keeper = self.keeper
        log.info(
            "%s the API answered 401 to token …%s: getting another",
            keeper.context,
            fingerprint(self.rejected),
        )
        access_token = keeper.obtain(rejected=self.rejected)[0].access_token
        request = response.request
        body = self._rewound(request.body)
        if body is _CANNOT_REPLAY:
            log.warning(
                "%s the API answered 401 to the cached token; a new token was fetched, but this "
                "request's body is a stream that cannot be sent twice: run the command again.",
                keeper.context,
            )
            return response
        response.content  # noqa: B018 - drain the first answer so its connection can be reused
        response.close()
        retry = request.copy()
        retry.body = body  # type: ignore[assignment]  # requests accepts any body it prepared
        retry.headers["Authorization"] = f"Bearer {access_token}"
        extract_cookies_to_jar(retry._cookies, request, response.raw)  # type: ignore[attr-defined,no-untyped-call]
        retry.prepare_cookies(retry._cookies)  # type: ignore[attr-defined]
        assert response.connection is not None  # noqa: S101 - requests sets it on every response
        log.info(
            "%s resending %s %s with token …%s",
            keeper.context,
            retry.method,
            retry.url,
            fingerprint(access_token),
        )
        second = response.connection.send(retry, **kwargs)
        second.history.append(response)
        second.request = retry
        # requests builds a redirect from the request it was first given, not from this one.
        request.headers["Authorization"] = retry.headers["Authorization"]
        if second.is_redirect:
            self._keep_home(second, request)
        return second

    def _keep_home(self, response: requests.Response, copied: requests.PreparedRequest) -> None:
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

    def _rewound(self, body: object) -> object:
        if body is None or isinstance(body, (bytes, str)):
            return body
        if body is not self.body or self.start is None:
            return _CANNOT_REPLAY
        stream: Any = body
        try:
            stream.seek(self.start)
        except (OSError, ValueError):
            return _CANNOT_REPLAY
        if "read" in vars(stream):
            # HTTPie wraps a file body's read() to echo what is sent (http -v); the resend reads
            # through the file's own read(), so the body is not shown a second time.
            return _PlainReader(stream)
        return body


_CANNOT_REPLAY = object()


class _PlainReader:
    """A file read through its class's own ``read()``, past any wrapper set on the instance."""

    def __init__(self, stream: Any) -> None:
        """Wrap ``stream``, already rewound."""
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        """Read as the file itself would."""
        data: bytes = type(self._stream).read(self._stream, size)
        return data


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
