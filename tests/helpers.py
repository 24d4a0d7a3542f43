"""Helpers the tests share: the demo client, running the installed http, secret commands, TLS."""

from __future__ import annotations

import os
import shlex
import socket
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import keyring.backend
import pytest
import trustme
from fake_trulioo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, FakeTrulioo, RunningServer
from harness import as_current_httpie, find_http

CLIENT_ID = DEMO_CLIENT_ID
CLIENT_SECRET = DEMO_CLIENT_SECRET
AUTH = f"{CLIENT_ID}:{CLIENT_SECRET}"
DEV_URL = "https://auth-api-primary.dev.trulioo.com/connect/token"
PROD_URL = "https://auth-api.trulioo.com/connect/token"
PYTHON = shlex.quote(sys.executable)


class Clock:
    """A clock the test moves by hand, shared by the plugin and the fake server."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def posix_only(needs: str) -> pytest.MarkDecorator:
    """Skip a test on Windows, naming the POSIX feature it needs (see CONTRIBUTING.md, Platforms)."""
    return pytest.mark.skipif(os.name != "posix", reason=f"POSIX only: {needs}")


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening, and held for the test.

    Held, not picked and let go: another process could take a port that was only found free.
    """
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield int(bound.getsockname()[1])


def token_form(scope: str = "workflow.studio.api") -> dict[str, str]:
    """The form a token request must carry, exactly as Trulioo documents it."""
    return {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }


@contextmanager
def tls_fake(fake: FakeTrulioo, *names: str) -> Iterator[tuple[RunningServer, Path]]:
    """``fake`` served over TLS on 127.0.0.1 with a certificate for ``names`` from a throwaway CA.

    Yields the server and the CA file to trust (REQUESTS_CA_BUNDLE, or http --verify).
    """
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*(names or ("127.0.0.1",))).configure_cert(context)
    with tempfile.TemporaryDirectory() as folder:
        ca_file = Path(folder) / "ca.pem"
        authority.cert_pem.write_to_path(str(ca_file))
        with RunningServer(fake, tls=context) as running:
            yield running, ca_file


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
        as_current_httpie(completed.stderr.decode(errors="replace")),
    )


def context_of(server: RunningServer, client_id: str = CLIENT_ID, profile: str | None = None) -> str:
    """The ``[profile …, client … @ TOKEN_URL]`` that log lines and errors about a client start with."""
    client = f"client {client_id} @ {server.token_url}"
    return f"[profile {profile}, {client}]" if profile else f"[{client}]"


def command(code: str) -> str:
    """A secret_cmd that runs this Python code (no shell involved)."""
    return f"{PYTHON} -c {shlex.quote(code)}"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend in memory that keeps any text, as an OS keyring may, and counts reads."""

    priority = 1  # type: ignore[assignment]  # keyring declares it as a class property

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)
