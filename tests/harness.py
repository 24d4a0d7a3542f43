"""What the tests and the benchmark share: the installed http command and a private environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
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
