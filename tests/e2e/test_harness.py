"""The test helpers themselves, where a broken helper would let other tests pass for nothing."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import pytest
from harness import run_on_a_terminal
from helpers import posix_only

# Reads the controlling terminal (getpass opens /dev/tty), with echo off, and shows what it read.
ASK = "import getpass; print('read', getpass.getpass('secret: ')[::-1])"


@posix_only("a pseudo-terminal")
def test_the_terminal_helper_gives_a_controlling_terminal_without_forking_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fork of this multi-threaded process may deadlock (Python 3.12+ warns of it, but does not
    # raise even under -W error), so any fork here fails the test instead.
    def no_fork(*args: object) -> NoReturn:
        raise AssertionError("the test process was forked")

    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setattr(os, "forkpty", no_fork)
    command = [sys.executable, "-c", ASK]
    code, screen = run_on_a_terminal(command, dict(os.environ), prompt="secret: ", answer="abc")
    assert code == 0, screen
    assert "read cba" in screen
    assert "abc" not in screen  # not echoed: getpass had the terminal
