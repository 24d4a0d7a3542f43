"""What the tests and the benchmark share: the installed http command and a private environment."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from filelock import FileLock
    lock = FileLock(sys.argv[1])
    lock.acquire()
    print("held", flush=True)
    time.sleep(60)
    """
)


def hold_lock(path: str) -> subprocess.Popen[str]:
    """Another process that takes the file lock at ``path`` and keeps it until it is killed."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, path], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def find_http(name: str = "http") -> str:
    """The command installed beside this Python (the one the README's install gives)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        raise SystemExit(f"the {name} command is not installed: pip install '.[test]' first (see README)")
    return found


def http_environment(base: Path, token_url: str, cache_dir: Path) -> dict[str, str]:
    """An environment for http subprocesses: own HTTPie config and cache folder, no proxies.

    HTTPie's update warnings are off, and no TRULIOO_ variable of the caller leaks in.
    """
    config = base / "httpie-config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.json").write_text(json.dumps({"disable_update_warnings": True}))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TRULIOO_") and key.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env.update(
        HOME=str(base / "home"),
        HTTPIE_CONFIG_DIR=str(config),
        TRULIOO_TOKEN_URL=token_url,
        TRULIOO_CACHE_DIR=str(cache_dir),
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def run_on_a_terminal(
    command: list[str], env: dict[str, str], *, prompt: str, answer: str
) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as its controlling terminal; type ``answer`` at ``prompt``.

    Returns the exit status and everything the terminal showed.
    """
    pid, master = pty.fork()
    if pid == 0:  # the child: a session of its own, with the pty as its terminal
        os.execve(command[0], command, env)  # noqa: S606 - an installed command, as a person runs it
    seen = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break  # the child closed the terminal
            if not chunk:
                break
            seen += chunk
        if not answered and prompt.encode() in seen:
            os.write(master, answer.encode() + b"\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    os.close(master)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")
