"""Authorization servers no one here wrote, started once per test session on 127.0.0.1.

tests/servers/dot is django-oauth-toolkit (installed with the test extra), tests/servers/oidc
is node's oidc-provider (installed by ``npm ci --prefix tests/servers/oidc``). Each prints
``ready PORT`` once it listens on a free port of 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from harness import find_http

SERVERS = Path(__file__).parent / "servers"
# Bounds the wait for a server to start (Django's migrations, node's start), on a busy machine.
START_WITHIN = 120.0


class RealServer:
    """A server process started from ``command``; ``url`` once it is ready, stopped by ``stop()``."""

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> None:
        """Start the process and wait until it says it is ready."""
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=self._log, start_new_session=True
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_WITHIN
        line = b""
        while not line.endswith(b"\n") and time.monotonic() < deadline and self.process.poll() is None:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if ready:
                line += os.read(self.process.stdout.fileno(), 256)
        if not line.startswith(b"ready "):
            self.stop()
            raise RuntimeError(f"{command} did not start: {line!r}; its log: {log.read_text()[-2000:]}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def stats(self) -> dict[str, Any]:
        """What the server counted (token requests), from its test-only /_stats path."""
        answer: dict[str, Any] = requests.get(self.url + "/_stats", timeout=10).json()
        return answer

    def token_requests(self) -> int:
        """How many token requests the server has had so far."""
        return int(self.stats()["token_requests"])

    def stop(self) -> None:
        """Kill the process (its own session) and wait for it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self._log.close()


def start_dot(folder: Path, clients: list[dict[str, Any]]) -> RealServer:
    """django-oauth-toolkit with these clients, its sqlite database in ``folder``."""
    env = {
        **os.environ,
        "DOT_TEST_DATABASE": str(folder / "dot.sqlite3"),
        "DOT_TEST_CLIENTS": json.dumps(clients),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return RealServer([sys.executable, "serve.py"], cwd=SERVERS / "dot", env=env, log=folder / "dot.log")


def start_oidc_provider(folder: Path) -> RealServer:
    """node's oidc-provider, with the clients of tests/servers/oidc/server.js."""
    return RealServer(
        ["node", "server.js"], cwd=SERVERS / "oidc", env=dict(os.environ), log=folder / "oidc.log"
    )


def command(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed httpie-trulioo command, run with ``env``."""
    return subprocess.run(
        [find_http("httpie-trulioo"), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def error_line(result: subprocess.CompletedProcess[str], env: dict[str, str]) -> str:
    """The one error line, less the client and token URL it ends with (checked here exactly)."""
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    context = f" [client {env['TRULIOO_CLIENT_ID']} @ {env['TRULIOO_TOKEN_URL']}]"
    assert line.endswith(context), line
    return line.removesuffix(context)
