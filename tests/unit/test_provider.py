"""The one path to a token, against the fake Trulioo on 127.0.0.1 with an injected clock.

Above all: a fresh cached token is sent without reading a secret that costs something to read
(a profile's secret_cmd, the OS keyring, a prompt), and a secret at hand that is not the one
that fetched the cached token never gets it.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_trulioo import FakeTrulioo, RunningServer
from helpers import CLIENT_ID, CLIENT_SECRET, Clock, MemoryKeyring, command, context_of, posix_only

from httpie_trulioo.credentials import Credentials, choose
from httpie_trulioo.errors import ConfigurationError, TokenRequestFailed
from httpie_trulioo.provider import LOCK_GRACE, OFFLINE_PLACEHOLDER, Provider
from httpie_trulioo.secret_sources import KEYRING_SERVICE, keyring_user
from httpie_trulioo.token import VALID, Token, fingerprint


@pytest.fixture
def fake(clock: Clock) -> FakeTrulioo:
    """The fake Trulioo on the test's clock."""
    return FakeTrulioo(clock=clock)


def environ(server: RunningServer, cache_dir: Path, **more: str) -> dict[str, str]:
    return {"TRULIOO_TOKEN_URL": server.token_url, "TRULIOO_CACHE_DIR": str(cache_dir), **more}


def provider(
    env: dict[str, str], clock: Callable[[], float], *, profile: str | None = None, **kwargs: object
) -> Provider:
    """A provider as one call makes it: a new one per call, as each http process does."""
    return Provider(Credentials(choose(env, profile=profile), **kwargs), clock)  # type: ignore[arg-type]


def profiles_file(tmp_path: Path, server: RunningServer, **keys: str) -> Path:
    path = tmp_path / "config.toml"
    body = "".join(f"{key} = {json.dumps(value)}\n" for key, value in keys.items())
    path.write_text(f'[profiles.p]\nclient_id = "{CLIENT_ID}"\ntoken_url = "{server.token_url}"\n{body}')
    path.chmod(0o600)
    return path


def counting_command(counter: Path) -> str:
    """A secret_cmd that prints the demo secret and adds a line to ``counter`` each time it runs."""
    code = f"open({str(counter)!r}, 'a').write('ran\\n'); print({CLIENT_SECRET!r})"
    return command(code)


def runs(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The package's log lines, in order, with each count of milliseconds written as N."""
    return [
        re.sub(r"\b\d+ ms\b", "N ms", record.getMessage())
        for record in caplog.records
        if record.name == "httpie_trulioo"
    ]


@pytest.fixture
def counted(server: RunningServer, cache_dir: Path, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose profile p gets its secret from a secret_cmd that counts its runs in a file."""
    counter = tmp_path / "runs"
    path = profiles_file(tmp_path, server, secret_cmd=counting_command(counter))
    return environ(server, cache_dir, TRULIOO_CONFIG_FILE=str(path)), counter


@posix_only("a secret_cmd quoted for a POSIX shell")
def test_a_warm_call_runs_no_secret_cmd(
    server: RunningServer, clock: Clock, counted: tuple[dict[str, str], Path]
) -> None:
    env, counter = counted
    tokens = {provider(env, clock, profile="p").token()[0].access_token for _ in range(3)}
    assert len(tokens) == 1
    assert (runs(counter), server.fake.token_requests) == (1, 1)  # 3 calls, 1 token, 1 run
    clock.now += 3600  # expired: a token must be fetched, and only then is the secret read
    provider(env, clock, profile="p").token()
    assert (runs(counter), server.fake.token_requests) == (2, 2)


@posix_only("a secret_cmd quoted for a POSIX shell")
def test_a_401_reads_the_secret_that_a_warm_call_did_not(
    clock: Clock, counted: tuple[dict[str, str], Path]
) -> None:
    env, counter = counted
    first, _ = provider(env, clock, profile="p").token()
    warm = provider(env, clock, profile="p")
    assert warm.token() == (first, True)
    assert runs(counter) == 1
    second, from_cache = warm.token(rejected=first.access_token)
    assert (second != first, from_cache, runs(counter)) == (True, False, 2)


def test_a_warm_call_reads_no_keyring(
    server: RunningServer, cache_dir: Path, clock: Clock, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(KEYRING_SERVICE, keyring_user(server.token_url, CLIENT_ID), CLIENT_SECRET)
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID)
    for _ in range(3):
        provider(env, clock).token()
    assert (memory_keyring.reads, server.fake.token_requests) == (1, 1)


def test_a_warm_call_asks_no_one(server: RunningServer, cache_dir: Path, clock: Clock) -> None:
    asked: list[str] = []

    def prompt(client_id: str, token_url: str) -> str:
        asked.append(client_id)
        return CLIENT_SECRET

    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID)
    for _ in range(3):
        provider(env, clock, prompt=prompt).token()
    assert (asked, server.fake.token_requests) == ([CLIENT_ID], 1)


def test_offline_reads_no_secret_and_sends_no_request(
    server: RunningServer, cache_dir: Path, clock: Clock, memory_keyring: MemoryKeyring
) -> None:
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID)
    assert provider(env, clock).offline_token() == OFFLINE_PLACEHOLDER
    memory_keyring.set_password(KEYRING_SERVICE, keyring_user(server.token_url, CLIENT_ID), CLIENT_SECRET)
    token, _ = provider(env, clock).token()
    reads = memory_keyring.reads
    assert provider(env, clock).offline_token() == token.access_token
    assert (memory_keyring.reads, server.fake.token_requests) == (reads, 1)


def test_a_changed_secret_at_hand_is_a_miss_and_gets_a_new_token(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    server.fake.clients["other-secret-client"] = "unused"
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID)
    first, _ = provider(env, clock, client_secret=CLIENT_SECRET).token()
    caplog.set_level(logging.INFO, logger="httpie_trulioo")
    with pytest.raises(Exception, match="invalid_client"):
        provider(env, clock, client_secret="not-the-secret").token()
    assert "cache miss (fetched with another secret)" in caplog.text
    assert server.fake.token_requests == 2  # the wrong secret was sent, and refused
    again, from_cache = provider(env, clock, client_secret=CLIENT_SECRET).token()
    assert (again, from_cache) == (first, True)  # the entry was not replaced by a refusal


@pytest.mark.parametrize("where", ["TRULIOO_CLIENT_SECRET", "secret_env"])
def test_a_secret_from_a_variable_is_checked_against_the_entry(
    where: str, server: RunningServer, cache_dir: Path, clock: Clock, tmp_path: Path
) -> None:
    """Variables cost nothing to read: a secret in one must be the one that fetched the token."""
    path = profiles_file(tmp_path, server, secret_env="P_SECRET")
    env = environ(server, cache_dir, TRULIOO_CONFIG_FILE=str(path))
    variable, profile = (
        ("TRULIOO_CLIENT_SECRET", None) if where == "TRULIOO_CLIENT_SECRET" else ("P_SECRET", "p")
    )
    if profile is None:
        env["TRULIOO_CLIENT_ID"] = CLIENT_ID
    provider({**env, variable: CLIENT_SECRET}, clock, profile=profile).token()
    with pytest.raises(Exception, match="invalid_client"):
        provider({**env, variable: "wrong"}, clock, profile=profile).token()
    assert server.fake.token_requests == 2


def test_without_a_client_id_nothing_is_looked_up(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    with pytest.raises(ConfigurationError, match=r"^no client id"):
        provider(environ(server, cache_dir), clock)


def test_min_ttl_and_renew_take_the_same_path(server: RunningServer, cache_dir: Path, clock: Clock) -> None:
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    first, _ = provider(env, clock).token()
    assert provider(env, clock).token(min_ttl=3000) == (first, True)
    clock.now += 1000  # 2599 s left
    second, from_cache = provider(env, clock).token(min_ttl=3000)
    assert (second != first, from_cache) == (True, False)
    third, from_cache = provider(env, clock).token(renew=True)
    assert (third != second, from_cache, server.fake.token_requests) == (True, False, 3)
    assert provider(env, clock).token() == (third, True)


# What a warm call imports: none of what only a miss needs. Run in a fresh process with the
# cache warmed by the test; argv: token URL, cache folder, profiles file.
WARM_IMPORTS = textwrap.dedent(
    """
    import sys, requests, httpie.core
    from httpie.plugins.registry import plugin_manager
    plugin_manager.load_installed_plugins()
    before = set(sys.modules)
    auth = plugin_manager.get_auth_plugin("trulioo")().get_auth(*sys.argv[1].split(":", 1))
    prepared = auth(requests.Request("GET", "http://127.0.0.1:9/x").prepare())
    assert prepared.headers["Authorization"].startswith("Bearer ey"), prepared.headers
    print(" ".join(sorted(set(sys.modules) - before)))
    """
)


@pytest.mark.parametrize("credentials", ["--auth", "@profile"])
def test_a_warm_hit_imports_nothing_that_only_a_miss_needs(
    credentials: str, cache_dir: Path, tmp_path: Path
) -> None:
    with RunningServer(FakeTrulioo()) as server:  # the real clock: the warm process reads it too
        path = profiles_file(tmp_path, server, secret_env="P_SECRET")
        env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("TRULIOO_")},
            **environ(server, cache_dir, TRULIOO_CONFIG_FILE=str(path), P_SECRET=CLIENT_SECRET),
        }
        provider(env, time.time, profile="p").token()  # the same key for both ways of calling
    auth = f"{CLIENT_ID}:{CLIENT_SECRET}" if credentials == "--auth" else "@p"
    loaded = subprocess.run(
        [sys.executable, "-c", WARM_IMPORTS, auth],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert loaded.returncode == 0, loaded.stderr
    imported = set(loaded.stdout.split())
    never = {"jwt", "filelock", "keyring", "platformdirs", "urllib3", "charset_normalizer", "idna"}
    miss_only = {
        "httpie_trulioo.endpoint",
        "httpie_trulioo.secret_sources",
        "httpie_trulioo.secret_echo",
        "httpie_trulioo.errors",
        "subprocess",
        "getpass",
        "tempfile",
    }
    assert {name.split(".")[0] for name in imported} & never == set()
    assert imported & miss_only == set()
    assert ("tomllib" in imported) is (credentials == "@profile")  # a profile is read from its file
    assert "httpie_trulioo.provider" in imported  # the one path, not a second copy of it


def test_a_caller_with_no_way_to_give_a_secret_gets_no_cached_token(
    server: RunningServer, cache_dir: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No secret at hand, no secret_cmd, no keyring package, no prompt: no cached token for this caller."""
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID)
    provider({**env, "TRULIOO_CLIENT_SECRET": CLIENT_SECRET}, clock).token()
    monkeypatch.setitem(sys.modules, "keyring", None)  # as if the keyring extra were not installed
    nobody = provider(env, clock)
    assert nobody.cached()[1] == "no secret to fetch a token with"
    with pytest.raises(ConfigurationError, match=r"^no client secret for client 'demo-client'"):
        nobody.token()
    assert nobody.offline_token() == OFFLINE_PLACEHOLDER
    assert server.fake.token_requests == 1


def test_an_empty_secret_passed_is_compared_not_skipped(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID)
    provider(env, clock, client_secret=CLIENT_SECRET).token()
    empty = provider(env, clock, client_secret="")
    assert empty.cached()[1] == "fetched with another secret"
    with pytest.raises(Exception, match="invalid_client"):
        empty.token()


@pytest.mark.parametrize("where", ["TRULIOO_CLIENT_SECRET", "argument"])
def test_a_secret_that_is_not_utf8_is_one_line_naming_where_it_came_from(
    where: str, server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    undecodable = "s3cret\udcff"  # what os.environ holds for a byte that is not UTF-8
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID)
    if where == "argument":
        make = lambda: provider(env, clock, client_secret=undecodable)  # noqa: E731
    else:
        make = lambda: provider({**env, "TRULIOO_CLIENT_SECRET": undecodable}, clock)  # noqa: E731
    with pytest.raises(ConfigurationError) as caught:
        make()
    shown = "the argument" if where == "argument" else where
    assert str(caught.value) == f"the client secret from {shown} is not valid UTF-8: set it again."


# The lock, the second look, the 401, memory mode, the looking-only caller ---------------------


def test_a_miss_takes_the_lock_for_its_key(server: RunningServer, cache_dir: Path, clock: Clock) -> None:
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    miss = provider(env, clock)
    assert miss.cache is not None
    assert miss.cache.lock_timeout == miss.credentials.settings.timeout + LOCK_GRACE
    miss.token()
    assert (cache_dir / f"{miss.key.digest}.lock").exists()


def test_the_second_look_takes_what_another_process_fetched_meanwhile(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Between the first look and the lock, another process stores a token: this one uses it."""
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID)
    theirs = Token("from-another-process", clock.now, clock.now + 3600)

    def prompt(client_id: str, token_url: str) -> str:
        other = provider({**env, "TRULIOO_CLIENT_SECRET": CLIENT_SECRET}, clock)
        assert other.cache is not None
        other.cache.store(other.key, theirs, CLIENT_SECRET)
        return CLIENT_SECRET

    caplog.set_level(logging.INFO, logger="httpie_trulioo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "keyring", None)
        patch.setattr("httpie_trulioo.secret_sources.can_prompt", lambda: True)
        assert provider(env, clock, prompt=prompt).token() == (theirs, True)
    assert server.fake.token_requests == 0
    assert logged(caplog)[-1] == (
        f"{context_of(server)} cache hit: token …{fingerprint(theirs.access_token)} expires in 60 min"
    )


def test_a_rejected_token_leaves_the_cache_even_when_no_new_one_comes(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    first, _ = provider(env, clock).token()
    server.fake.clients.clear()  # the token endpoint now refuses this client
    again = provider(env, clock)
    with pytest.raises(Exception, match="invalid_client"):
        again.token(rejected=first.access_token)
    assert again.cached() == (None, "none")


def test_without_a_cache_one_provider_keeps_and_replaces_its_token(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    memory = provider({**env, "TRULIOO_CACHE": "off"}, clock)
    assert memory.cached() == (None, "none")
    first, _ = memory.token()
    caplog.set_level(logging.INFO, logger="httpie_trulioo")
    assert memory.token() == (first, True)
    second, from_cache = memory.token(rejected=first.access_token)
    assert (second != first, from_cache) == (True, False)
    assert not cache_dir.exists()
    assert logged(caplog)[0] == (
        f"{context_of(server)} memory hit: token …{fingerprint(first.access_token)} expires in 60 min"
    )


NO_EXPIRY = (
    "the token endpoint gave no expiry (no ExpiresIn, no JWT exp); the token is used for this call only."
)
EXPIRED_AT_ONCE = (
    "the token endpoint gave a token that has already expired (ExpiresIn of 0 or less, or a JWT exp "
    "in the past: is this machine's clock right?); it is used once, not cached."
)


@pytest.mark.parametrize(
    ("kind", "expires_in", "warning", "expiry"),
    [("opaque", None, NO_EXPIRY, ""), ("opaque", 0, EXPIRED_AT_ONCE, ", expires in 0 s")],
    ids=["no expiry", "expired at once"],
)
def test_a_token_with_no_expiry_is_used_but_never_kept(
    kind: str,
    expires_in: int | None,
    warning: str,
    expiry: str,
    *,
    server: RunningServer,
    cache_dir: Path,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.fake.token_kind, server.fake.expires_in = kind, expires_in
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    caplog.set_level(logging.INFO, logger="httpie_trulioo")
    for cache in ("on", "off"):
        kept = provider({**env, "TRULIOO_CACHE": cache}, clock)
        assert kept.token()[1] is False
        assert kept.token()[1] is False
    assert server.fake.token_requests == 4
    assert list(cache_dir.glob("*.json")) == []
    context = context_of(server)
    fetched = [line for line in logged(caplog) if " fetched in " in line]
    assert len(fetched) == 4
    assert all(
        re.fullmatch(rf"{re.escape(context)} token …[0-9a-f]{{6}} fetched in N ms{expiry}", line)
        for line in fetched
    )
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == [f"{context} {warning}"] * 4


def test_a_hit_is_logged_with_the_fingerprint_and_time_left(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    caplog.set_level(logging.INFO, logger="httpie_trulioo")
    assert provider(env, clock).offline_token() == OFFLINE_PLACEHOLDER
    token, _ = provider(env, clock).token()
    caplog.clear()
    provider(env, clock).token()
    provider(env, clock).offline_token()
    context = context_of(server)
    assert logged(caplog) == [
        f"{context} client secret from TRULIOO_CLIENT_SECRET",
        f"{context} cache hit: token …{fingerprint(token.access_token)} expires in 60 min",
        f"{context} client secret from TRULIOO_CLIENT_SECRET",
        f"{context} offline: cache hit: token …{fingerprint(token.access_token)} expires in 60 min",
    ]


def test_an_offline_preview_without_a_fresh_token_says_so(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    caplog.set_level(logging.INFO, logger="httpie_trulioo")
    assert provider(env, clock).offline_token() == OFFLINE_PLACEHOLDER
    context = context_of(server)
    assert logged(caplog) == [
        f"{context} client secret from TRULIOO_CLIENT_SECRET",
        f"{context} offline: no fresh token in the cache; showing a placeholder",
    ]
    assert server.fake.token_requests == 0


def test_a_miss_and_a_renewal_say_what_they_do_one_line_each(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """TRULIOO_LOG=debug: why a token is fetched, the lock wait, the token request and what it granted."""
    server.fake.token_delay = 0.01  # every fetch takes at least 10 ms
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    caplog.set_level(logging.DEBUG, logger="httpie_trulioo")
    first, _ = provider(env, clock).token()
    second, _ = provider(env, clock).token(renew=True)
    context = context_of(server)
    request = f"{context} POST {server.token_url} (client_secret_post): 200 in N ms"
    granted = f"{context} granted scope 'workflow.studio.api', expires in 60 min"
    assert logged(caplog) == [
        f"{context} client secret from TRULIOO_CLIENT_SECRET",
        f"{context} cache miss (none)",
        f"{context} lock waited N ms",
        request,
        granted,
        f"{context} token …{fingerprint(first.access_token)} fetched in N ms, expires in 60 min",
        f"{context} client secret from TRULIOO_CLIENT_SECRET",
        f"{context} getting a new token, as asked",
        f"{context} lock waited N ms",
        request,
        granted,
        f"{context} token …{fingerprint(second.access_token)} fetched in N ms, expires in 60 min",
    ]
    took = [int(ms) for ms in re.findall(r"fetched in (\d+) ms", caplog.text)]
    assert len(took) == 2
    assert all(10 <= ms < 60_000 for ms in took), took


def test_a_herd_of_callers_shares_one_token_request(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Callers that all miss at once queue on the file lock; each looks again, and one fetches for all."""
    herd = 6
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID)
    all_missed = threading.Barrier(herd)

    def prompt(client_id: str, token_url: str) -> str:
        all_missed.wait(timeout=30)  # asked for the secret: every caller is past its first look
        return CLIENT_SECRET

    got: list[tuple[Token, bool]] = []

    def call() -> None:
        got.append(provider(env, clock, prompt=prompt).token())

    caplog.set_level(logging.INFO, logger="httpie_trulioo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "keyring", None)
        patch.setattr("httpie_trulioo.secret_sources.can_prompt", lambda: True)
        callers = [threading.Thread(target=call) for _ in range(herd)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(timeout=60)
    assert server.fake.token_requests == 1
    assert len(got) == herd
    (token,) = {token for token, _ in got}
    assert sorted(from_cache for _, from_cache in got) == [False] + [True] * (herd - 1)
    hits = [line for line in logged(caplog) if " hit: " in line]
    assert hits == [
        f"{context_of(server)} cache hit: token …{fingerprint(token.access_token)} expires in 60 min"
    ] * (herd - 1)


def test_a_token_with_under_a_second_left_past_the_margin_is_still_a_hit(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    env = environ(
        server,
        cache_dir,
        TRULIOO_CLIENT_ID=CLIENT_ID,
        TRULIOO_CLIENT_SECRET=CLIENT_SECRET,
        TRULIOO_TOKEN_BUFFER="0",
    )
    token, _ = provider(env, clock).token()
    clock.now = (token.expires_at or 0) - 0.5
    assert provider(env, clock).token() == (token, True)
    assert provider(env, clock).cached() == (token, VALID)
    assert provider(env, clock).offline_token() == token.access_token
    clock.now = token.expires_at or 0  # expired: never sent, not even offline
    assert provider(env, clock).cached() == (token, "expired")
    assert provider(env, clock).offline_token() == OFFLINE_PLACEHOLDER
    fresh, from_cache = provider(env, clock).token()
    assert (fresh != token, from_cache, server.fake.token_requests) == (True, False, 2)


def test_a_caller_that_only_looks_creates_no_folder_and_trusts_no_open_one(
    server: RunningServer, cache_dir: Path, clock: Clock
) -> None:
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    looking = Provider(Credentials(choose(env)), clock, look_only=True)
    assert looking.cached() == (None, "none")
    assert not cache_dir.exists()
    provider(env, clock).token()
    cache_dir.chmod(0o770)
    assert Provider(Credentials(choose(env)), clock, look_only=True).cache is None


@pytest.mark.parametrize(
    ("refusal", "shown"),
    [(OSError(errno.ENOSPC, "No space left on device"), "No space left on device"), (OSError(), "OSError")],
    ids=["full disk", "no description"],
)
def test_a_cache_that_cannot_be_written_still_gives_the_token_and_says_so(
    refusal: OSError,
    shown: str,
    *,
    server: RunningServer,
    cache_dir: Path,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)

    def refuse(fd: int) -> None:
        raise refusal

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fsync", refuse)  # the disk refuses the write, as a full one does
        token, from_cache = provider(env, clock).token()
    assert (token.access_token.startswith("ey"), from_cache) == (True, False)
    assert os.listdir(cache_dir) == [f"{provider(env, clock).key.digest}.lock"]  # no entry, no temp file
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == [
        (
            f"{context_of(server)} could not write the token cache in {cache_dir} ({shown}); "
            "the token is used but not kept."
        )
    ]


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_a_cache_folder_open_to_others_is_not_used_and_one_warning_says_why(
    server: RunningServer, cache_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    cache_dir.mkdir(mode=0o700)
    cache_dir.chmod(0o750)
    env = environ(server, cache_dir, TRULIOO_CLIENT_ID=CLIENT_ID, TRULIOO_CLIENT_SECRET=CLIENT_SECRET)
    unused = provider(env, clock)
    assert unused.cache is None
    assert unused.token()[1] is False
    assert unused.token()[1] is True  # kept in memory instead
    assert os.listdir(cache_dir) == []
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == [
        (
            f"the cache folder {cache_dir} is open to other users (run: chmod 700 '{cache_dir}'); "
            "going on without a token cache."
        )
    ]


@pytest.mark.parametrize("where", ["variable", "profile"])
def test_a_default_lifetime_keeps_a_token_the_server_gave_no_expiry_for_that_long(
    where: str,
    *,
    server: RunningServer,
    cache_dir: Path,
    clock: Clock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """TRULIOO_DEFAULT_LIFETIME: kept in the cache like any token, with no warning; a warm call reads it."""
    server.fake.token_kind, server.fake.expires_in = "opaque", None
    profile = None
    if where == "variable":
        env = environ(
            server,
            cache_dir,
            TRULIOO_CLIENT_ID=CLIENT_ID,
            TRULIOO_CLIENT_SECRET=CLIENT_SECRET,
            TRULIOO_DEFAULT_LIFETIME="600",
        )
    else:
        path = profiles_file(tmp_path, server, secret_env="P_SECRET", default_lifetime="600")
        env = environ(server, cache_dir, TRULIOO_CONFIG_FILE=str(path), P_SECRET=CLIENT_SECRET)
        profile = "p"
    caplog.set_level(logging.INFO, logger="httpie_trulioo")
    first, cached = provider(env, clock, profile=profile).token()
    assert (cached, first.expires_at) == (False, clock.now + 600)
    clock.now += 600 - 60 - 0.5  # just inside the refresh margin: TRULIOO_TOKEN_BUFFER, 60 s
    assert provider(env, clock, profile=profile).token() == (first, True)
    clock.now += 0.5
    renewed, cached = provider(env, clock, profile=profile).token()
    assert (cached, renewed.expires_at) == (False, clock.now + 600)
    assert server.fake.token_requests == 2
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []
    assert logged(caplog)[-1].endswith("fetched in N ms, expires in 10 min")


def test_a_refusal_names_the_profile_line_that_set_what_the_server_refused(
    server: RunningServer, cache_dir: Path, tmp_path: Path, clock: Clock
) -> None:
    path = profiles_file(tmp_path, server, scope="no.such.scope", secret_env="P_SECRET")
    env = {**environ(server, cache_dir), "TRULIOO_CONFIG_FILE": str(path), "P_SECRET": CLIENT_SECRET}
    env.pop("TRULIOO_TOKEN_URL")  # the profile's own token URL, which its secret may go to
    with pytest.raises(TokenRequestFailed) as caught:
        provider(env, clock, profile="p").token()
    assert str(caught.value).startswith(
        f"the token endpoint answered 400 invalid_scope (fake-trulioo: invalid_scope): check scope in "
        f"profile p ({path}:4): this client may not be allowed the scope asked for (an empty "
        "TRULIOO_SCOPE asks for none)."
    )
    assert str(caught.value).endswith(f" [profile p, client {CLIENT_ID} @ {server.token_url}]")
