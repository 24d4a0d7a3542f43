"""The token cache: one small JSON file per credential set, owner-only, replaced atomically.

A miss is reported, never raised: a cache file that is missing, corrupt, of another shape, a
symlink, or readable by others is simply not used, and the next good token replaces it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple, TypeGuard

from ._platform import is_link, open_for_reading, open_to_others, owned_by_me
from .token import Token, is_token_text

CACHE_VERSION = 1
# Any later time in a cache file is not one this package wrote (tokens live a day at most), and
# would not fit in a date to show.
LATEST_TIME = 95_617_584_000.0  # 5000-01-01
# A cache entry is a few hundred bytes plus the token (at most 16 KiB); anything larger is not
# one of ours and is not read whole.
MAX_FILE_SIZE = 64 * 1024
_ENTRY_NAME = re.compile(r"^[0-9a-f]{64}\.json$")
_LEFTOVER_NAME = re.compile(r"^\.tmp-\w+\.json$")  # a temp file whose writer was killed
_ENTRY_START = b'{"version": %d, ' % CACHE_VERSION  # how every file ``store`` writes begins


class CacheKey(NamedTuple):
    """What a cached token belongs to: the non-secret fields, and a file name that hides the secret.

    The audience and the resource are in it, since a token is issued for them. The client
    authentication method is not: the server gives the same client the same kind of token,
    however it proved who it is.
    """

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
        """Hash the fields and a hash of the secret, so a wrong secret never matches an entry."""
        secret_hash = hashlib.sha256(b"httpie-trulioo secret\0" + client_secret.encode()).hexdigest()
        fields = ["httpie-trulioo v1", token_url, scope, client_id, secret_hash]
        if audience or resource:
            # Only then: a key without them names the same file as before they existed.
            fields += ["audience", audience, "resource", resource]
        digest = hashlib.sha256("\0".join(fields).encode()).hexdigest()
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


def cache_folder(configured: str | None) -> str:
    """The folder configured (TRULIOO_CACHE_DIR), else the platformdirs user cache folder."""
    if configured:
        return configured
    import platformdirs  # noqa: PLC0415 - only needed when the cache is used

    return platformdirs.user_cache_dir("httpie-trulioo", appauthor=False)


def prepare_folder(folder: str) -> str:
    """Create ``folder`` owner-only if needed; return why it cannot be used, or "" if it can."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError as exc:
        return f"cannot create the cache folder {folder} ({exc.strerror or type(exc).__name__})"
    return folder_problem(folder)


def folder_problem(folder: str) -> str:
    """Why an existing ``folder`` cannot be trusted with tokens, or "" if it can; creates nothing."""
    try:
        info = os.stat(folder)
    except OSError as exc:
        return f"cannot use the cache folder {folder} ({exc.strerror or type(exc).__name__})"
    if not stat.S_ISDIR(info.st_mode):
        return f"the cache folder {folder} is not a folder"
    if not owned_by_me(info):
        return f"the cache folder {folder} belongs to another user"
    if open_to_others(info):
        return f"the cache folder {folder} is open to other users (run: chmod 700 '{folder}')"
    return ""


class TokenCache:
    """Reads, writes and locks cache entries in one folder that ``prepare_folder`` accepted."""

    def __init__(self, folder: str, lock_timeout: float) -> None:
        """Use ``folder``; wait at most ``lock_timeout`` seconds for another process's lock."""
        self.folder = folder
        self.lock_timeout = lock_timeout

    def path(self, key: CacheKey) -> str:
        """The file that holds the entry for ``key``."""
        return os.path.join(self.folder, key.digest + ".json")

    def load(self, key: CacheKey) -> Lookup:
        """Read the entry for ``key``; any problem is a miss with a reason, never an exception."""
        data, reason = _read_private_file(self.path(key))
        if data is None:
            return Lookup(None, reason)
        entry = _decode_entry(data)
        if entry is None or (
            entry.token_url,
            entry.scope,
            entry.client_id,
            entry.audience,
            entry.resource,
        ) != (key.token_url, key.scope, key.client_id, key.audience, key.resource):
            return Lookup(None, "corrupt")
        return Lookup(entry.token)

    def entries(self) -> list[tuple[str, Entry]]:
        """The cache files in the folder that reading would trust, with their entries.

        A file that another user owns, that others can read, that is not a regular file or that
        does not decode as an entry is not one of ours: it is neither listed nor removed.
        """
        found = []
        for name in self._names(_ENTRY_NAME):
            path = os.path.join(self.folder, name)
            data, _ = _read_private_file(path)
            entry = _decode_entry(data) if data is not None else None
            if entry is not None:
                found.append((path, entry))
        return found

    def leftovers(self) -> list[str]:
        """Temp files that writers killed mid-write left behind: owner-only, and begun as an entry.

        A file of that name that does not start the way ``store`` writes is not one of ours.
        """
        found = []
        for name in self._names(_LEFTOVER_NAME):
            path = os.path.join(self.folder, name)
            data, _ = _read_private_file(path)
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


def _read_private_file(path: str) -> tuple[bytes | None, str]:
    """The bytes of an owner-only regular file, never through a symlink; else None and why."""
    try:
        fd = open_for_reading(path)
    except FileNotFoundError:
        return None, "none"
    except OSError:
        return None, "unreadable"  # a symlink (ELOOP), or no permission
    try:
        if not _is_private_file(os.fstat(fd)):
            return None, "insecure"
        return os.read(fd, MAX_FILE_SIZE + 1), ""
    except OSError:
        return None, "unreadable"
    finally:
        os.close(fd)


def _is_private_file(info: os.stat_result) -> bool:
    """A regular file (not a link, FIFO or device) of this user that no one else may read or write."""
    return stat.S_ISREG(info.st_mode) and not is_link(info) and owned_by_me(info) and not open_to_others(info)


def _decode_entry(data: bytes) -> Entry | None:
    if len(data) > MAX_FILE_SIZE:
        return None
    try:
        entry = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or entry.get("version") != CACHE_VERSION:
        return None
    access_token = entry.get("token")
    expires_at = entry.get("expires_at")
    obtained_at = entry.get("obtained_at")
    # granted_scope, audience and resource came later: a file without them is still read.
    granted_scope = entry.get("granted_scope")
    token_url, scope, client_id = entry.get("token_url"), entry.get("scope"), entry.get("client_id")
    audience, resource = entry.get("audience", ""), entry.get("resource", "")
    if not (_is_time(expires_at) and _is_time(obtained_at) and is_token_text(access_token)):
        return None
    if not (
        isinstance(token_url, str)
        and isinstance(scope, str)
        and isinstance(client_id, str)
        and isinstance(audience, str)
        and isinstance(resource, str)
    ):
        return None
    token = Token(
        access_token,
        obtained_at,
        expires_at,
        scope=granted_scope if isinstance(granted_scope, str) else None,
    )
    return Entry(token_url, scope, client_id, token, audience, resource)


def _is_time(value: object) -> TypeGuard[float]:
    """A POSIX time this package could have written: a number from 1970 to before the year 5000."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < LATEST_TIME


def _remove(path: str) -> bool:
    try:
        os.unlink(path)
    except OSError:
        return False
    return True
