"""CI: real calls with a freshly installed wheel, against the fake Trulioo on 127.0.0.1.

Usage: ``python .ci/smoke.py VENV``, where VENV is a virtual environment that holds the wheel and
its dependencies and nothing else. The fake server runs in this process (it needs only the
standard library); ``http`` and ``httpie-trulioo`` run from VENV, in a folder of their own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_trulioo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, FakeTrulioo, RunningServer
from harness import http_environment


def main(venv: Path) -> None:
    """Two http calls (one token request), then httpie-trulioo status lists the cached token."""
    commands = venv / ("Scripts" if os.name == "nt" else "bin")
    with tempfile.TemporaryDirectory() as folder, RunningServer(FakeTrulioo()) as server:
        base = Path(folder)
        env = http_environment(base, server.token_url, base / "cache")
        auth = f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}"
        for _ in range(2):
            http = [str(commands / "http"), "--ignore-stdin", "-b", "-A", "trulioo", "-a", auth]
            called = _run([*http, server.url + "/smoke"], env, base)
            if json.loads(called)["path"] != "/smoke":
                raise SystemExit(f"smoke: unexpected answer {called!r}")
        if server.fake.token_requests != 1:
            raise SystemExit(f"smoke: {server.fake.token_requests} token requests, expected 1")
        status = _run([str(commands / "httpie-trulioo"), "status"], env, base)
        if DEMO_CLIENT_ID not in status:
            raise SystemExit(f"smoke: status does not list the token:\n{status}")
    print("smoke: 2 http calls with the installed wheel, 1 token request, status lists it: ok")


def _run(command: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, check=False, start_new_session=True
    )
    if result.returncode != 0 or result.stderr:
        raise SystemExit(f"smoke: {' '.join(command[:2])} exited {result.returncode}:\n{result.stderr}")
    return result.stdout


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
