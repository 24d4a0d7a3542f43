"""What differs between POSIX and Windows: who may have written a file, where to prompt, words.

Each function picks its way by what the ``os`` module offers (``os.getuid``, ``os.O_NOFOLLOW``),
not by the platform's name, so the Windows ways run, and are tested, on POSIX too, with those
calls taken away.

Whose a file is, and how a cache file is opened, are in ``entries``, which every call loads.
"""

from __future__ import annotations

import os
import stat
import sys


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
