"""The cache against real files: owner-only, atomic, and every bad file a miss."""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import platformdirs
import pytest
from harness import hold_lock
from helpers import posix_only
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpie_trulioo import cache as cache_module
from httpie_trulioo.cache import (
    LATEST_TIME,
    MAX_FILE_SIZE,
    Entry,
    Lookup,
    TokenCache,
    TokenKey,
    cache_folder,
    folder_problem,
    new_entry,
    prepare_folder,
    secret_check,
)
from httpie_trulioo.settings import load_settings
from httpie_trulioo.token import MAX_LIFETIME, Token

NOW = 1_800_000_000.0
SECRET = "s3cret-VALUE"
KEY = TokenKey("https://auth.example/connect/token", "workflow.studio.api", "client-1")
TOKEN = Token("tok-abc", obtained_at=NOW, expires_at=NOW + 3600)


def token_in(cache: TokenCache, key: TokenKey) -> Token | None:
    """The token the cache holds for ``key``, or None on a miss."""
    entry = cache.load(key).entry
    return entry.token if entry is not None else None


@pytest.fixture
def cache(tmp_path: Path) -> TokenCache:
    folder = tmp_path / "cache"
    assert prepare_folder(str(folder)) == ""
    return TokenCache(str(folder), lock_timeout=5)


def test_key_depends_on_every_field() -> None:
    base = ("https://auth.example/connect/token", "workflow.studio.api", "client-1")
    digests = {TokenKey(*base).digest}
    for index, other in enumerate(("https://other/connect/token", "napi.api", "client-2")):
        changed = list(base)
        changed[index] = other
        digests.add(TokenKey(*changed).digest)
    assert len(digests) == 4


def test_audience_and_resource_are_part_of_the_key() -> None:
    base = ("https://auth.example/connect/token", "workflow.studio.api", "client-1")
    digests = {
        TokenKey(*base, audience=audience, resource=resource).digest
        for audience, resource in (("", ""), ("a", ""), ("", "a"), ("a", "b"), ("b", "a"))
    }
    assert len(digests) == 5


def test_fields_cannot_run_into_each_other() -> None:
    url = "https://auth.example/connect/token"
    assert TokenKey(url, "a", "b").digest != TokenKey(url, "a\0b", "").digest
    assert TokenKey(url, "s", "c", "a", "").digest != TokenKey(url, "s", "c", "", "a").digest


def test_the_secret_is_checked_by_the_entry_never_named_by_the_key(cache: TokenCache) -> None:
    """A token is found by what it is for; the secret that fetched it is told from any other."""
    cache.store(KEY, TOKEN, SECRET)
    entry = cache.load(KEY).entry
    assert entry is not None
    assert entry.fetched_with(SECRET)
    for other in ("wrong", "s3cret-VALUe", SECRET + " ", "", SECRET[:-1]):
        assert not entry.fetched_with(other)


def test_each_entry_salts_its_check_of_the_secret(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN, SECRET)
    first = cache.load(KEY).entry
    cache.store(KEY, TOKEN, SECRET)
    second = cache.load(KEY).entry
    assert first is not None
    assert second is not None
    assert first.secret_salt != second.secret_salt
    assert first.secret_check != second.secret_check
    assert second.secret_check == secret_check(second.secret_salt, SECRET)
    assert SECRET not in first.secret_check + first.secret_salt


def test_a_new_entry_holds_its_key_its_token_and_16_random_bytes_of_salt() -> None:
    entry = new_entry(KEY, TOKEN, SECRET)
    assert (entry.key, entry.token, len(entry.secret_salt)) == (KEY, TOKEN, 32)
    assert set(entry.secret_salt) <= set("0123456789abcdef")
    assert entry.fetched_with(SECRET)
    assert not entry.fetched_with(SECRET + "x")


def test_a_secret_that_is_not_utf8_is_checked_too(cache: TokenCache) -> None:
    """A secret typed at a prompt may hold a byte that is not UTF-8: it still has a check of its own."""
    undecodable = "s3cret\udcff"  # what Python holds for the byte 0xff of a non-UTF-8 input
    cache.store(KEY, TOKEN, undecodable)
    entry = cache.load(KEY).entry
    assert entry is not None
    assert entry.fetched_with(undecodable)
    for other in ("s3cret\udcfe", "s3cret", "s3cret\xff", SECRET):
        assert not entry.fetched_with(other)


def test_an_entry_of_the_first_format_is_a_miss_never_misread(cache: TokenCache) -> None:
    """The earlier format named a file after a hash of the secret and wrote "version": 1."""
    old = {
        "version": 1,
        "token": "tok-abc",
        "expires_at": NOW + 3600,
        "obtained_at": NOW,
        "token_url": KEY.token_url,
        "scope": KEY.scope,
        "client_id": KEY.client_id,
        "granted_scope": "read",
        "audience": "",
        "resource": "",
    }
    Path(cache.path(KEY)).write_text(json.dumps(old))
    os.chmod(cache.path(KEY), 0o600)
    lookup = cache.load(KEY)
    assert (lookup.entry, lookup.reason) == (None, "corrupt")
    assert cache.entries() == []
    assert cache.leftovers() == [cache.path(KEY)]  # clear removes it
    cache.store(KEY, TOKEN, SECRET)
    assert cache.leftovers() == []  # a current entry is never a leftover


def test_the_granted_scope_is_kept_and_the_audience_and_resource_must_match(cache: TokenCache) -> None:
    key = TokenKey(KEY.token_url, KEY.scope, KEY.client_id, audience="https://api.example/", resource="urn:r")
    cache.store(key, Token("tok-abc", NOW, NOW + 3600, scope="read"), SECRET)
    assert token_in(cache, key) == Token("tok-abc", NOW, NOW + 3600, scope="read")
    (entry,) = [entry for _, entry in cache.entries()]
    assert isinstance(entry, Entry)
    assert (entry.key.audience, entry.key.resource, entry.token.scope) == (
        "https://api.example/",
        "urn:r",
        "read",
    )
    # A file whose fields do not match the key that named it is not trusted.
    os.replace(cache.path(key), cache.path(TokenKey(*key.fields()[:3], "other", "urn:r")))
    assert cache.load(TokenKey(*key.fields()[:3], "other", "urn:r")).reason == "corrupt"
    cache.store(key, TOKEN, SECRET)
    os.replace(cache.path(key), cache.path(TokenKey(*key.fields()[:4], "")))
    assert cache.load(TokenKey(*key.fields()[:4], "")).reason == "corrupt"


def test_key_does_not_hold_the_secret() -> None:
    """A key shows its fields, and never a secret."""
    assert repr(KEY) == (
        "TokenKey(token_url='https://auth.example/connect/token', scope='workflow.studio.api', "
        "client_id='client-1', audience='', resource='')"
    )
    assert "s3cret-VALUE" not in repr(KEY)


def test_store_then_load(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN, SECRET)
    lookup = cache.load(KEY)
    assert lookup.entry is not None
    assert (lookup.entry.token, lookup.reason) == (Token("tok-abc", NOW, NOW + 3600), "")
    assert os.listdir(cache.folder) == [KEY.digest + ".json"]  # one file, in the cache folder


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_files_are_owner_only(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN, SECRET)
    assert os.stat(cache.folder).st_mode & 0o777 == 0o700
    assert os.stat(cache.path(KEY)).st_mode & 0o777 == 0o600


def test_file_holds_only_the_token_and_non_secret_fields(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN, SECRET)
    entry = json.loads(Path(cache.path(KEY)).read_text())
    assert set(entry) == {
        "version",
        "token",
        "expires_at",
        "obtained_at",
        "token_url",
        "scope",
        "client_id",
        "granted_scope",
        "audience",
        "resource",
        "secret_salt",
        "secret_check",
    }
    assert "s3cret-VALUE" not in Path(cache.path(KEY)).read_text()


def test_missing_entry_is_a_miss(cache: TokenCache) -> None:
    assert token_in(cache, KEY) is None
    assert cache.load(KEY).reason == "none"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"not json at all",
        b"[]",
        b'{"version": 1}',
        b'{"version": 2, "token": "t", "expires_at": 1, "obtained_at": 1}',
        (
            b'{"version": 1, "token": "t", "expires_at": 1, "obtained_at": 1, "token_url": "u", '
            b'"scope": "s", "client_id": "c"}'
        ),
        b"\xff\xfe garbage",
        b"[" * 100_000,
    ],
)
def test_corrupt_or_foreign_file_is_a_miss(cache: TokenCache, content: bytes) -> None:
    path = Path(cache.path(KEY))
    path.write_bytes(content)
    path.chmod(0o600)
    lookup = cache.load(KEY)
    assert (lookup.entry, lookup.reason) == (None, "corrupt")


def test_truncated_file_is_a_miss(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN, SECRET)
    path = Path(cache.path(KEY))
    path.write_bytes(path.read_bytes()[:40])
    assert cache.load(KEY).reason == "corrupt"


def test_entry_of_other_credentials_is_a_miss(cache: TokenCache) -> None:
    other = TokenKey("https://auth.example/connect/token", "napi.api", "client-1")
    cache.store(other, TOKEN, SECRET)
    os.replace(cache.path(other), cache.path(KEY))
    assert cache.load(KEY).reason == "corrupt"


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_file_readable_by_others_is_not_trusted_and_is_replaced(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN, SECRET)
    Path(cache.path(KEY)).chmod(0o644)
    assert cache.load(KEY).reason == "insecure"
    cache.store(KEY, TOKEN, SECRET)
    assert os.stat(cache.path(KEY)).st_mode & 0o777 == 0o600
    assert token_in(cache, KEY) == TOKEN


@posix_only("creating a symlink, which Windows allows only to administrators or in Developer Mode")
def test_symlink_is_never_followed(cache: TokenCache, tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    target.chmod(0o600)
    os.symlink(target, cache.path(KEY))
    assert cache.load(KEY).reason == "unreadable"
    cache.store(KEY, TOKEN, SECRET)
    assert target.read_text() == "keep me"
    assert not os.path.islink(cache.path(KEY))
    assert token_in(cache, KEY) == TOKEN


@posix_only("os.mkfifo")
def test_fifo_does_not_block(cache: TokenCache) -> None:
    os.mkfifo(cache.path(KEY), 0o600)
    assert cache.load(KEY).reason == "insecure"


def test_discard_only_removes_the_rejected_token(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN, SECRET)
    assert not cache.discard(KEY, "another-token")
    assert token_in(cache, KEY) == TOKEN
    assert cache.discard(KEY, "tok-abc")
    assert token_in(cache, KEY) is None


FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    from httpie_trulioo.cache import TokenCache, TokenKey
    from httpie_trulioo.token import MAX_LIFETIME, Token
    # The file size limit makes every write past 16 bytes fail, as a full disk would.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16, 16))
    url = "https://auth.example/connect/token"
    key = TokenKey(url, "workflow.studio.api", "client-1")
    try:
        TokenCache(sys.argv[1], 5).store(key, Token("new-token", 1.0, 2.0), "s3cret-VALUE")
    except OSError as exc:
        print("refused", exc.errno)
    """
)


@posix_only("a file size limit (RLIMIT_FSIZE) that acts as a full disk")
def test_failed_write_leaves_the_old_entry_and_no_temp_file(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN, SECRET)
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, cache.folder], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("refused")
    assert token_in(cache, KEY) == TOKEN
    assert sorted(os.listdir(cache.folder)) == [KEY.digest + ".json"]


def test_folder_that_is_a_file_is_unusable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    below = blocker / "below"
    assert prepare_folder(str(blocker)) == f"cannot create the cache folder {blocker} (File exists)"
    assert prepare_folder(str(below)) == f"cannot create the cache folder {below} (Not a directory)"
    assert folder_problem(str(blocker)) == f"the cache folder {blocker} is not a folder"
    assert folder_problem(str(below)) == f"cannot use the cache folder {below} (Not a directory)"
    assert folder_problem("cache") == "the cache folder cache is not an absolute path"


def test_a_refusal_without_a_description_is_named_by_its_kind(tmp_path: Path) -> None:
    """An OSError may come without a strerror (a plugin file system, say): the message names its class."""
    folder = tmp_path / "cache"

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError("refused")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "makedirs", refuse)
        created = prepare_folder(str(folder))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "stat", refuse)
        used = folder_problem(str(folder))
    assert created == f"cannot create the cache folder {folder} (PermissionError)"
    assert used == f"cannot use the cache folder {folder} (PermissionError)"


def test_the_default_folder_is_the_user_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As the README says: $XDG_CACHE_HOME/httpie-trulioo on Linux, else ~/.cache/httpie-trulioo."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    assert cache_folder(load_settings({})) == platformdirs.user_cache_dir("httpie-trulioo", appauthor=False)
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_folder(load_settings({})) == platformdirs.user_cache_dir("httpie-trulioo", appauthor=False)
    chosen = str(tmp_path / "chosen")
    assert cache_folder(load_settings({"TRULIOO_CACHE_DIR": chosen})) == chosen


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
@pytest.mark.parametrize("mode", [0o755, 0o750, 0o705, 0o720, 0o702])
def test_folder_open_to_others_is_left_alone(tmp_path: Path, mode: int) -> None:
    """The group alone, or others alone, is already too many."""
    folder = tmp_path / "open"
    folder.mkdir()
    folder.chmod(mode)
    assert prepare_folder(str(folder)) == (
        f"the cache folder {folder} is open to other users (run: chmod 700 '{folder}')"
    )
    assert folder.stat().st_mode & 0o777 == mode


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
@pytest.mark.parametrize("mode", [0o640, 0o620, 0o610, 0o604, 0o602, 0o601])
def test_a_file_open_to_the_group_alone_or_others_alone_is_not_trusted(cache: TokenCache, mode: int) -> None:
    cache.store(KEY, TOKEN, SECRET)
    os.chmod(cache.path(KEY), mode)
    assert (cache.load(KEY).entry, cache.load(KEY).reason) == (None, "insecure")
    assert cache.entries() == []


@posix_only("mode bits")
def test_every_group_and_other_bit_counts_and_no_owner_bit_does() -> None:
    for bit in (0o040, 0o020, 0o010, 0o004, 0o002, 0o001):
        assert cache_module.open_to_others(SimpleNamespace(st_mode=stat.S_IFREG | 0o600 | bit))
    assert not cache_module.open_to_others(SimpleNamespace(st_mode=stat.S_IFDIR | 0o700))


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_new_folder_is_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    assert prepare_folder(str(folder)) == ""
    assert folder.stat().st_mode & 0o777 == 0o700


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_the_lock_file_is_owner_only(cache: TokenCache) -> None:
    before = os.umask(0o022)  # the usual umask, which leaves files readable by all
    try:
        with cache.lock(KEY) as waited:
            assert waited is not None
            assert os.stat(os.path.join(cache.folder, KEY.digest + ".lock")).st_mode & 0o777 == 0o600
    finally:
        os.umask(before)


def test_lock_wait_is_bounded(cache: TokenCache) -> None:
    holder = hold_lock(os.path.join(cache.folder, KEY.digest + ".lock"))
    try:
        quick = TokenCache(cache.folder, lock_timeout=0.2)
        with quick.lock(KEY) as waited:
            assert waited is None
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_holder_is_free_at_once(cache: TokenCache) -> None:
    holder = hold_lock(os.path.join(cache.folder, KEY.digest + ".lock"))
    holder.kill()  # SIGKILL on POSIX
    holder.wait()
    patient = TokenCache(cache.folder, lock_timeout=30)
    with patient.lock(KEY) as waited:
        assert waited is not None  # had, not given up on
        assert waited < 15  # at once: a live holder would have kept it for the whole 30 s


# The Windows ways: os without the calls a Windows Python lacks ------------------------------------


@pytest.fixture
def windows_cache(without_posix_calls: Path) -> TokenCache:
    folder = without_posix_calls / "cache"
    assert prepare_folder(str(folder)) == ""
    return TokenCache(str(folder), lock_timeout=5)


@posix_only("user ids and mode bits")
def test_posix_owner_and_mode_are_checked(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    assert cache_module.open_to_others(tmp_path.stat())
    tmp_path.chmod(0o700)
    assert not cache_module.open_to_others(tmp_path.stat())
    assert cache_module.owned_by_me(tmp_path.stat())
    assert not cache_module.owned_by_me(SimpleNamespace(st_uid=os.getuid() + 1))


def test_without_user_ids_owner_and_mode_are_left_to_the_folder_acl(without_posix_calls: Path) -> None:
    anyone = SimpleNamespace(st_uid=12345, st_mode=stat.S_IFDIR | 0o777)
    assert cache_module.owned_by_me(anyone)
    assert not cache_module.open_to_others(anyone)
    folder = without_posix_calls / "open"
    folder.mkdir()
    folder.chmod(0o755)  # what os.stat reports on Windows for any folder
    assert prepare_folder(str(folder)) == ""


def test_cache_works_without_posix_calls(windows_cache: TokenCache) -> None:
    assert windows_cache.load(KEY).reason == "none"
    windows_cache.store(KEY, TOKEN, SECRET)
    assert token_in(windows_cache, KEY) == TOKEN
    assert [entry.token for _, entry in windows_cache.entries()] == [TOKEN]
    assert windows_cache.discard(KEY, TOKEN.access_token)
    assert windows_cache.load(KEY).reason == "none"


def test_symlink_is_not_followed_without_o_nofollow(windows_cache: TokenCache, tmp_path: Path) -> None:
    target = tmp_path / "precious.json"
    TokenCache(str(tmp_path), 5).store(KEY, TOKEN, SECRET)  # a valid entry: following the link would use it
    os.replace(tmp_path / f"{KEY.digest}.json", target)
    os.symlink(target, windows_cache.path(KEY))
    assert windows_cache.load(KEY).reason == "unreadable"
    with pytest.raises(OSError, match="a symlink or reparse point, not followed") as raised:
        cache_module.open_for_reading(windows_cache.path(KEY))
    assert (raised.value.errno, raised.value.strerror, raised.value.filename) == (
        errno.ELOOP,
        "a symlink or reparse point, not followed",
        windows_cache.path(KEY),
    )
    windows_cache.store(KEY, Token("tok-new", NOW, NOW + 3600), SECRET)
    assert not os.path.islink(windows_cache.path(KEY))
    assert json.loads(target.read_text())["token"] == "tok-abc"
    assert token_in(windows_cache, KEY) == Token("tok-new", NOW, NOW + 3600)


def test_reparse_point_is_a_symlink(
    windows_cache: TokenCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reparse = stat.FILE_ATTRIBUTE_REPARSE_POINT
    assert cache_module.is_link(SimpleNamespace(st_mode=stat.S_IFREG, st_file_attributes=reparse))
    assert cache_module.is_link(
        SimpleNamespace(st_mode=stat.S_IFDIR, st_file_attributes=reparse)
    )  # a junction
    assert not cache_module.is_link(SimpleNamespace(st_mode=stat.S_IFREG, st_file_attributes=0))

    windows_cache.store(KEY, TOKEN, SECRET)
    real_lstat = os.lstat

    def lstat_as_windows(path: str) -> object:
        info = real_lstat(path)
        return SimpleNamespace(
            st_mode=info.st_mode, st_dev=info.st_dev, st_ino=info.st_ino, st_file_attributes=reparse
        )

    monkeypatch.setattr(os, "lstat", lstat_as_windows)
    assert windows_cache.load(KEY).reason == "unreadable"


def test_a_file_swapped_while_it_is_opened_is_refused(
    windows_cache: TokenCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    windows_cache.store(KEY, TOKEN, SECRET)
    other = tmp_path / "other"
    other.write_text("")
    real_lstat = os.lstat
    # What lstat saw is not what open then opened, as when a link is swapped in between.
    monkeypatch.setattr(os, "lstat", lambda path: real_lstat(other))
    with pytest.raises(OSError, match="replaced while it was opened, not followed") as raised:
        cache_module.open_for_reading(windows_cache.path(KEY))
    assert (raised.value.errno, raised.value.strerror, raised.value.filename) == (
        errno.ELOOP,
        "replaced while it was opened, not followed",
        windows_cache.path(KEY),
    )
    assert windows_cache.load(KEY).reason == "unreadable"


def test_a_file_that_cannot_be_looked_at_once_opened_is_unreadable(windows_cache: TokenCache) -> None:
    windows_cache.store(KEY, TOKEN, SECRET)

    def failing_fstat(fd: int) -> os.stat_result:
        raise OSError(errno.EIO, "Input/output error")

    with pytest.MonkeyPatch.context() as patch:  # only around the load: pytest itself uses fstat
        patch.setattr(os, "fstat", failing_fstat)
        lookup = windows_cache.load(KEY)
    assert (lookup.entry, lookup.reason) == (None, "unreadable")


# A flag no platform's os.open uses, standing for Windows' O_BINARY, taken off before the real open.
BINARY = 1 << 30


@pytest.mark.parametrize("posix", [True, False], ids=["posix", "windows"])
def test_a_cache_file_is_opened_read_only_raw_never_through_a_link_and_never_waiting(
    posix: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """O_NOFOLLOW and O_NONBLOCK where POSIX has them; O_BINARY where Windows has it."""
    expected = os.O_RDONLY | BINARY | (os.O_NONBLOCK | os.O_NOFOLLOW if posix else 0)
    if not posix:
        for name in ("O_NOFOLLOW", "O_NONBLOCK"):
            monkeypatch.delattr(os, name)
    folder = tmp_path / "cache"
    assert prepare_folder(str(folder)) == ""
    cache = TokenCache(str(folder), 5)
    cache.store(KEY, TOKEN, SECRET)
    opened: list[int] = []
    real_open = os.open

    def recording_open(path: str, flags: int, *args: int) -> int:
        opened.append(flags)
        return real_open(path, flags & ~BINARY, *args)

    monkeypatch.setattr(os, "O_BINARY", BINARY, raising=False)
    monkeypatch.setattr(os, "open", recording_open)
    assert token_in(cache, KEY) == TOKEN
    assert opened == [expected]


# Any bytes in a cache file -----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> TokenCache:
    folder = tmp_path_factory.mktemp("properties-cache")
    folder.chmod(0o700)
    return TokenCache(str(folder), 1)


def valid_entry(token: str, expires_at: float) -> bytes:
    return entry_fields(token=token, expires_at=expires_at)


@given(
    st.binary(max_size=4096)
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.builds(valid_entry, st.text(), st.floats(allow_nan=True, allow_infinity=True))
    | st.builds(
        lambda data, cut: data[:cut],
        st.builds(valid_entry, st.just("tok"), st.just(NOW)),
        st.integers(0, 300),
    )
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_bytes_in_a_cache_file_are_a_token_or_a_miss(shared_cache: TokenCache, data: bytes) -> None:
    path = shared_cache.path(KEY)
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)
    lookup = shared_cache.load(KEY)
    if lookup.entry is None:
        assert lookup.reason == "corrupt"
    else:
        token = lookup.entry.token
        assert isinstance(token, Token)
        assert all("!" <= ch <= "~" for ch in token.access_token)
        assert token.expires_at is not None
        assert math.isfinite(token.expires_at)
        assert lookup.entry.fetched_with(SECRET)


def test_an_entry_of_64_kib_is_read_and_one_byte_more_is_not(cache: TokenCache) -> None:
    good = entry_fields()
    exactly = good[:-1] + b" " * (MAX_FILE_SIZE - len(good)) + b"}"  # padded with JSON whitespace
    assert len(exactly) == MAX_FILE_SIZE
    entry = planted(cache, exactly).entry
    assert entry is not None
    assert entry.token == Token("tok-abc", NOW, NOW + 3600, scope="read")
    lookup = planted(cache, exactly[:-1] + b" }")
    assert (lookup.entry, lookup.reason) == (None, "corrupt")


def test_a_file_that_cannot_be_read_is_unreadable(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN, SECRET)

    def failing_read(fd: int, size: int) -> bytes:
        raise OSError(errno.EIO, "Input/output error")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "read", failing_read)
        lookup = cache.load(KEY)
    assert (lookup.entry, lookup.reason) == (None, "unreadable")


def test_an_entry_that_lives_longer_than_a_token_may_is_not_trusted(cache: TokenCache) -> None:
    """No token this package fetched lives more than a day: an entry that says so was not written by it."""
    cache.store(KEY, Token("tok-abc", NOW, NOW + MAX_LIFETIME), SECRET)
    assert token_in(cache, KEY) == Token("tok-abc", NOW, NOW + MAX_LIFETIME)
    cache.store(KEY, Token("tok-abc", NOW, NOW + MAX_LIFETIME + 1), SECRET)
    assert cache.load(KEY).reason == "corrupt"


# Which entries are trusted, field by field ----------------------------------------------------


def entry_fields(**changed: object) -> bytes:
    """The fields of a good entry for KEY, fetched with SECRET, with some changed."""
    fields: dict[str, object] = {
        "version": 2,
        "token": "tok-abc",
        "expires_at": NOW + 3600,
        "obtained_at": NOW,
        "granted_scope": "read",
        "token_url": KEY.token_url,
        "scope": KEY.scope,
        "client_id": KEY.client_id,
        "audience": "",
        "resource": "",
        "secret_salt": "00ff",
        "secret_check": secret_check("00ff", SECRET),
    }
    fields.update(changed)
    return json.dumps(fields).encode()


def planted(cache: TokenCache, data: bytes) -> Lookup:
    path = Path(cache.path(KEY))
    path.write_bytes(data)
    path.chmod(0o600)
    return cache.load(KEY)


def test_a_good_entry_is_read_whole(cache: TokenCache) -> None:
    entry = planted(cache, entry_fields()).entry
    assert entry is not None
    assert entry.token == Token("tok-abc", NOW, NOW + 3600, scope="read")
    assert entry.fetched_with(SECRET)


@pytest.mark.parametrize(
    "changed",
    [
        {"obtained_at": -1},
        {"obtained_at": True},
        {"obtained_at": "1800000000"},
        {"expires_at": 95_617_584_000.0},
        {"obtained_at": LATEST_TIME - 3600, "expires_at": LATEST_TIME},
        {"obtained_at": -0.5, "expires_at": 3600},
        {"expires_at": None},
        {"expires_at": [NOW]},
        {"secret_salt": ""},
        {"secret_salt": "zz"},
        {"secret_salt": ["00ff"]},
        {"secret_check": "A" * 64},
        {"secret_check": "0" * 65},
        {"secret_check": "é" * 8},
        {"client_id": 7},
        {"token": ""},
        {"token": "two words"},
    ],
)
def test_an_entry_with_any_field_out_of_shape_is_a_miss(
    cache: TokenCache, changed: dict[str, object]
) -> None:
    lookup = planted(cache, entry_fields(**changed))
    assert (lookup.entry, lookup.reason) == (None, "corrupt")


@pytest.mark.parametrize(
    "changed",
    [
        {"obtained_at": 0, "expires_at": 3600},  # 1970 is a time this package could write
        {"obtained_at": LATEST_TIME - 3600, "expires_at": LATEST_TIME - 1},
        {"secret_salt": "a", "secret_check": secret_check("a", SECRET)},
        {"secret_salt": "f" * 64, "secret_check": secret_check("f" * 64, SECRET)},
    ],
)
def test_an_entry_at_the_edges_of_each_field_is_read(cache: TokenCache, changed: dict[str, object]) -> None:
    fields = json.loads(entry_fields(**changed))
    entry = planted(cache, entry_fields(**changed)).entry
    assert entry is not None
    assert entry.token == Token("tok-abc", fields["obtained_at"], fields["expires_at"], scope="read")
    assert entry.fetched_with(SECRET)


@pytest.mark.parametrize("scope", [7, None, ["read"], {"read": True}])
def test_a_granted_scope_that_is_not_text_is_kept_as_unknown(cache: TokenCache, scope: object) -> None:
    entry = planted(cache, entry_fields(granted_scope=scope)).entry
    assert entry is not None
    assert entry.token.scope is None


def test_only_files_named_as_entries_are_listed(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN, SECRET)
    good = Path(cache.path(KEY))
    for name in (f"{KEY.digest}-copy.json", "g" * 64 + ".json", KEY.digest[:63] + ".json", "x" * 69):
        (good.parent / name).write_bytes(good.read_bytes())
        (good.parent / name).chmod(0o600)
    assert [path for path, _ in cache.entries()] == [str(good)]


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_leftovers_are_only_files_of_ours_that_no_call_reads(cache: TokenCache) -> None:
    """A killed writer's temp file, or an entry of an earlier format: owner-only and begun as store begins."""
    folder = Path(cache.folder)
    cache.store(KEY, TOKEN, SECRET)  # a current entry: read, so not a leftover
    half = entry_fields()[:50]  # what a writer killed mid-write leaves

    def plant(name: str, data: bytes, mode: int = 0o600) -> Path:
        path = folder / name
        path.write_bytes(data)
        path.chmod(mode)
        return path

    killed = plant(".tmp-k1ll3d_1.json", half)
    older = plant("a" * 64 + ".json", entry_fields(version=1))
    plant(".tmp-open.json", half, 0o640)  # not owner-only: not ours to remove
    plant("b" * 64 + ".json", entry_fields(version=1), 0o604)
    plant(".tmp-notes.json", b"my own notes")  # does not begin as an entry
    plant("c" * 64 + ".json", b"[1, 2]")
    plant(".TMP-upper.JSON", half)  # named as no temp file of ours is
    plant("tmp-nodot.json", half)
    assert cache.leftovers() == sorted([str(killed), str(older)])


def test_discard_says_so_when_the_file_cannot_be_removed(
    cache: TokenCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.store(KEY, TOKEN, SECRET)

    def refuse(path: str) -> None:
        raise PermissionError(13, "read-only file system", path)

    monkeypatch.setattr(os, "unlink", refuse)
    assert not cache.discard(KEY, TOKEN.access_token)


def test_an_entry_is_written_beside_its_file_then_renamed_into_place(
    cache: TokenCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temp file is in the cache folder (an atomic rename) and named as leftovers() knows it."""
    renamed: list[tuple[str, str]] = []
    real_replace = os.replace

    def record(source: str, target: str) -> None:
        renamed.append((source, target))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", record)
    cache.store(KEY, TOKEN, SECRET)
    ((source, target),) = renamed
    assert target == cache.path(KEY)
    assert os.path.dirname(source) == cache.folder
    assert re.fullmatch(r"\.tmp-\w+\.json", os.path.basename(source))
