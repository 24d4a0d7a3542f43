"""Cache entries as every call reads them: where they are, which one is whose, when one is trusted and fresh.

Most ``http`` calls find a fresh token in the cache, and HTTPie starts a new process for each:
so this is all of the cache that such a call loads, with no class to build and no pattern to
compile. ``cache`` writes, locks and lists the same entries, with the same rules, from here.

Whether a file is trusted is what differs here between POSIX and Windows; each function picks
its way by what the ``os`` module offers (``os.getuid``, ``os.O_NOFOLLOW``), not by the
platform's name, so the Windows ways run, and are tested, on POSIX too.

On Windows a file's mode bits and ``st_uid`` say nothing about who may read it: the access
control list (ACL) does. The default cache folder is in the user's own profile
(``%LOCALAPPDATA%``), whose inherited ACL admits only that user, SYSTEM and the administrators,
so there the folder's place is what keeps the cache private, and the mode and owner checks are
skipped.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import sys
from collections.abc import Mapping
from typing import Any, TypeGuard

_GROUP_OR_OTHERS = 0o077  # permission bits that must be clear on our files and folder
CACHE_VERSION = 1
APP_NAME = "httpie-trulioo"  # this package's folder's name in the user cache and config folders
# A lifetime the server claims beyond a day is taken as a day, so that a wrong or hostile
# ExpiresIn cannot pin one token in the cache for ever; a revoked token is still caught by the
# 401 retry.
MAX_LIFETIME = 86_400.0
# Any later time in a cache file is not one this package wrote (tokens live a day at most), and
# would not fit in a date to show.
LATEST_TIME = 95_617_584_000.0  # 5000-01-01
# Longer than any real bearer token (JWTs with many claims stay well under 4 KiB) and short
# enough to keep a broken answer out of the Authorization header.
MAX_TOKEN_LENGTH = 16_384
# A cache entry is a few hundred bytes plus the token (at most 16 KiB); anything larger is not
# one of ours and is not read whole.
MAX_FILE_SIZE = 64 * 1024
# The fields of an entry that say whose token it is; none of them is secret.
KEY_FIELDS = ("token_url", "scope", "client_id", "audience", "resource")


def entry_name(
    token_url: str, scope: str, client_id: str, client_secret: str, *, audience: str = "", resource: str = ""
) -> str:
    """The hex digest that names an entry: the key fields and a hash of the secret, never the secret.

    A wrong secret never matches an entry. The audience and the resource are in it, since a
    token is issued for them; the client authentication method is not, since the server gives
    the same client the same kind of token, however it proved who it is.
    """
    secret_hash = hashlib.sha256(b"httpie-trulioo secret\0" + client_secret.encode()).hexdigest()
    fields = ["httpie-trulioo v1", token_url, scope, client_id, secret_hash]
    if audience or resource:
        # Only then: a key without them names the same file as before they existed.
        fields += ["audience", audience, "resource", resource]
    return hashlib.sha256("\0".join(fields).encode()).hexdigest()


def cache_folder(configured: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The folder configured (TRULIOO_CACHE_DIR), else the platformdirs user cache folder.

    On Linux that is worked out here (``xdg_folder``): importing platformdirs would cost a warm
    call more than all its other work.
    """
    if configured:
        return configured
    folder = xdg_folder("XDG_CACHE_HOME", ".cache", environ)
    if folder is not None:
        return folder
    import platformdirs  # noqa: PLC0415 - only where xdg_folder cannot say

    return platformdirs.user_cache_dir(APP_NAME, appauthor=False)


def xdg_folder(variable: str, in_home: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """The package's folder under ``$variable``, else ``$HOME/in_home``, as platformdirs has it on Linux.

    ``XDG_CACHE_HOME`` and ``.cache`` give ``$XDG_CACHE_HOME/httpie-trulioo``, or
    ``$HOME/.cache/httpie-trulioo`` when the variable is unset or not an absolute path (the XDG
    base directory rule). None elsewhere, or when HOME is unset, empty or relative: then
    platformdirs says.
    """
    if sys.platform != "linux" or _maybe_android(environ):
        return None
    xdg, home = environ.get(variable, ""), environ.get("HOME", "")
    if os.path.isabs(xdg):
        return os.path.join(xdg, APP_NAME)
    if os.path.isabs(home):
        return os.path.join(home, in_home, APP_NAME)
    return None


def _maybe_android(environ: Mapping[str, str]) -> bool:
    """Tell whether this may be Android, where platformdirs picks an app folder instead."""
    return hasattr(sys, "getandroidapilevel") or "ANDROID_DATA" in environ or "ANDROID_ROOT" in environ


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


def read_entry(path: str) -> tuple[dict[str, Any] | None, str]:
    """The entry in the file at ``path``, checked; else None and why not (none, corrupt, ...).

    A file that is missing, a symlink, not a regular file, another user's, open to others, too
    large, or not an entry of this version with every field of the right type is not trusted.
    """
    data, reason = read_private_file(path)
    if data is None:
        return None, reason
    entry = decode_entry(data)
    return (entry, "") if entry is not None else (None, "corrupt")


def entry_path(folder: str, name: str) -> str:
    """The file in ``folder`` that holds the entry named ``name`` (``entry_name``)."""
    return os.path.join(folder, name + ".json")


def load_entry(folder: str, name: str, *key: str) -> tuple[dict[str, Any] | None, str]:
    """The entry named ``name``, if it holds these key fields (KEY_FIELDS order); else None and why.

    A file's name is not enough: an entry for other fields is "corrupt".
    """
    entry, reason = read_entry(entry_path(folder, name))
    if entry is not None and tuple(entry[field] for field in KEY_FIELDS) != key:
        return None, "corrupt"
    return entry, reason


def read_private_file(path: str) -> tuple[bytes | None, str]:
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


def decode_entry(data: bytes) -> dict[str, Any] | None:
    """The fields of a cache file, each of the right type; None if it is not an entry of this version.

    ``granted_scope``, ``audience`` and ``resource`` came later: a file without them is still read.
    """
    if len(data) > MAX_FILE_SIZE:
        return None
    try:
        entry = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or entry.get("version") != CACHE_VERSION:
        return None
    granted_scope = entry.get("granted_scope")
    fields = {
        "token": entry.get("token"),
        "obtained_at": entry.get("obtained_at"),
        "expires_at": entry.get("expires_at"),
        "granted_scope": granted_scope if isinstance(granted_scope, str) else None,
        "token_url": entry.get("token_url"),
        "scope": entry.get("scope"),
        "client_id": entry.get("client_id"),
        "audience": entry.get("audience", ""),
        "resource": entry.get("resource", ""),
    }
    if not (
        _is_time(fields["expires_at"]) and _is_time(fields["obtained_at"]) and is_token_text(fields["token"])
    ):
        return None
    if not all(isinstance(fields[name], str) for name in KEY_FIELDS):
        return None
    return fields


def is_token_text(value: object) -> TypeGuard[str]:
    """Tell whether ``value`` can go in an Authorization header: visible ASCII, not too long."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_TOKEN_LENGTH
        and value.isascii()
        and value.isprintable()  # in ASCII: space to ~
        and " " not in value
    )


def _is_time(value: object) -> TypeGuard[float]:
    """A POSIX time this package could have written: a number from 1970 to before the year 5000."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < LATEST_TIME


def refresh_margin(expires_at: float, obtained_at: float, token_buffer: float) -> float:
    """Seconds before expiry at which a token stops being reused.

    The buffer, but never more than half the token's lifetime: a token that lives 60 seconds is
    still reused for 30 of them instead of being fetched again on every call.
    """
    lifetime = max(expires_at - obtained_at, 0.0)
    return min(max(token_buffer, 0.0), lifetime / 2)


def is_fresh(expires_at: float, obtained_at: float, now: float, token_buffer: float) -> bool:
    """Tell whether a token with this expiry may still be sent at ``now``."""
    return now < expires_at - refresh_margin(expires_at, obtained_at, token_buffer)


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
