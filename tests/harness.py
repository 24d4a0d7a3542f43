"""What the tests and the benchmark share: the installed http command and a private environment."""

from __future__ import annotations

import json
import os
import re
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
    time.sleep(3600)  # until the test kills it
    """
)


# HTTPie 3.2.0 and 3.2.1 write "http: LogLevel.ERROR: ..." where later releases write "http: error: ..."
# (Python 3.11 changed how such an enum formats). The tests judge what the plugin says after the
# prefix: reading the old prefix as the new lets them run on HTTPie 3.2.0, the declared floor. (On
# a terminal a colour code comes right before the prefix, with no word boundary between.)
_OLD_LEVEL = re.compile(r"(https?: )LogLevel\.(ERROR|WARNING|INFO): ")


def as_current_httpie(output: str) -> str:
    """HTTPie's output, with the level prefix of 3.2.0 and 3.2.1 written as later releases write it."""
    return _OLD_LEVEL.sub(lambda found: f"{found[1]}{found[2].lower()}: ", output)


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
        raise SystemExit(
            f"the {name} command is not installed: pip install . -r tests/requirements.txt (see README)"
        )
    return found


# The keyring the tests use: a real backend (keyrings.alt's file keyring, a test extra) that
# keeps its file under XDG_DATA_HOME, so that no test reads or writes the user's own keyring.
TEST_KEYRING = "keyrings.alt.file.PlaintextKeyring"
CONTROL_KEYS = ("\x03", "\x04")  # Ctrl-C, Ctrl-D


def private_folders(base: Path) -> dict[str, str]:
    """HOME, the XDG folders and the keyring backend, all under ``base``: nothing of the user's."""
    return {
        "HOME": str(base / "home"),
        "XDG_CONFIG_HOME": str(base / "xdg-config"),
        "XDG_DATA_HOME": str(base / "xdg-data"),
        "XDG_CACHE_HOME": str(base / "xdg-cache"),
        "XDG_STATE_HOME": str(base / "xdg-state"),
        "PYTHON_KEYRING_BACKEND": TEST_KEYRING,
    }


def http_environment(base: Path, token_url: str, cache_dir: Path) -> dict[str, str]:
    """An environment for http subprocesses: own HTTPie config, cache folder and keyring, no proxies.

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
        private_folders(base),
        HTTPIE_CONFIG_DIR=str(config),
        TRULIOO_TOKEN_URL=token_url,
        TRULIOO_CACHE_DIR=str(cache_dir),
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


# Started by subprocess (which never runs Python code between fork and exec), this makes the
# pseudo-terminal named in argv[1] the controlling terminal of a new session, then becomes the
# command in argv[2:]. A fork of the test process itself is avoided: pytest runs threads (the fake
# server), and a forked copy of a multi-threaded process may deadlock (Python 3.12 warns of it).
_ON_A_TERMINAL = textwrap.dedent(
    """
    import os, sys
    os.setsid()
    terminal = os.open(sys.argv[1], os.O_RDWR)  # on Linux, opening it makes it the session's terminal
    try:
        import fcntl, termios
        fcntl.ioctl(terminal, termios.TIOCSCTTY, 0)  # elsewhere (BSD, macOS) this does
    except (ImportError, AttributeError, OSError):
        pass
    for fd in (0, 1, 2):
        os.dup2(terminal, fd)
    os.close(terminal)
    # As a shell gives a command it runs in the foreground: Ctrl-C interrupts it. A test run
    # started in the background (nohup ... &) would pass on SIGINT ignored, and exec keeps that.
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execv(sys.argv[2], sys.argv[2:])
    """
)


def run_on_a_terminal(
    command: list[str], env: dict[str, str], *, prompt: str, answer: str
) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as its controlling terminal; type ``answer`` at ``prompt``.

    Returns the exit status and everything the terminal showed.
    """
    master, slave = os.openpty()
    try:
        child = subprocess.Popen([sys.executable, "-c", _ON_A_TERMINAL, os.ttyname(slave), *command], env=env)
        # This end of the terminal stays open until the child is gone, so reading never fails
        # early, before the child has opened it; the child's exit is noticed with poll().
        seen = b""
        answered = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                seen += os.read(master, 4096)
            elif child.poll() is not None:
                break  # gone, and all it wrote has been read
            if not answered and prompt.encode() in seen:
                # A control key (Ctrl-C, Ctrl-D) goes alone: a newline after it could be read as
                # an empty answer before the signal it raises is handled.
                keys = answer.encode() if answer in CONTROL_KEYS else answer.encode() + b"\n"
                os.write(master, keys)
                answered = True
        if child.poll() is None:
            child.kill()  # still running after a minute: stuck, and the test fails on its output
        code = child.wait()
    finally:
        os.close(slave)
        os.close(master)
    return code, as_current_httpie(seen.decode(errors="replace"))
