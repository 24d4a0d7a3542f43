"""The Windows ways, in real ``http`` and ``httpie-trulioo`` processes on this machine.

There is no Windows machine here. The package picks its way by what ``os`` offers, so taking
away the calls a Windows Python lacks (``os.getuid``, ``os.O_NOFOLLOW``, ``os.O_NOCTTY``) runs
the Windows code. The same ways in-process are tested beside each module in ``tests/unit``
(``test_cache.py``, ``test_profiles.py``, ``test_secret_sources.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fake_trulioo import RunningServer
from harness import find_http
from helpers import AUTH, CLIENT_ID, CLIENT_SECRET, run_http

pytestmark = pytest.mark.e2e


def test_the_suite_is_collected_without_posix_only_modules(tmp_path: Path) -> None:
    startup = tmp_path / "startup"
    startup.mkdir()
    (startup / "sitecustomize.py").write_text(
        "import sys\n"
        "sys.modules.update(dict.fromkeys(('pty', 'termios', 'tty', 'resource', 'fcntl', 'grp', 'pwd')))\n"
    )
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=Path(__file__).resolve().parent.parent.parent,
        env={**os.environ, "PYTHONPATH": str(startup)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    assert " tests collected" in collected.stdout


# --- real processes without the POSIX-only calls ---------------------------------------------------

# O_NONBLOCK stays: filelock's POSIX lock, used here, needs it; on Windows filelock locks its own way.
TAKE_AWAY = textwrap.dedent(
    """
    # Imported at Python's start (sitecustomize): os without what our code would use but Windows lacks.
    import os
    for name in ("getuid", "O_NOFOLLOW", "O_NOCTTY"):
        delattr(os, name)
    """
)


def test_http_and_the_command_work_without_posix_calls(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path, tmp_path: Path
) -> None:
    startup = tmp_path / "startup"
    startup.mkdir()
    (startup / "sitecustomize.py").write_text(TAKE_AWAY)
    env = {
        **http_env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(startup), os.environ.get("PYTHONPATH")])),
        # Not the platformdirs default: its POSIX module (4.0 imports os.getuid) is not what a
        # Windows Python loads, and this test is about the plugin's own code.
        "TRULIOO_CONFIG_FILE": str(tmp_path / "config.toml"),
    }
    probe = subprocess.run(
        [sys.executable, "-c", "import os; print(hasattr(os, 'getuid'), hasattr(os, 'O_NOFOLLOW'))"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.split() == ["False", "False"]  # the calls really are gone

    for _ in range(2):
        called = run_http(["-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"], env)
        assert (called.returncode, called.stderr) == (0, "")
        assert json.loads(called.stdout)["path"] == "/x"
    assert server.fake.token_requests == 1  # the second call read the cache

    entries = list(cache_dir.glob("*.json"))
    assert len(entries) == 1
    target = tmp_path / "precious"
    target.write_text("do not touch")
    entries[0].unlink()
    entries[0].symlink_to(target)
    called = run_http(["-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"], env)
    assert (called.returncode, called.stderr) == (0, "")
    assert target.read_text() == "do not touch"
    assert not entries[0].is_symlink()
    assert server.fake.token_requests == 2

    command = find_http("httpie-trulioo")
    for args, expected in [
        (["status"], CLIENT_ID),
        (["token"], ""),
        (["clear"], "removed 1 cached token from"),
    ]:
        result = subprocess.run(
            [command, *args],
            env={**env, "TRULIOO_CLIENT_ID": CLIENT_ID, "TRULIOO_CLIENT_SECRET": CLIENT_SECRET},
            capture_output=True,
            text=True,
            check=False,
            start_new_session=True,
        )
        assert (result.returncode, result.stderr) == (0, ""), args
        assert expected in result.stdout
    assert server.fake.token_requests == 2  # token came from the cache
    assert list(cache_dir.glob("*.json")) == []
