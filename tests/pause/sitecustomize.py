"""Fault injection for tests/e2e/test_faults.py: stop an http process at a chosen moment.

This folder goes first on PYTHONPATH of the http processes that test starts, and Python imports
this module as they start. With TRULIOO_TEST_PAUSE_AT set, the process stops for good at that
moment of a cache miss, once it has created the file TRULIOO_TEST_PAUSED to say so, and waits
there for the test to kill it:
  lock     the token lock has just been taken (before the second look and the token request)
  write    the new entry is in its temporary file, being flushed to disk (os.fsync)
  rename   the temporary file is about to replace the entry (os.replace)
The token request itself needs no help: the fake server holds it as long as the test asks.
"""

from __future__ import annotations

import os
import time
from typing import Any

_AT = os.environ.get("TRULIOO_TEST_PAUSE_AT", "")
_SIGNAL = os.environ.get("TRULIOO_TEST_PAUSED", "")


def _stop_here() -> None:
    with open(_SIGNAL, "x"):
        pass
    time.sleep(3600)  # until the test kills this process


if _AT == "lock":
    import filelock

    _acquire = filelock.FileLock.acquire

    def _acquire_then_stop(self: Any, *args: Any, **kwargs: Any) -> Any:
        proxy = _acquire(self, *args, **kwargs)
        _stop_here()
        return proxy

    filelock.FileLock.acquire = _acquire_then_stop  # type: ignore[method-assign]
elif _AT == "write":
    _fsync = os.fsync

    def _fsync_then_stop(fd: int) -> None:
        _fsync(fd)
        _stop_here()

    os.fsync = _fsync_then_stop
elif _AT == "rename":
    _replace = os.replace

    def _stop_then_replace(source: Any, target: Any, **kwargs: Any) -> None:
        _stop_here()
        _replace(source, target, **kwargs)

    os.replace = _stop_then_replace
