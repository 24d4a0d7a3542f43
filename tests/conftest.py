"""Fixtures: a fake Trulioo on 127.0.0.1, a private cache folder, and the installed http command."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_trulioo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, FakeTrulioo, RunningServer
from harness import find_http, http_environment

CLIENT_ID = DEMO_CLIENT_ID
CLIENT_SECRET = DEMO_CLIENT_SECRET
AUTH = f"{CLIENT_ID}:{CLIENT_SECRET}"


def token_form(scope: str = "workflow.studio.api") -> dict[str, str]:
    """The form a token request must carry, exactly as Trulioo documents it."""
    return {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }


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


def run_http(
    args: list[str],
    env: dict[str, str],
    *,
    stdin: bytes | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run the installed http command the way a person would, with no terminal attached."""
    command = [find_http(), *([] if stdin is not None else ["--ignore-stdin"]), *args]
    completed = subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        env=env,
        timeout=timeout,
        start_new_session=True,  # no controlling terminal: nothing can prompt
        check=False,
    )
    return subprocess.CompletedProcess(
        completed.args,
        completed.returncode,
        completed.stdout.decode(errors="replace"),
        completed.stderr.decode(errors="replace"),
    )
