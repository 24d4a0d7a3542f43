"""The token cache: one small owner-only JSON file per token identity, replaced atomically.

An entry is named after what the token is for (``TokenKey``: token URL, scope, client id,
audience, resource), never after the secret, so that a call can find its token without reading
the secret. The entry records a salted one-way check of the secret that fetched it, which a
caller that holds the secret compares.

A miss is reported, never raised: a file that is missing, corrupt, of another format (an
older release's too), a symlink, or open to others is simply not used, and the next good token
replaces it. Writes go to a temporary file in the same folder, then ``os.replace``.

Whether a file is trusted is what differs between POSIX and Windows; each function picks its
way by what the ``os`` module offers (``os.getuid``, ``os.O_NOFOLLOW``), not by the platform's
name, so the Windows ways run, and are tested, on POSIX too. On Windows a file's mode bits and
``st_uid`` say nothing about who may read it: the access control list (ACL) does. The default
cache folder is in the user's own profile (``%LOCALAPPDATA%``), whose inherited ACL admits only
that user, SYSTEM and the administrators, so there the folder's place is what keeps the cache
private, and the mode and owner checks are skipped.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import re
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .settings import user_folder
from .token import MAX_LIFETIME, Token, is_token_text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a call milliseconds
if TYPE_CHECKING:
    from typing import TypeGuard

    from .settings import Settings

# The format this release writes; a file of any other (the earlier "version": 1, named
# after the secret) is a miss, never misread.
CACHE_VERSION = 2
_GROUP_OR_OTHERS = 0o077  # permission bits that must be clear on our files and folder
# Any later time in a cache file is not one this package wrote (tokens live a day at most), and
# would not fit in a date to show.
LATEST_TIME = 95_617_584_000.0  # 5000-01-01
# A cache entry is a few hundred bytes plus the token (at most 16 KiB); anything larger is not
# one of ours and is not read whole.
MAX_FILE_SIZE = 64 * 1024
_HEX = frozenset("0123456789abcdef")
_ENTRY_START = b'{"version": '  # how every file ``store`` writes begins, in any release


class TokenKey:
    """What a cached token is for, and so whose file holds it; the secret is never part of it.

    Plain classes here rather than NamedTuples, whose making costs a warm call more than its work.
    """

    __slots__ = FIELDS = ("token_url", "scope", "client_id", "audience", "resource")

    def __init__(
        self, token_url: str, scope: str, client_id: str, audience: str = "", resource: str = ""
    ) -> None:
        """Keep the fields; ``of`` builds the key of a call."""
        self.token_url = token_url
        self.scope = scope
        self.client_id = client_id
        self.audience = audience
        self.resource = resource

    @classmethod
    def of(cls, settings: Settings) -> TokenKey:
        """The key of the token these settings ask for; their client id must be known."""
        assert settings.client_id is not None  # noqa: S101 - the credentials step makes sure of it
        return cls(
            settings.token_url, settings.scope, settings.client_id, settings.audience, settings.resource
        )

    def fields(self) -> tuple[str, str, str, str, str]:
        """The fields, in ``FIELDS`` order."""
        return (self.token_url, self.scope, self.client_id, self.audience, self.resource)

    def __eq__(self, other: object) -> bool:
        """Equal to a key with the same fields."""
        return isinstance(other, TokenKey) and self.fields() == other.fields()

    def __hash__(self) -> int:
        """Hashed by its fields."""
        return hash(self.fields())

    def __repr__(self) -> str:
        """The fields, as keywords."""
        return (
            "TokenKey("
            + ", ".join(f"{name}={value!r}" for name, value in zip(self.FIELDS, self.fields(), strict=True))
            + ")"
        )

    @property
    def digest(self) -> str:
        """The hex digest that names the entry's file: every field, so no two keys share a file."""
        return hashlib.sha256("\0".join(("httpie-trulioo v2", *self.fields())).encode()).hexdigest()


class Entry:
    """A cache file's content: the key it repeats, the token, and the check of the secret that got it."""

    __slots__ = ("key", "secret_check", "secret_salt", "token")

    def __init__(self, key: TokenKey, token: Token, secret_salt: str, secret_check: str) -> None:
        """Keep the fields; ``new_entry`` makes the check of a secret."""
        self.key = key
        self.token = token
        self.secret_salt = secret_salt
        self.secret_check = secret_check

    def fetched_with(self, secret: str) -> bool:
        """Tell whether ``secret`` is the one that fetched this token (compared in constant time)."""
        return hmac.compare_digest(self.secret_check, secret_check(self.secret_salt, secret))


class Lookup:
    """A cache entry, or None with the reason it is missing (none, corrupt, insecure, unreadable)."""

    __slots__ = ("entry", "reason")

    def __init__(self, entry: Entry | None, reason: str = "") -> None:
        """Keep the entry, or why there is none."""
        self.entry = entry
        self.reason = reason


def secret_check(salt: str, secret: str) -> str:
    """A salted one-way check of ``secret``: it tells a secret apart without revealing it.

    One SHA-256 rather than a slow password hash: a client secret is a long random string that
    the server issued, not a password a person chose, and a warm call compares it every time.
    """
    data = b"httpie-trulioo secret check\0" + salt.encode() + b"\0" + secret.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def new_entry(key: TokenKey, token: Token, secret: str) -> Entry:
    """The entry for a token just fetched with ``secret``, with a new salt for its check."""
    salt = os.urandom(16).hex()
    return Entry(key, token, salt, secret_check(salt, secret))


def cache_folder(settings: Settings) -> str:
    """The folder the settings name (TRULIOO_CACHE_DIR), else the user cache folder."""
    return settings.cache_dir or user_folder("cache")


def prepare_folder(folder: str) -> str:
    """Create ``folder`` owner-only if needed; return why it cannot be used, or "" if it can."""
    if not folder_problem(folder):
        return ""  # a warm call: one stat
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError as exc:
        return f"cannot create the cache folder {folder} ({exc.strerror or type(exc).__name__})"
    return folder_problem(folder)


def folder_problem(folder: str) -> str:
    """Why ``folder`` cannot be trusted with tokens, or "" if it can; creates nothing."""
    if not os.path.isabs(folder):
        return f"the cache folder {folder} is not an absolute path"
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

    def path(self, key: TokenKey) -> str:
        """The file that holds the entry for ``key``."""
        return os.path.join(self.folder, key.digest + ".json")

    def load(self, key: TokenKey) -> Lookup:
        """Read the entry for ``key``; any problem is a miss with a reason, never an exception.

        A file's name is not enough: an entry whose fields are not ``key``'s is "corrupt".
        """
        found = read_entry(self.path(key))
        if found.entry is not None and found.entry.key != key:
            return Lookup(None, "corrupt")
        return found

    def entries(self) -> list[tuple[str, Entry]]:
        """The cache files in the folder that reading would trust, with their entries.

        A file that another user owns, that others can read, that is not a regular file or that
        does not decode as an entry of this format is not one of ours: it is neither listed nor removed.
        """
        found = []
        for name in self._names(".json"):
            if len(name) == 69 and _HEX.issuperset(name[:64]):
                path = os.path.join(self.folder, name)
                entry = read_entry(path).entry
                if entry is not None:
                    found.append((path, entry))
        return found

    def leftovers(self) -> list[str]:
        """Files of ours that no call reads: killed writers' temp files, entries of an earlier format.

        Entries cut short count too. Each must be owner-only and begin as ``store`` writes (in any
        release); a file of such a name that does not is not one of ours.
        """
        found = []
        for name in self._names(".json"):
            temporary = re.fullmatch(r"\.tmp-\w+\.json", name) is not None
            if temporary or re.fullmatch(r"[0-9a-f]{64}\.json", name):
                path = os.path.join(self.folder, name)
                data, _ = read_private_file(path)
                ours = data is not None and data.startswith(_ENTRY_START)
                if ours and (temporary or decode_entry(data or b"") is None):
                    found.append(path)
        return found

    def _names(self, suffix: str) -> list[str]:
        try:
            return sorted(name for name in os.listdir(self.folder) if name.endswith(suffix))
        except OSError:
            return []

    def store(self, key: TokenKey, token: Token, secret: str) -> None:
        """Write the entry for a token fetched with ``secret`` atomically (temp file, fsync, rename).

        OSError if the disk refuses.
        """
        import tempfile  # noqa: PLC0415 - a warm call only reads

        entry = new_entry(key, token, secret)
        fields = {
            "version": CACHE_VERSION,
            "token": token.access_token,
            "expires_at": token.expires_at,
            "obtained_at": token.obtained_at,
            "granted_scope": token.scope,
            **dict(zip(TokenKey.FIELDS, key.fields(), strict=True)),
            "secret_salt": entry.secret_salt,
            "secret_check": entry.secret_check,
        }
        fd, temp_path = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(fields).encode())
                handle.flush()
                os.fsync(handle.fileno())
            # rename() replaces a symlink standing at the path; it never writes through it.
            os.replace(temp_path, self.path(key))
        except BaseException:
            _remove(temp_path)
            raise

    def discard(self, key: TokenKey, access_token: str) -> bool:
        """Remove the entry if it still holds ``access_token``; another process may have replaced it."""
        current = self.load(key).entry
        if current is None or current.token.access_token != access_token:
            return False
        return _remove(self.path(key))

    @contextmanager
    def lock(self, key: TokenKey) -> Iterator[float | None]:
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


def read_entry(path: str) -> Lookup:
    """The entry in the file at ``path``, checked; else None and why not (none, corrupt, ...).

    A file that is missing, a symlink, not a regular file, another user's, open to others, too
    large, or not an entry of this format with every field of the right type is not trusted.
    """
    data, reason = read_private_file(path)
    if data is None:
        return Lookup(None, reason)
    entry = decode_entry(data)
    return Lookup(entry) if entry is not None else Lookup(None, "corrupt")


def decode_entry(data: bytes) -> Entry | None:
    """The entry a cache file holds, each field of the right type; None if it is not one of this format."""
    if len(data) > MAX_FILE_SIZE:
        return None
    try:
        fields = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(fields, dict) or fields.get("version") != CACHE_VERSION:
        return None
    key = [fields.get(name) for name in TokenKey.FIELDS]
    access_token, obtained_at, expires_at = (
        fields.get("token"),
        fields.get("obtained_at"),
        fields.get("expires_at"),
    )
    salt, check = fields.get("secret_salt"), fields.get("secret_check")
    granted = fields.get("granted_scope")
    if not (
        is_token_text(access_token)
        and _is_time(obtained_at)
        and _is_time(expires_at)
        and expires_at - obtained_at <= MAX_LIFETIME  # no token this package fetched lives longer
        and _all_text(key)
        and _is_hex(salt)
        and _is_hex(check)
    ):
        return None
    token = Token(access_token, obtained_at, expires_at, granted if isinstance(granted, str) else None)
    return Entry(TokenKey(*key), token, salt, check)


def _is_time(value: object) -> TypeGuard[float]:
    """A POSIX time this package could have written: a number from 1970 to before the year 5000."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < LATEST_TIME


def _all_text(values: list[object]) -> TypeGuard[list[str]]:
    return all(isinstance(value, str) for value in values)


def _is_hex(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= 64 and _HEX.issuperset(value)


def read_private_file(path: str) -> tuple[bytes | None, str]:
    """The bytes of an owner-only regular file, never through a symlink; else None and why."""
    try:
        fd = open_for_reading(path)
    except FileNotFoundError:
        return None, "none"
    except OSError:
        return None, "unreadable"  # a symlink (ELOOP), or no permission
    try:
        info = os.fstat(fd)
        if not (
            stat.S_ISREG(info.st_mode)
            and not is_link(info)
            and owned_by_me(info)
            and not open_to_others(info)
        ):
            return None, "insecure"
        return os.read(fd, MAX_FILE_SIZE + 1), ""
    except OSError:
        return None, "unreadable"
    finally:
        os.close(fd)


def owned_by_me(info: os.stat_result) -> bool:
    """Tell whether this user owns the file or folder; always so where there are no user ids."""
    getuid = getattr(os, "getuid", None)
    return getuid is None or info.st_uid == getuid()


def open_to_others(info: os.stat_result) -> bool:
    """Tell whether the mode bits let the group or others in; never so without POSIX modes."""
    if not hasattr(os, "getuid"):
        return False  # Windows: the folder's ACL decides, and the mode bits do not show it
    return bool(info.st_mode & _GROUP_OR_OTHERS)


def is_link(info: os.stat_result) -> bool:
    """Tell whether ``os.lstat`` found a symlink, or on Windows any reparse point (a junction too)."""
    attributes = getattr(info, "st_file_attributes", 0)
    return stat.S_ISLNK(info.st_mode) or bool(attributes & stat.FILE_ATTRIBUTE_REPARSE_POINT)


def open_for_reading(path: str) -> int:
    """Open ``path`` read-only without following a symlink; ``OSError`` (ELOOP) if it is one.

    Where the kernel has no O_NOFOLLOW (Windows), the path is looked at first with ``lstat``,
    then opened, and what was opened must be the very file looked at: one swapped for a link in
    between is refused too.
    """
    # Raw bytes (O_BINARY: no newline translation on Windows), and no wait on a FIFO planted at
    # the path (O_NONBLOCK, POSIX only). Python makes every descriptor non-inheritable already.
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    nofollow = getattr(os, "O_NOFOLLOW", None)
    if nofollow is not None:
        return os.open(path, flags | nofollow)
    before = os.lstat(path)
    if is_link(before):
        raise OSError(errno.ELOOP, "a symlink or reparse point, not followed", path)
    fd = os.open(path, flags)
    try:
        after = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        raise OSError(errno.ELOOP, "replaced while it was opened, not followed", path)
    return fd


def _remove(path: str) -> bool:
    try:
        os.unlink(path)
    except OSError:
        return False
    return True
