"""Faults the plugin must survive: the call still works, or fails with one clear line, and
nothing cached is left corrupt. Real http processes, real files, real local servers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fake_trulioo import FakeTrulioo, RunningServer
from filelock import FileLock
from harness import find_http, hold_lock
from helpers import AUTH, CLIENT_ID, CLIENT_SECRET, context_of, posix_only, refusing_port, run_http, tls_fake

from httpie_trulioo import TokenEndpointUnreachable, TruliooAuth
from httpie_trulioo.cache import TokenKey

pytestmark = pytest.mark.e2e


def call(server: RunningServer, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return run_http(["-b", "-A", "trulioo", "-a", AUTH, *extra, server.url + "/x"], env)


def works(result: subprocess.CompletedProcess[str]) -> str:
    """The call succeeded; returns what it said on stderr (warnings)."""
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["path"] == "/x"
    return result.stderr


def fails_in_one_line(result: subprocess.CompletedProcess[str], start: str) -> str:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith(start), line
    assert CLIENT_SECRET not in result.stderr
    return line


def entry_file(cache_dir: Path, server: RunningServer) -> Path:
    key = TokenKey(server.token_url, "workflow.studio.api", CLIENT_ID)
    return cache_dir / f"{key.digest}.json"


def assert_good_entry(cache_dir: Path, server: RunningServer) -> None:
    path = entry_file(cache_dir, server)
    assert not path.is_symlink()
    if os.name == "posix":  # on Windows the mode bits do not show who may read it
        assert path.stat().st_mode & 0o777 == 0o600
    entry = json.loads(path.read_text())
    assert entry["token"] in server.fake.issued


# --- the token endpoint ---------------------------------------------------------------------------


def answer(status: int, body: bytes, content_type: str = "application/json") -> object:
    return lambda: (status, {"Content-Type": content_type}, body)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (500, b'{"message": "boom"}', "TokenRequestFailed: the token endpoint answered 500"),
        (
            502,
            b"<html><h1>502 Bad Gateway</h1></html>",
            "TokenRequestFailed: the token endpoint answered 502",
        ),
        (
            200,
            b"{not json",
            "InvalidTokenResponse: the token endpoint answered 200, but the body is not JSON",
        ),
        (
            200,
            b'{"TokenType": "bearer"}',
            "InvalidTokenResponse: the token endpoint answered 200 without a token",
        ),
        (
            200,
            b" " * (3 << 20),
            "InvalidTokenResponse: the token endpoint answered 200 with a body larger than 1 MiB",
        ),
    ],
    # Short names: pytest 8.0 puts a value's full text in the test id, and so in the
    # PYTEST_CURRENT_TEST variable every child process inherits; 3 MiB of it is too large to start one.
    ids=["500", "502-html", "not-json", "no-token", "3-MiB-body"],
)
def test_token_endpoint_failures(
    server: RunningServer,
    http_env: dict[str, str],
    cache_dir: Path,
    *,
    status: int,
    body: bytes,
    expected: str,
) -> None:
    server.fake.token_override = answer(status, body)  # type: ignore[assignment]
    fails_in_one_line(call(server, http_env), "http: error: " + expected)
    assert not list(cache_dir.glob("*.json"))


def test_connection_refused(server: RunningServer, http_env: dict[str, str]) -> None:
    with refusing_port() as port:
        http_env["TRULIOO_TOKEN_URL"] = f"http://127.0.0.1:{port}/connect/token"
        refused = call(server, http_env)
    fails_in_one_line(refused, "http: error: TokenEndpointUnreachable: could not reach the token endpoint")


def test_dns_failure(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Resolving a real name would ask a DNS server off this machine; the resolver's failure is
    # injected instead, and everything above it (requests, urllib3, the plugin) runs for real.
    def no_such_host(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    auth = TruliooAuth(
        CLIENT_ID,
        CLIENT_SECRET,
        token_url="https://auth-api.trulioo.invalid/connect/token",
        cache_dir=str(cache_dir),
    )
    with pytest.raises(TokenEndpointUnreachable, match="its host name could not be resolved"):
        auth(requests.Request("GET", "https://api.trulioo.com/x").prepare())  # never sent: no token


def test_tls_error(server: RunningServer, http_env: dict[str, str]) -> None:
    # https:// to a server that speaks plain HTTP: the handshake fails, as it would on a
    # certificate that is not trusted.
    http_env["TRULIOO_TOKEN_URL"] = server.token_url.replace("http://", "https://")
    line = fails_in_one_line(call(server, http_env), "http: error: TokenEndpointUnreachable:")
    assert "the TLS handshake failed" in line


@pytest.fixture
def tls_token_endpoint(fake: FakeTrulioo) -> Iterator[tuple[RunningServer, Path]]:
    """The same fake Trulioo over TLS, certified by a throwaway CA; yields it and the CA file."""
    with tls_fake(fake) as running:
        yield running


def test_tls_with_a_certificate_not_trusted(
    server: RunningServer, http_env: dict[str, str], tls_token_endpoint: tuple[RunningServer, Path]
) -> None:
    secure, _ = tls_token_endpoint
    http_env["TRULIOO_TOKEN_URL"] = secure.token_url
    line = fails_in_one_line(call(server, http_env), "http: error: TokenEndpointUnreachable:")
    assert "the TLS handshake failed (certificate not trusted, or not a TLS server)" in line
    assert secure.fake.token_requests == 0


def test_requests_ca_bundle_is_honoured(
    server: RunningServer, http_env: dict[str, str], tls_token_endpoint: tuple[RunningServer, Path]
) -> None:
    secure, ca_file = tls_token_endpoint
    http_env.update(TRULIOO_TOKEN_URL=secure.token_url, REQUESTS_CA_BUNDLE=str(ca_file))
    assert works(call(server, http_env)) == ""
    assert server.fake.token_requests == 1


def test_slower_than_the_timeout(server: RunningServer, http_env: dict[str, str]) -> None:
    server.fake.token_delay = 60
    http_env["TRULIOO_TIMEOUT"] = "1"
    started = time.monotonic()
    line = fails_in_one_line(call(server, http_env), "http: error: TokenEndpointUnreachable:")
    assert "did not answer within 1 s" in line
    assert time.monotonic() - started < 30  # it gave up long before the server answered


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def test_endpoint_that_never_answers_is_bounded_by_the_timeout(
    server: RunningServer, http_env: dict[str, str], silent_port: int
) -> None:
    http_env.update(TRULIOO_TOKEN_URL=f"http://127.0.0.1:{silent_port}/connect/token", TRULIOO_TIMEOUT="1")
    line = fails_in_one_line(call(server, http_env), "http: error: TokenEndpointUnreachable:")
    assert "did not answer within 1 s" in line


@pytest.fixture
def dripping_port() -> Iterator[int]:
    """A token endpoint that answers 200 at once, then sends its body one byte every 0.2 s."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                )
                for _ in range(100):
                    if stop.wait(0.2):
                        break
                    try:
                        connection.sendall(b" ")
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    listener.close()


def test_a_body_that_drips_is_bounded_by_the_timeout_too(
    server: RunningServer, http_env: dict[str, str], dripping_port: int
) -> None:
    http_env.update(TRULIOO_TOKEN_URL=f"http://127.0.0.1:{dripping_port}/connect/token", TRULIOO_TIMEOUT="1")
    line = fails_in_one_line(call(server, http_env), "http: error: TokenEndpointUnreachable:")
    assert "did not answer within 1 s" in line


# --- the cache ------------------------------------------------------------------------------------


def warm(server: RunningServer, env: dict[str, str]) -> None:
    works(call(server, env))


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b'{"version": 1, "token": "abc", "expires_at": 1e300',
        b"[1, 2, 3]",
        b'{"version": 1, "token": ["not", "a", "string"], "expires_at": "soon"}',
        b'{"version": 99, "token": "from-a-future-plugin", "expires_at": 9e9, "obtained_at": 1}',
        b"\x00\x01\x02 binary",
    ],
)
def test_bad_cache_file_is_a_miss_and_is_replaced(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path, content: bytes
) -> None:
    warm(server, http_env)
    path = entry_file(cache_dir, server)
    path.write_bytes(content)
    assert works(call(server, http_env)) == ""
    assert server.fake.token_requests == 2
    assert_good_entry(cache_dir, server)


def test_cache_folder_that_is_a_file(server: RunningServer, http_env: dict[str, str], tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    http_env["TRULIOO_CACHE_DIR"] = str(blocker)
    stderr = works(call(server, http_env))
    assert stderr.strip() == (
        f"httpie-trulioo: cannot create the cache folder {blocker} (File exists); "
        "going on without a token cache."
    )
    assert blocker.read_text() == "not a folder"


def test_cache_folder_that_cannot_be_created(
    server: RunningServer, http_env: dict[str, str], tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    http_env["TRULIOO_CACHE_DIR"] = str(blocker / "cache")
    stderr = works(call(server, http_env))
    assert "cannot create the cache folder" in stderr
    assert len(stderr.strip().splitlines()) == 1


@posix_only("bash and ulimit -f, a file size limit that acts as a full disk")
def test_full_disk_on_write(server: RunningServer, http_env: dict[str, str], cache_dir: Path) -> None:
    # A file size limit of 0 makes every write to a regular file fail (EFBIG), as a full disk
    # would; stdout is a pipe, so HTTPie's own output is not affected.
    shell = f'trap \'\' XFSZ; ulimit -f 0; exec {find_http()} --ignore-stdin -b -A trulioo -a "$AUTH" "$URL"'
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", shell],
        env={**http_env, "AUTH": AUTH, "URL": server.url + "/x"},
        capture_output=True,
        text=True,
        start_new_session=True,
        check=False,
    )
    stderr = works(subprocess.CompletedProcess(result.args, result.returncode, result.stdout, result.stderr))
    assert stderr.startswith(
        f"httpie-trulioo: {context_of(server)} could not write the token cache in {cache_dir} "
        "(File too large)"
    )
    assert list(cache_dir.iterdir()) == [cache_dir / (entry_file(cache_dir, server).stem + ".lock")]
    works(call(server, http_env))
    assert_good_entry(cache_dir, server)


@posix_only("creating a symlink, which Windows allows only to administrators or in Developer Mode")
def test_symlinked_cache_file_is_never_followed(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path, tmp_path: Path
) -> None:
    warm(server, http_env)
    target = tmp_path / "precious"
    target.write_text("do not touch")
    target.chmod(0o600)
    path = entry_file(cache_dir, server)
    path.unlink()
    path.symlink_to(target)
    works(call(server, http_env))
    assert target.read_text() == "do not touch"
    assert_good_entry(cache_dir, server)
    assert server.fake.token_requests == 2


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_cache_file_readable_by_others_is_refetched_and_rewritten(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    warm(server, http_env)
    entry_file(cache_dir, server).chmod(0o644)
    works(call(server, http_env))
    assert server.fake.token_requests == 2
    assert_good_entry(cache_dir, server)


@posix_only("mode bits; on Windows the cache folder's ACL keeps it private")
def test_cache_folder_open_to_others_is_left_alone(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    cache_dir.mkdir(mode=0o755)
    cache_dir.chmod(0o755)
    stderr = works(call(server, http_env))
    assert stderr.strip() == (
        f"httpie-trulioo: the cache folder {cache_dir} is open to other users "
        f"(run: chmod 700 '{cache_dir}'); "
        "going on without a token cache."
    )
    assert cache_dir.stat().st_mode & 0o777 == 0o755
    assert list(cache_dir.iterdir()) == []


# --- processes --------------------------------------------------------------------------------------


def test_sixty_four_processes_on_a_cold_cache(server: RunningServer, http_env: dict[str, str]) -> None:
    processes = [
        subprocess.Popen(
            [find_http(), "--ignore-stdin", "-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"],
            env=http_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        for _ in range(64)
    ]
    outcomes = [
        (process.wait(timeout=300), process.stderr.read() if process.stderr else b"") for process in processes
    ]
    for process in processes:
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
    assert outcomes == [(0, b"")] * 64
    assert server.fake.token_requests == 1


def start_call(server: RunningServer, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [find_http(), "--ignore-stdin", "-b", "-A", "trulioo", "-a", AUTH, server.url + "/x"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_process_killed_holding_the_lock_blocks_no_one(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    server.fake.token_delay = 30  # the first process holds the lock while it waits for this
    holder = start_call(server, http_env)
    deadline = time.monotonic() + 20
    while server.fake.token_requests == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.fake.token_requests == 1  # it holds the lock now
    holder.kill()  # SIGKILL on POSIX
    holder.wait()
    server.fake.token_delay = 0
    http_env["TRULIOO_LOG"] = "debug"
    stderr = works(call(server, http_env))
    assert "lock waited" in stderr
    assert "could not take the token lock" not in stderr
    assert_good_entry(cache_dir, server)


def test_a_stuck_lock_holder_delays_a_call_only_boundedly(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    warm(server, http_env)
    entry_file(cache_dir, server).unlink()  # so that the next call needs the lock
    holder = hold_lock(str(cache_dir / (entry_file(cache_dir, server).stem + ".lock")))
    try:
        http_env["TRULIOO_TIMEOUT"] = "0.5"  # the wait is bounded by this plus 2 seconds
        stderr = works(call(server, http_env))
    finally:
        holder.kill()
        holder.wait()
    assert stderr.strip() == (
        f"httpie-trulioo: {context_of(server)} could not take the token "
        "lock in time (another http may be stuck, or the cache folder refuses the lock file); "
        "fetching a token anyway."
    )
    assert server.fake.token_requests == 2


PAUSE_FOLDER = Path(__file__).parent.parent / "pause"  # its sitecustomize stops http where asked


def stopped_at(
    server: RunningServer, env: dict[str, str], moment: str, tmp_path: Path
) -> subprocess.Popen[bytes]:
    """An http call on a cold cache, stopped for good at ``moment`` of its miss (see pause/)."""
    if moment == "request":
        server.fake.token_delay = 3600  # the fake holds the token request until the test is done
    else:
        paused = tmp_path / f"paused-at-{moment}"
        env = {
            **env,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PAUSE_FOLDER), env.get("PYTHONPATH")])),
            "TRULIOO_TEST_PAUSE_AT": moment,
            "TRULIOO_TEST_PAUSED": str(paused),
        }
    victim = start_call(server, env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and victim.poll() is None:
        if server.fake.token_requests if moment == "request" else paused.exists():
            return victim
        time.sleep(0.05)
    victim.kill()
    raise AssertionError(f"the call never reached the moment {moment!r} (exit status {victim.poll()})")


@posix_only("SIGKILL, and a lock file the kernel frees")
@pytest.mark.parametrize("moment", ["lock", "request", "write", "rename"])
def test_a_process_killed_at_any_moment_of_a_miss_leaves_nothing_that_harms_the_next_call(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path, tmp_path: Path, moment: str
) -> None:
    """Killed with the lock held, the token request in flight, or the entry half written or renamed."""
    victim = stopped_at(server, http_env, moment, tmp_path)
    victim.kill()  # SIGKILL: no handler, no cleanup
    victim.wait()
    server.fake.token_delay = 0
    # Never a corrupt entry: the entry is absent (the rename never ran), and a temp file is all
    # that may be left.
    assert not entry_file(cache_dir, server).exists()
    assert all(path.name.startswith(".tmp-") for path in cache_dir.glob("*.json"))
    # No lock left behind: it is free at once.
    lock = FileLock(str(entry_file(cache_dir, server).with_suffix(".lock")), timeout=0)
    with lock:
        pass
    # The next call works, fetching exactly one token, and writes a good entry.
    before = server.fake.token_requests
    assert works(call(server, http_env)) == ""
    assert server.fake.token_requests == before + 1
    assert_good_entry(cache_dir, server)


def test_leftover_temp_file_is_never_read(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    warm(server, http_env)
    leftover = cache_dir / ".tmp-killed.json"
    leftover.write_bytes(b'{"version": 1, "token": "half')
    leftover.chmod(0o600)
    entry_file(cache_dir, server).unlink()
    works(call(server, http_env))
    assert_good_entry(cache_dir, server)


# --- time -------------------------------------------------------------------------------------------


class SkewedClock:
    def __init__(self, offset: float) -> None:
        self.offset = offset

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def skew() -> SkewedClock:
    return SkewedClock(0)


@pytest.fixture
def fake(skew: SkewedClock) -> FakeTrulioo:
    return FakeTrulioo(clock=skew)


@pytest.mark.parametrize("minutes", [-10, 10])
def test_clock_minutes_off_still_reuses_one_token(
    server: RunningServer, http_env: dict[str, str], skew: SkewedClock, minutes: int
) -> None:
    skew.offset = minutes * 60
    for _ in range(3):
        assert works(call(server, http_env)) == ""
    assert server.fake.token_requests == 1


def test_clock_far_ahead_of_the_server_fetches_once_per_call_never_in_a_loop(
    server: RunningServer, http_env: dict[str, str], skew: SkewedClock
) -> None:
    skew.offset = -2 * 3600  # the server is two hours behind: every JWT exp looks past
    for calls in range(1, 4):
        stderr = works(call(server, http_env))
        assert "token that has already expired" in stderr
        assert server.fake.token_requests == calls


def test_token_the_api_rejects_is_refreshed_once(
    server: RunningServer, http_env: dict[str, str], skew: SkewedClock
) -> None:
    warm(server, http_env)
    skew.offset = 3600  # the server's clock jumps past the token's lifetime; ours does not
    assert " was refused (401); got a new one (…" in works(call(server, http_env))
    assert server.fake.token_requests == 2


def test_jwt_exp_past_on_arrival_is_used_once_with_a_warning(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path
) -> None:
    server.fake.jwt_exp_offset = -60
    stderr = works(call(server, http_env))
    assert stderr.count("httpie-trulioo:") == 1
    assert "has already expired" in stderr
    assert not list(cache_dir.glob("*.json"))


@pytest.mark.parametrize(
    ("expires_in", "cached"),
    [(0, False), (-300, False), (10**30, True), ("3599", True), ("  60 ", True)],
)
def test_odd_expires_in_values(
    server: RunningServer, http_env: dict[str, str], cache_dir: Path, expires_in: object, cached: bool
) -> None:
    server.fake.token_kind = "opaque"
    server.fake.expires_in = expires_in
    works(call(server, http_env))
    assert bool(list(cache_dir.glob("*.json"))) is cached
    if cached:
        entry = json.loads(entry_file(cache_dir, server).read_text())
        assert entry["expires_at"] - entry["obtained_at"] <= 86_400


def test_expires_in_that_is_not_a_number_is_one_line(server: RunningServer, http_env: dict[str, str]) -> None:
    server.fake.expires_in = "an hour"
    fails_in_one_line(
        call(server, http_env),
        "http: error: InvalidTokenResponse: "
        "the token endpoint gave an ExpiresIn that is not a number of seconds: 'an hour'.",
    )
