"""What differs between POSIX and Windows: whose a file is, how to open it, where to prompt, words.

Each function picks its way by what the ``os`` module offers (``os.getuid``, ``os.O_NOFOLLOW``),
not by the platform's name, so the Windows ways run, and are tested, on POSIX too, with those
calls taken away.

On Windows a file's mode bits and ``st_uid`` say nothing about who may read it: the access
control list (ACL) does. The default cache folder is in the user's own profile
(``%LOCALAPPDATA%``), whose inherited ACL admits only that user, SYSTEM and the administrators,
so there the folder's place is what keeps the cache private, and the mode and owner checks are
skipped.
"""

from __future__ import annotations

import errno
import os
import stat
import sys

_GROUP_OR_OTHERS = 0o077  # permission bits that must be clear on our files and folder


def owned_by_me(info: os.stat_result) -> bool:
    """Tell whether this user owns the file or folder; always so where there are no user ids."""
    getuid = getattr(os, "getuid", None)
    return getuid is None or info.st_uid == getuid()


def open_to_others(info: os.stat_result) -> bool:
    """Tell whether the mode bits let the group or others in; never so without POSIX modes."""
    if not hasattr(os, "getuid"):
        return False  # Windows: the folder's ACL decides, and the mode bits do not show it
    return bool(info.st_mode & _GROUP_OR_OTHERS)


def others_may_write(info: os.stat_result) -> bool:
    """Tell whether someone but this user or root may have written the file, as ssh judges its config.

    Another owner, or write permission for the group or others; never so without user ids.
    """
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return False  # Windows: the folder's ACL decides, and the mode bits do not show it
    return info.st_uid not in (0, getuid()) or bool(info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def command_words(command: str, *, windows: bool = os.name == "nt") -> list[str]:
    """A command line split into words as this system's shell would; ValueError for an open quote.

    POSIX: as sh does (quotes and backslash escapes). Windows: backslashes are path separators,
    and double quotes group words, as cmd.exe reads them.
    """
    import shlex  # noqa: PLC0415 - only a profile with secret_cmd needs it

    if not windows:
        return shlex.split(command)
    words = shlex.split(command, posix=False)
    return [word[1:-1] if len(word) > 1 and word[0] == word[-1] == '"' else word for word in words]


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


def can_prompt() -> bool:
    """Tell whether a person can be prompted: this process has a terminal or console to ask on."""
    if sys.platform == "win32":
        device, flags = "CONIN$", os.O_RDWR  # the console getpass reads from
    else:
        device, flags = "/dev/tty", os.O_RDWR | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(device, flags)
    except OSError:
        return False
    os.close(fd)
    return True
