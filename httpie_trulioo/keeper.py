"""Getting a token when the cache has no fresh one: the keeper of one client's tokens.

``auth`` loads this module only when a call needs more than a fresh cached token: a miss, a
401, ``--offline``, or the ``httpie-trulioo`` command.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import requests
from requests.cookies import extract_cookies_to_jar

from .auth import OFFLINE_PLACEHOLDER, describe_hit, duration, fingerprint
from .cache import CacheKey, Lookup, TokenCache, prepare_folder
from .credentials import Credentials
from .entries import cache_folder
from .errors import TokenRequestFailed
from .settings import Settings
from .token import Token

if TYPE_CHECKING:
    from .auth import _TokenGuard

log = logging.getLogger("httpie_trulioo")

# A process waits for another's lock at most this long beyond the token request's own timeout:
# a holder cannot legitimately take longer, so past it the holder is wedged and we fetch anyway.
LOCK_GRACE = 2.0


class Keeper:
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
        describe_hit(self.context, where, token.access_token, token.expires_at - now)
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
            return f"expires in {duration(token.expires_at - now)}, sooner than the {min_ttl:g} s asked for"
        return "refresh due"

    def _fetch(self) -> Token:
        from .endpoint import fetch_token  # noqa: PLC0415 - a cache hit needs none of it

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
            f", expires in {duration(token.expires_at - token.obtained_at)}" if token.expires_at else "",
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


def answer_401(guard: _TokenGuard, response: requests.Response, kwargs: dict[str, Any]) -> requests.Response:
    """Replace the token the API refused, once, and send the request again with the new one.

    The body is resent whole: bytes as they are (a multipart upload was read into bytes before
    the first send), a file rewound to where it started. A stream that cannot be read twice is
    never resent, so it is never sent empty or cut short; the 401 is shown and the new token is
    kept for the next run.
    """
    keeper = guard.auth._configure()
    log.info(
        "%s the API answered 401 to token …%s: getting another",
        keeper.context,
        fingerprint(guard.rejected),
    )
    access_token = keeper.obtain(rejected=guard.rejected)[0].access_token
    request = response.request
    body = _rewound(guard, request.body)
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
        guard.keep_home(second, request)
    return second


def _rewound(guard: _TokenGuard, body: object) -> object:
    """The body to send again, rewound to where it started; _CANNOT_REPLAY when it cannot be."""
    if body is None or isinstance(body, (bytes, str)):
        return body
    if body is not guard.body or guard.start is None:
        return _CANNOT_REPLAY
    stream: Any = body
    try:
        stream.seek(guard.start)
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
