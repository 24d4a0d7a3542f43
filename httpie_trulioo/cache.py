"""The token cache: one small JSON file per credential set, owner-only, replaced atomically.

A miss is reported, never raised: a cache file that is missing, corrupt, of another shape, a
symlink, or readable by others is simply not used, and the next good token replaces it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from .entries import (
    CACHE_VERSION,
    entry_name,
    entry_path,
    folder_problem,
    load_entry,
    read_entry,
    read_private_file,
)
from .token import Token

_ENTRY_NAME = re.compile(r"^[0-9a-f]{64}\.json$")
_LEFTOVER_NAME = re.compile(r"^\.tmp-\w+\.json$")  # a temp file whose writer was killed
_ENTRY_START = b'{"version": %d, ' % CACHE_VERSION  # how every file ``store`` writes begins


class CacheKey(NamedTuple):
    """What a cached token belongs to: the non-secret fields, and a file name that hides the secret."""

    token_url: str
    scope: str
    client_id: str
    digest: str
    audience: str = ""
    resource: str = ""

    @classmethod
    def build(
        cls,
        token_url: str,
        scope: str,
        client_id: str,
        client_secret: str,
        *,
        audience: str = "",
        resource: str = "",
    ) -> CacheKey:
        """Name the entry after the fields and a hash of the secret (``entries.entry_name``)."""
        digest = entry_name(token_url, scope, client_id, client_secret, audience=audience, resource=resource)
        return cls(token_url, scope, client_id, digest, audience, resource)


class Entry(NamedTuple):
    """A cache file's content: the non-secret key fields and the token (with the scope granted)."""

    token_url: str
    scope: str
    client_id: str
    token: Token
    audience: str = ""
    resource: str = ""


class Lookup(NamedTuple):
    """A cached token, or None with the reason it is missing (none, corrupt, insecure, unreadable)."""

    token: Token | None
    reason: str = ""


def prepare_folder(folder: str) -> str:
    """Create ``folder`` owner-only if needed; return why it cannot be used, or "" if it can."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError as exc:
        return f"cannot create the cache folder {folder} ({exc.strerror or type(exc).__name__})"
    return folder_problem(folder)


class TokenCache:
    """Reads, writes and locks cache entries in one folder that ``prepare_folder`` accepted."""

    def __init__(self, folder: str, lock_timeout: float) -> None:
        """Use ``folder``; wait at most ``lock_timeout`` seconds for another process's lock."""
        self.folder = folder
        self.lock_timeout = lock_timeout

    def path(self, key: CacheKey) -> str:
        """The file that holds the entry for ``key``."""
        return entry_path(self.folder, key.digest)

    def load(self, key: CacheKey) -> Lookup:
        """Read the entry for ``key``; any problem is a miss with a reason, never an exception."""
        fields = (key.token_url, key.scope, key.client_id, key.audience, key.resource)
        entry, reason = load_entry(self.folder, key.digest, *fields)
        return Lookup(_entry_of(entry).token) if entry is not None else Lookup(None, reason)

    def entries(self) -> list[tuple[str, Entry]]:
        """The cache files in the folder that reading would trust, with their entries.

        A file that another user owns, that others can read, that is not a regular file or that
        does not decode as an entry is not one of ours: it is neither listed nor removed.
        """
        found = []
        for name in self._names(_ENTRY_NAME):
            path = os.path.join(self.folder, name)
            entry, _ = read_entry(path)
            if entry is not None:
                found.append((path, _entry_of(entry)))
        return found

    def leftovers(self) -> list[str]:
        """Temp files that writers killed mid-write left behind: owner-only, and begun as an entry.

        A file of that name that does not start the way ``store`` writes is not one of ours.
        """
        found = []
        for name in self._names(_LEFTOVER_NAME):
            path = os.path.join(self.folder, name)
            data, _ = read_private_file(path)
            if data is not None and data.startswith(_ENTRY_START):
                found.append(path)
        return found

    def _names(self, pattern: re.Pattern[str]) -> list[str]:
        try:
            return sorted(name for name in os.listdir(self.folder) if pattern.match(name))
        except OSError:
            return []

    def store(self, key: CacheKey, token: Token) -> None:
        """Write the entry atomically (temp file, fsync, rename); OSError if the disk refuses."""
        entry = {
            "version": CACHE_VERSION,
            "token": token.access_token,
            "expires_at": token.expires_at,
            "obtained_at": token.obtained_at,
            "token_url": key.token_url,
            "scope": key.scope,
            "client_id": key.client_id,
            "granted_scope": token.scope,
            "audience": key.audience,
            "resource": key.resource,
        }
        fd, temp_path = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(entry).encode())
                handle.flush()
                os.fsync(handle.fileno())
            # rename() replaces a symlink standing at the path; it never writes through it.
            os.replace(temp_path, self.path(key))
        except BaseException:
            _remove(temp_path)
            raise

    def discard(self, key: CacheKey, access_token: str) -> bool:
        """Remove the entry if it still holds ``access_token``; another process may have replaced it."""
        current = self.load(key).token
        if current is None or current.access_token != access_token:
            return False
        return _remove(self.path(key))

    @contextmanager
    def lock(self, key: CacheKey) -> Iterator[float | None]:
        """Hold the per-key lock; yields the seconds waited, or None if it was not had in time.

        A caller that gets None goes on without the lock: a wedged holder must not stop it.

        The lock is an OS file lock, so the kernel releases it when its holder dies, even by
        SIGKILL: a killed process never blocks the others.
        """
        from filelock import FileLock, Timeout  # noqa: PLC0415 - only a cache miss needs it

        lock = FileLock(
            os.path.join(self.folder, key.digest + ".lock"), timeout=self.lock_timeout, mode=0o600
        )
        started = time.monotonic()
        try:
            lock.acquire()
        except (Timeout, OSError):
            yield None
            return
        try:
            yield time.monotonic() - started
        finally:
            lock.release()


def _entry_of(fields: dict[str, Any]) -> Entry:
    """An ``Entry`` of the fields that ``entries.read_entry`` checked."""
    token = Token(fields["token"], fields["obtained_at"], fields["expires_at"], scope=fields["granted_scope"])
    return Entry(
        fields["token_url"],
        fields["scope"],
        fields["client_id"],
        token,
        fields["audience"],
        fields["resource"],
    )


def _remove(path: str) -> bool:
    try:
        os.unlink(path)
    except OSError:
        return False
    return True
