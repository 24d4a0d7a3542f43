"""Getting a token: the one path that every caller takes.

Look in the cache; on a miss, read the secret, take the lock, look again, fetch, store. The
plugin's warm call and its miss, the 401 retry, ``--offline``, ``httpie-trulioo token`` and
``status`` all come here. A warm hit stops at the first look, before anything a miss needs is
imported: the secret's sources, the lock, the token request.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .cache import Entry, Lookup, TokenCache, TokenKey, cache_folder, new_entry, prepare_folder
from .credentials import Credentials
from .token import VALID, Token, duration, fingerprint, freshness

log = logging.getLogger("httpie_trulioo")

# A process waits for another's lock at most this long beyond the token request's own timeout:
# a holder cannot legitimately take longer, so past it the holder is wedged and we fetch anyway.
LOCK_GRACE = 2.0
# What an offline preview shows when no fresh token is cached: plainly not a token.
OFFLINE_PLACEHOLDER = "<token-not-fetched-offline>"


class Provider:
    """Gets tokens for one client: from the cache, else from the token endpoint, and keeps them.

    Threads of a process queue on a lock, processes on the cache's file lock; each looks at the
    cache again once it is its turn, so that one token request serves them all. Without a cache
    file, the token lives in this object.
    """

    def __init__(
        self, credentials: Credentials, clock: Callable[[], float] = time.time, *, look_only: bool = False
    ) -> None:
        """Open the cache the settings name (None when it is off or unusable).

        ``look_only``: for a caller that only looks (``status --check``), which creates no folder.
        """
        self.credentials = credentials
        self.context = credentials.context
        self.key = TokenKey.of(credentials.settings)
        self.cache = open_cache(credentials, create=not look_only)
        self._clock = clock
        self._memory: Entry | None = None
        self._lock = threading.Lock()

    def token(
        self, *, rejected: str | None = None, min_ttl: float = 0.0, renew: bool = False
    ) -> tuple[Token, bool]:
        """A token to send, and whether it came from the cache; never ``rejected`` from the cache.

        ``renew`` fetches a new one whatever is cached; ``min_ttl`` takes from the cache only a
        token that lives at least that many seconds more.
        """
        where = "cache" if self.cache else "memory"
        if renew:
            log.info("%s getting a new token, as asked", self.context)
        elif rejected is None:
            cached, why = self.cached(min_ttl)
            if cached is not None and why == VALID:
                self._hit(where, cached)
                return cached, True
            if self.cache:
                log.info("%s cache miss (%s)", self.context, why)
        secret = self.credentials.read_secret()
        with self._lock, _file_lock(self.cache, self.key, self.context):
            # Whoever held the lock before us may have fetched a token already: use it.
            kept, why = (None, "") if renew else self.cached(min_ttl)
            if kept is not None and kept.access_token != rejected and why == VALID:
                self._hit(where, kept)
                return kept, True
            if self.cache and rejected is not None:
                self.cache.discard(self.key, rejected)
            token = self._fetch(secret)
            self._keep(token, secret)
            return token, False

    def cached(self, min_ttl: float = 0.0) -> tuple[Token | None, str]:
        """The first look: the cached token, and ``VALID`` if it may be sent now, else why not.

        Reads no secret that costs something to read, and asks no server.
        """
        lookup = self._look()
        return (lookup.entry.token if lookup.entry else None), self._why_not(lookup, min_ttl)

    def offline_token(self) -> str:
        """The cached token if it may be sent, else a placeholder: an offline preview asks no server."""
        cached, why = self.cached()
        if cached is not None and why == VALID:
            self._hit("offline: cache", cached)
            return cached.access_token
        log.info("%s offline: no fresh token in the cache; showing a placeholder", self.context)
        return OFFLINE_PLACEHOLDER

    def _look(self) -> Lookup:
        return self.cache.load(self.key) if self.cache else Lookup(self._memory, "none")

    def _why_not(self, lookup: Lookup, min_ttl: float = 0.0) -> str:
        """``VALID`` if the entry looked up may be sent now, else why not (the miss's reason).

        When the secret is at hand, the entry must have been fetched with it: a changed secret
        never gets the old token. When it is not (it would have to be read from a command, the
        keyring or a person), the entry is used as it is: it was fetched with a secret that
        worked for this very client and token URL. A caller with no way to give a secret at all
        gets none.
        """
        entry = lookup.entry
        if entry is None:
            return lookup.reason
        secret = self.credentials.secret
        if secret is not None and not entry.fetched_with(secret):
            return "fetched with another secret"
        if secret is None and not self.credentials.can_read_secret():
            return "no secret to fetch a token with"
        return freshness(entry.token, self._clock(), self.credentials.settings.token_buffer, min_ttl)

    def _hit(self, where: str, token: Token) -> None:
        """Log a hit with the token's fingerprint and how long it has left (TRULIOO_LOG=info)."""
        if log.isEnabledFor(logging.INFO):
            left = (token.expires_at or 0.0) - self._clock()
            log.info(
                "%s %s hit: token …%s expires in %s",
                self.context,
                where,
                fingerprint(token.access_token),
                duration(left),
            )

    def _fetch(self, secret: str) -> Token:
        from .endpoint import fetch_token  # noqa: PLC0415 - a cache hit needs none of it
        from .errors import (  # noqa: PLC0415 - likewise
            InvalidTokenResponse,
            TokenEndpointUnreachable,
            TokenRequestFailed,
        )

        settings = self.credentials.settings
        started = time.monotonic()
        try:
            token = fetch_token(settings, secret, self._clock)
        except TokenRequestFailed as exc:
            # The server refused these credentials: say whose they were, and where each was set.
            raise TokenRequestFailed(f"{settings.blame(str(exc))} {self.context}") from None
        except (TokenEndpointUnreachable, InvalidTokenResponse) as exc:
            raise type(exc)(settings.blame(str(exc))) from None
        log.info(
            "%s token …%s fetched in %d ms%s",
            self.context,
            fingerprint(token.access_token),
            (time.monotonic() - started) * 1000,
            f", expires in {duration(token.expires_at - token.obtained_at)}" if token.expires_at else "",
        )
        return token

    def _keep(self, token: Token, secret: str) -> None:
        """Keep a new token for the next call, in the cache or in this object, if it may be reused."""
        if not _keepable(token, self.context):
            self._memory = None
            return
        if self.cache is None:
            self._memory = new_entry(self.key, token, secret)
            return
        try:
            self.cache.store(self.key, token, secret)
        except OSError as exc:
            log.warning(
                "%s could not write the token cache in %s (%s); the token is used but not kept.",
                self.context,
                self.cache.folder,
                exc.strerror or type(exc).__name__,
            )


def open_cache(credentials: Credentials, *, create: bool = True) -> TokenCache | None:
    """The cache the settings name, its folder created if need be; None when it is off or unusable."""
    settings = credentials.settings
    if not settings.cache_enabled:
        return None
    cache = TokenCache(cache_folder(settings), lock_timeout=settings.timeout + LOCK_GRACE)
    if not create and not os.path.lexists(cache.folder):
        return cache  # every look a miss
    problem = prepare_folder(cache.folder)
    if problem:
        log.warning("%s; going on without a token cache.", problem)
        return None
    return cache


@contextmanager
def _file_lock(cache: TokenCache | None, key: TokenKey, context: str) -> Iterator[None]:
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
