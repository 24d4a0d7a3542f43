"""The cache against real files: owner-only, atomic, and every bad file a miss."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import posix_only
from harness import hold_lock

from httpie_trulioo.cache import CacheKey, TokenCache, prepare_folder
from httpie_trulioo.token import Token

NOW = 1_800_000_000.0
KEY = CacheKey.build("https://auth.example/connect/token", "workflow.studio.api", "client-1", "s3cret-VALUE")
TOKEN = Token("tok-abc", obtained_at=NOW, expires_at=NOW + 3600)


@pytest.fixture
def cache(tmp_path: Path) -> TokenCache:
    folder = tmp_path / "cache"
    assert prepare_folder(str(folder)) == ""
    return TokenCache(str(folder), lock_timeout=5)


def test_key_depends_on_every_field_and_the_secret() -> None:
    base = ("https://auth.example/connect/token", "workflow.studio.api", "client-1", "s3cret-VALUE")
    digests = {CacheKey.build(*base).digest}
    for index, other in enumerate(("https://other/connect/token", "napi.api", "client-2", "wrong")):
        changed = list(base)
        changed[index] = other
        digests.add(CacheKey.build(*changed).digest)
    assert len(digests) == 5


def test_audience_and_resource_are_part_of_the_key() -> None:
    base = ("https://auth.example/connect/token", "workflow.studio.api", "client-1", "s3cret-VALUE")
    digests = {
        CacheKey.build(*base, audience=audience, resource=resource).digest
        for audience, resource in (("", ""), ("a", ""), ("", "a"), ("a", "b"), ("b", "a"))
    }
    assert len(digests) == 5


def test_a_key_without_audience_or_resource_names_the_file_it_named_before_them() -> None:
    # The digest of KEY as the first release computed it: its cached tokens stay valid on upgrade.
    assert KEY.digest == "70a63f1c35398c840423ca87cc1726a0ad8995d906064da090af941ee4b10f23"


def test_an_entry_written_before_granted_scope_audience_and_resource_is_read(cache: TokenCache) -> None:
    old = {
        "version": 1,
        "token": "tok-abc",
        "expires_at": NOW + 3600,
        "obtained_at": NOW,
        "token_url": KEY.token_url,
        "scope": KEY.scope,
        "client_id": KEY.client_id,
    }
    Path(cache.path(KEY)).write_text(json.dumps(old))
    os.chmod(cache.path(KEY), 0o600)
    assert cache.load(KEY).token == Token("tok-abc", NOW, NOW + 3600, scope=None)


def test_the_granted_scope_is_kept_and_the_audience_and_resource_must_match(cache: TokenCache) -> None:
    key = CacheKey.build(*KEY[:3], "s3cret-VALUE", audience="https://api.example/", resource="urn:r")
    cache.store(key, TOKEN._replace(scope="read"))
    assert cache.load(key).token == Token("tok-abc", NOW, NOW + 3600, scope="read")
    (entry,) = [entry for _, entry in cache.entries()]
    assert entry is not None
    assert (entry.audience, entry.resource, entry.token.scope) == ("https://api.example/", "urn:r", "read")
    # A file whose fields do not match the key that named it is not trusted.
    assert cache.load(key._replace(audience="other")).reason == "corrupt"
    assert cache.load(key._replace(resource="")).reason == "corrupt"


def test_key_does_not_hold_the_secret() -> None:
    assert "s3cret-VALUE" not in repr(KEY)


def test_store_then_load(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN)
    assert cache.load(KEY).token == Token("tok-abc", NOW, NOW + 3600)


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_files_are_owner_only(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN)
    assert os.stat(cache.folder).st_mode & 0o777 == 0o700
    assert os.stat(cache.path(KEY)).st_mode & 0o777 == 0o600


def test_file_holds_only_the_token_and_non_secret_fields(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN)
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
    }
    assert "s3cret-VALUE" not in Path(cache.path(KEY)).read_text()


def test_missing_entry_is_a_miss(cache: TokenCache) -> None:
    assert cache.load(KEY).token is None
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
        b"\xff\xfe garbage",
        b"[" * 100_000,
    ],
)
def test_corrupt_or_foreign_file_is_a_miss(cache: TokenCache, content: bytes) -> None:
    path = Path(cache.path(KEY))
    path.write_bytes(content)
    path.chmod(0o600)
    lookup = cache.load(KEY)
    assert (lookup.token, lookup.reason) == (None, "corrupt")


def test_truncated_file_is_a_miss(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN)
    path = Path(cache.path(KEY))
    path.write_bytes(path.read_bytes()[:40])
    assert cache.load(KEY).reason == "corrupt"


def test_entry_of_other_credentials_is_a_miss(cache: TokenCache) -> None:
    other = CacheKey.build("https://auth.example/connect/token", "napi.api", "client-1", "s3cret-VALUE")
    cache.store(other, TOKEN)
    os.replace(cache.path(other), cache.path(KEY))
    assert cache.load(KEY).reason == "corrupt"


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_file_readable_by_others_is_not_trusted_and_is_replaced(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN)
    Path(cache.path(KEY)).chmod(0o644)
    assert cache.load(KEY).reason == "insecure"
    cache.store(KEY, TOKEN)
    assert os.stat(cache.path(KEY)).st_mode & 0o777 == 0o600
    assert cache.load(KEY).token == TOKEN


@posix_only("creating a symlink, which Windows allows only to administrators or in Developer Mode")
def test_symlink_is_never_followed(cache: TokenCache, tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    target.chmod(0o600)
    os.symlink(target, cache.path(KEY))
    assert cache.load(KEY).reason == "unreadable"
    cache.store(KEY, TOKEN)
    assert target.read_text() == "keep me"
    assert not os.path.islink(cache.path(KEY))
    assert cache.load(KEY).token == TOKEN


@posix_only("os.mkfifo")
def test_fifo_does_not_block(cache: TokenCache) -> None:
    os.mkfifo(cache.path(KEY), 0o600)
    assert cache.load(KEY).reason == "insecure"


def test_discard_only_removes_the_rejected_token(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN)
    assert not cache.discard(KEY, "another-token")
    assert cache.load(KEY).token == TOKEN
    assert cache.discard(KEY, "tok-abc")
    assert cache.load(KEY).token is None


FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    from httpie_trulioo.cache import CacheKey, TokenCache
    from httpie_trulioo.token import Token
    # The file size limit makes every write past 16 bytes fail, as a full disk would.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16, 16))
    url = "https://auth.example/connect/token"
    key = CacheKey.build(url, "workflow.studio.api", "client-1", "s3cret-VALUE")
    try:
        TokenCache(sys.argv[1], 5).store(key, Token("new-token", 1.0, 2.0))
    except OSError as exc:
        print("refused", exc.errno)
    """
)


@posix_only("a file size limit (RLIMIT_FSIZE) that acts as a full disk")
def test_failed_write_leaves_the_old_entry_and_no_temp_file(cache: TokenCache) -> None:
    cache.store(KEY, TOKEN)
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, cache.folder], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("refused")
    assert cache.load(KEY).token == TOKEN
    assert sorted(os.listdir(cache.folder)) == [KEY.digest + ".json"]


def test_folder_that_is_a_file_is_unusable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert "cannot create the cache folder" in prepare_folder(str(blocker))
    assert "cannot create the cache folder" in prepare_folder(str(blocker / "below"))


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_folder_open_to_others_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    assert "open to other users" in prepare_folder(str(folder))
    assert folder.stat().st_mode & 0o777 == 0o755


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_new_folder_is_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    assert prepare_folder(str(folder)) == ""
    assert folder.stat().st_mode & 0o777 == 0o700


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
    quick = TokenCache(cache.folder, lock_timeout=0.5)
    with quick.lock(KEY) as waited:
        assert waited is not None
        assert waited < 0.5
