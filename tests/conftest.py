"""Fixtures: a fake Trulioo on 127.0.0.1, a private cache folder, an environment for http, a keyring.

Helpers that are not fixtures live in ``helpers.py`` and ``harness.py``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_trulioo import FakeTrulioo, RunningServer
from harness import http_environment, private_folders
from helpers import Clock, MemoryKeyring


@pytest.fixture(autouse=True, scope="session")
def _private_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The test process too: a code path that reaches the keyring or a default folder finds temp ones."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in private_folders(tmp_path_factory.mktemp("private")).items():
            patch.setenv(name, value)
        yield


@pytest.fixture(autouse=True)
def _own_logger(monkeypatch: pytest.MonkeyPatch) -> None:
    """The package's logger as a new process has it, in every test: a command run in-process sets
    its handler and stops propagation (``settings.log_to_stderr``), which would hide every later
    test's records from caplog; all is as it was afterwards."""
    logger = logging.getLogger("httpie_trulioo")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "propagate", True)
    monkeypatch.setattr(logger, "level", logging.NOTSET)


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves by hand (a test file's ``fake`` may run on it too)."""
    return Clock()


@pytest.fixture
def fake() -> FakeTrulioo:
    return FakeTrulioo()


@pytest.fixture
def server(fake: FakeTrulioo) -> Iterator[RunningServer]:
    with RunningServer(fake) as running:
        yield running


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def http_env(tmp_path: Path, server: RunningServer, cache_dir: Path) -> dict[str, str]:
    """An environment for http subprocesses: own config and cache, the fake server, no proxies."""
    return http_environment(tmp_path, server.token_url, cache_dir)


@pytest.fixture
def keyring_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file keyring of this test alone (the backend reads XDG_DATA_HOME at each use)."""
    folder = tmp_path / "keyring-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder


# What a Windows Python's os module lacks, and the package's code asks for by name.
POSIX_ONLY_CALLS = ("getuid", "O_NOFOLLOW", "O_NONBLOCK", "O_NOCTTY")


@pytest.fixture
def without_posix_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This process's ``os`` without the calls Windows lacks, so the Windows ways run; a folder to work in."""
    for name in POSIX_ONLY_CALLS:
        monkeypatch.delattr(os, name, raising=False)
    return tmp_path


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An in-memory keyring backend for this test alone (it counts its reads)."""
    import keyring  # noqa: PLC0415 - only the tests that ask for it

    before = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        yield memory
    finally:
        keyring.set_keyring(before)
