"""The Windows ways of ``httpie_trulioo._platform`` and ``entries``, run on this machine.

There is no Windows machine here. The module picks its way by what ``os`` offers, so taking away
the calls a Windows Python lacks (``os.getuid``, ``os.O_NOFOLLOW``, ``os.O_NONBLOCK``,
``os.O_NOCTTY``) runs the Windows code: in this process for the cache, and in real ``http`` and
``httpie-trulioo`` processes at the end. What only Windows reports (a reparse point) is faked.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import AUTH, CLIENT_ID, CLIENT_SECRET, posix_only, run_http
from fake_trulioo import RunningServer
from harness import find_http

from httpie_trulioo import _platform, entries
from httpie_trulioo.cache import CacheKey, TokenCache, prepare_folder
from httpie_trulioo.token import Token

NOW = 1_800_000_000.0
KEY = CacheKey.build("https://auth.example/connect/token", "workflow.studio.api", "client-1", "s3cret-VALUE")
TOKEN = Token("tok-abc", obtained_at=NOW, expires_at=NOW + 3600)
POSIX_ONLY_CALLS = ("getuid", "O_NOFOLLOW", "O_NONBLOCK", "O_NOCTTY")


@pytest.fixture
def without_posix_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This process's ``os`` without the calls Windows lacks; yields a folder to work in."""
    for name in POSIX_ONLY_CALLS:
        monkeypatch.delattr(os, name, raising=False)
    return tmp_path


@pytest.fixture
def cache(without_posix_calls: Path) -> TokenCache:
    folder = without_posix_calls / "cache"
    assert prepare_folder(str(folder)) == ""
    return TokenCache(str(folder), lock_timeout=5)


@posix_only("user ids and mode bits")
def test_posix_owner_and_mode_are_checked(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    assert entries.open_to_others(tmp_path.stat())
    tmp_path.chmod(0o700)
    assert not entries.open_to_others(tmp_path.stat())
    assert entries.owned_by_me(tmp_path.stat())
    assert not entries.owned_by_me(SimpleNamespace(st_uid=os.getuid() + 1))


def test_without_user_ids_owner_and_mode_are_left_to_the_folder_acl(without_posix_calls: Path) -> None:
    anyone = SimpleNamespace(st_uid=12345, st_mode=stat.S_IFDIR | 0o777)
    assert entries.owned_by_me(anyone)
    assert not entries.open_to_others(anyone)
    folder = without_posix_calls / "open"
    folder.mkdir()
    folder.chmod(0o755)  # what os.stat reports on Windows for any folder
    assert prepare_folder(str(folder)) == ""


def test_cache_works_without_posix_calls(cache: TokenCache) -> None:
    assert cache.load(KEY).reason == "none"
    cache.store(KEY, TOKEN)
    assert cache.load(KEY).token == TOKEN
    assert [entry.token for _, entry in cache.entries() if entry] == [TOKEN]
    assert cache.discard(KEY, TOKEN.access_token)
    assert cache.load(KEY).reason == "none"


def test_symlink_is_not_followed_without_o_nofollow(cache: TokenCache, tmp_path: Path) -> None:
    target = tmp_path / "precious.json"
    TokenCache(str(tmp_path), 5).store(KEY, TOKEN)  # a valid entry: following the link would use it
    os.replace(tmp_path / f"{KEY.digest}.json", target)
    os.symlink(target, cache.path(KEY))
    assert cache.load(KEY).reason == "unreadable"
    cache.store(KEY, Token("tok-new", NOW, NOW + 3600))
    assert not os.path.islink(cache.path(KEY))
    assert json.loads(target.read_text())["token"] == "tok-abc"
    assert cache.load(KEY).token == Token("tok-new", NOW, NOW + 3600)


def test_who_may_have_written_a_file_is_judged_as_ssh_does(tmp_path: Path) -> None:
    mine = tmp_path / "config.toml"
    mine.write_text("")
    for mode, others in [(0o600, False), (0o644, False), (0o620, True), (0o602, True)]:
        mine.chmod(mode)
        assert _platform.others_may_write(mine.stat()) is others, oct(mode)
    assert _platform.others_may_write(SimpleNamespace(st_uid=os.getuid() + 1, st_mode=0o600))
    assert not _platform.others_may_write(SimpleNamespace(st_uid=0, st_mode=0o644))  # root's


def test_without_user_ids_who_may_write_is_left_to_the_folder_acl(without_posix_calls: Path) -> None:
    assert not _platform.others_may_write(SimpleNamespace(st_uid=12345, st_mode=0o666))


@pytest.mark.parametrize(
    ("line", "posix", "windows"),
    [
        ("vault read 'trulioo/dev'", ["vault", "read", "trulioo/dev"], ["vault", "read", "'trulioo/dev'"]),
        (
            r'"C:\Program Files\Vault\vault.exe" read trulioo\dev',
            [r"C:\Program Files\Vault\vault.exe", "read", "trulioodev"],  # a backslash escapes, unquoted
            [r"C:\Program Files\Vault\vault.exe", "read", r"trulioo\dev"],
        ),
        (
            r"C:\tools\op.exe read op://qa/x",
            [r"C:toolsop.exe", "read", "op://qa/x"],
            [r"C:\tools\op.exe", "read", "op://qa/x"],
        ),
    ],
)
def test_a_command_line_splits_as_each_systems_shell_splits_it(
    line: str, posix: list[str], windows: list[str]
) -> None:
    assert _platform.command_words(line, windows=False) == posix
    assert _platform.command_words(line, windows=True) == windows
    with pytest.raises(ValueError, match="No closing quotation"):
        _platform.command_words('vault "read', windows=True)


def test_reparse_point_is_a_symlink(
    cache: TokenCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reparse = stat.FILE_ATTRIBUTE_REPARSE_POINT
    assert entries.is_link(SimpleNamespace(st_mode=stat.S_IFREG, st_file_attributes=reparse))
    assert entries.is_link(SimpleNamespace(st_mode=stat.S_IFDIR, st_file_attributes=reparse))  # a junction
    assert not entries.is_link(SimpleNamespace(st_mode=stat.S_IFREG, st_file_attributes=0))

    cache.store(KEY, TOKEN)
    real_lstat = os.lstat

    def lstat_as_windows(path: str) -> object:
        info = real_lstat(path)
        return SimpleNamespace(
            st_mode=info.st_mode, st_dev=info.st_dev, st_ino=info.st_ino, st_file_attributes=reparse
        )

    monkeypatch.setattr(os, "lstat", lstat_as_windows)
    assert cache.load(KEY).reason == "unreadable"


def test_a_file_swapped_while_it_is_opened_is_refused(
    cache: TokenCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.store(KEY, TOKEN)
    other = tmp_path / "other"
    other.write_text("")
    real_lstat = os.lstat
    # What lstat saw is not what open then opened, as when a link is swapped in between.
    monkeypatch.setattr(os, "lstat", lambda path: real_lstat(other))
    with pytest.raises(OSError, match="replaced while it was opened") as raised:
        entries.open_for_reading(cache.path(KEY))
    assert raised.value.errno == errno.ELOOP
    assert cache.load(KEY).reason == "unreadable"


@pytest.mark.parametrize(
    ("platform", "device"), [("win32", "CONIN$"), ("linux", "/dev/tty"), ("darwin", "/dev/tty")]
)
def test_the_prompt_asks_the_console_on_windows_and_the_terminal_elsewhere(
    monkeypatch: pytest.MonkeyPatch, platform: str, device: str
) -> None:
    opened: list[str] = []
    real_open = os.open

    def record(path: str, flags: int) -> int:
        opened.append(path)
        return real_open(os.devnull, os.O_RDONLY)

    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(os, "open", record)
    assert _platform.can_prompt()
    assert opened == [device]

    def refuse(path: str, flags: int) -> int:
        raise OSError(errno.ENXIO, "no such device")

    monkeypatch.setattr(os, "open", refuse)
    assert not _platform.can_prompt()


def test_the_suite_is_collected_without_posix_only_modules(tmp_path: Path) -> None:
    startup = tmp_path / "startup"
    startup.mkdir()
    (startup / "sitecustomize.py").write_text(
        "import sys\n"
        "sys.modules.update(dict.fromkeys(('pty', 'termios', 'tty', 'resource', 'fcntl', 'grp', 'pwd')))\n"
    )
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=Path(__file__).resolve().parent.parent,
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


@pytest.mark.e2e
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
