"""What httpie-trulioo costs on the hot path, and how many token requests it saves.

Run from a clone, with the package installed (``pip install .``):

    python benchmarks/bench.py

Everything runs against the fake Trulioo of the tests on 127.0.0.1. Timed runs of the things
compared are interleaved and their medians quoted, as ratios where the machine's speed would
otherwise show; token requests are counted at the fake token endpoint, so they are exact.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import requests  # noqa: E402
from fake_trulioo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, FakeTrulioo, RunningServer  # noqa: E402
from harness import find_http, http_environment  # noqa: E402

from httpie_trulioo import TruliooAuth  # noqa: E402

AUTH = f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}"
# Token endpoint latency for the cache-versus-no-cache and scaling figures: a real identity
# server over the internet answers in a few hundred milliseconds.
SLOW_TOKEN_ENDPOINT = 0.3

LOAD_ENTRY_POINT = """
import time, httpie.core
from importlib.metadata import entry_points
(ep,) = [e for e in entry_points(group="httpie.plugins.auth.v1") if e.name == "trulioo"]
started = time.perf_counter(); ep.load(); print(time.perf_counter() - started)
"""
LOAD_EAGERLY = """
import time, httpie.core
started = time.perf_counter(); import jwt, filelock, platformdirs; print(time.perf_counter() - started)
"""

rows: list[tuple[str, str, str, bool]] = []


def report(figure: str, measured: str, target: str, met: bool) -> None:
    rows.append((figure, measured, target, met))
    print(f"  {figure}: {measured} (target {target}) {'ok' if met else 'MISSED'}", flush=True)


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, start_new_session=True)
    return time.perf_counter() - started


def probe(script: str, folder: Path) -> float:
    # Run from a neutral folder: "python -c" puts the current folder first on sys.path, and from
    # a clone that would load the source tree instead of the installed package.
    result = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=folder
    )
    return float(result.stdout)


def import_cost(base: Path, rounds: int) -> None:
    plugin, eager = [], []
    for _ in range(rounds):
        plugin.append(probe(LOAD_ENTRY_POINT, base))
        eager.append(probe(LOAD_EAGERLY, base))
    median_ms = statistics.median(plugin) * 1000
    report(
        "1. entry point load on top of HTTPie (median of fresh processes)",
        f"{median_ms:.2f} ms (eager jwt+filelock+platformdirs: {statistics.median(eager) * 1000:.1f} ms)",
        "<= 1 ms",
        median_ms <= 1.0,
    )


class Lab:
    """A fake Trulioo and a fresh cache folder for one figure."""

    def __init__(self, base: Path, name: str, fake: FakeTrulioo | None = None) -> None:
        self.server = RunningServer(fake or FakeTrulioo()).__enter__()
        self.cache = base / name / "cache"
        self.env = http_environment(base / name, self.server.token_url, self.cache)
        self.url = self.server.url + "/wfs/interpreter-v2/flow/FLOW-1"

    def trulioo(self, *extra: str) -> list[str]:
        return [find_http(), "--ignore-stdin", "-b", "-A", "trulioo", "-a", AUTH, *extra, self.url]

    def parallel(self, count: int, env: dict[str, str] | None = None) -> tuple[float, list[str]]:
        started = time.perf_counter()
        processes = [
            subprocess.Popen(
                self.trulioo(),
                env=env or self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            for _ in range(count)
        ]
        logs = []
        for process in processes:
            _, err = process.communicate(timeout=300)
            if process.returncode != 0:
                raise SystemExit(f"an http call failed: {err}")
            logs.append(err)
        return time.perf_counter() - started, logs

    def close(self) -> None:
        self.server.__exit__(None, None, None)


def warm_call(base: Path, rounds: int) -> None:
    lab = Lab(base, "warm")
    timed(lab.trulioo(), lab.env)
    (token,) = lab.server.fake.issued
    bearer = [find_http(), "--ignore-stdin", "-b", "-A", "bearer", "-a", token, lab.url]
    plugin_times, bearer_times = [], []
    for index in range(rounds):
        pair: list[tuple[list[float], list[str]]] = [(plugin_times, lab.trulioo()), (bearer_times, bearer)]
        for times, command in pair if index % 2 else reversed(pair):
            times.append(timed(command, lab.env))
    ratio = statistics.median(plugin_times) / statistics.median(bearer_times)
    report(
        "2. warm-cache http call / same call with -A bearer (medians)",
        f"{ratio:.3f} ({statistics.median(plugin_times) * 1000:.0f} ms / "
        f"{statistics.median(bearer_times) * 1000:.0f} ms, {rounds} each)",
        "<= 1.05",
        ratio <= 1.05,
    )
    report(
        "   token requests during it",
        str(lab.server.fake.token_requests),
        "1",
        lab.server.fake.token_requests == 1,
    )
    lab.close()


def in_process(base: Path, batches: int, batch: int) -> None:
    lab = Lab(base, "in-process")
    auth = TruliooAuth(
        DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, token_url=lab.server.token_url, cache_dir=str(lab.cache)
    )
    prepared = requests.Request("POST", lab.url, json={"a": "b"}).prepare()
    auth(prepared.copy())
    per_call = []
    for _ in range(batches):
        copies = [prepared.copy() for _ in range(batch)]
        started = time.perf_counter()
        for request in copies:
            auth(request)
        per_call.append((time.perf_counter() - started) / batch)
    median_us = statistics.median(per_call) * 1e6
    report(
        "3. TruliooAuth.__call__ with a cached token (median per call)",
        f"{median_us:.0f} µs ({batches} batches of {batch})",
        "< 200 µs",
        median_us < 200,
    )
    lab.close()


def counts(base: Path) -> None:
    lab = Lab(base, "sequential")
    for _ in range(20):
        timed(lab.trulioo(), lab.env)
    fetched = lab.server.fake.token_requests
    report("4a. token requests, 20 sequential calls", str(fetched), "1", fetched == 1)
    lab.close()

    lab = Lab(base, "parallel")
    lab.parallel(16)
    fetched = lab.server.fake.token_requests
    report("4b. token requests, 16 parallel calls on a cold cache", str(fetched), "1", fetched == 1)
    lab.server.fake.revoke_all()
    lab.parallel(16)
    more = lab.server.fake.token_requests - fetched
    report("4c. more token requests, 16 parallel calls meeting a 401", str(more), "1", more == 1)
    lab.close()

    lab = Lab(base, "slow", FakeTrulioo(token_delay=SLOW_TOKEN_ENDPOINT))
    off = {**lab.env, "TRULIOO_CACHE": "off"}
    cached_time = uncached_time = 0.0
    for _ in range(20):  # interleaved, so that a slow moment of the machine hits both alike
        cached_time += timed(lab.trulioo(), lab.env)
        uncached_time += timed(lab.trulioo(), off)
    slow_ms = SLOW_TOKEN_ENDPOINT * 1000
    report(
        f"4d. 20 sequential calls, token endpoint taking {slow_ms:.0f} ms: cache / no cache",
        f"{cached_time / uncached_time:.2f} ({cached_time:.1f} s / {uncached_time:.1f} s; "
        f"{lab.server.fake.token_requests} token requests)",
        "< 1",
        cached_time < uncached_time and lab.server.fake.token_requests == 21,
    )
    lab.close()


def scaling(base: Path, sizes: list[int]) -> None:
    for size in sizes:
        lab = Lab(base, f"scale-{size}", FakeTrulioo(token_delay=SLOW_TOKEN_ENDPOINT))
        wall, logs = lab.parallel(size, {**lab.env, "TRULIOO_LOG": "debug"})
        waits = [int(found) for log in logs for found in re.findall(r"lock waited (\d+) ms", log)]
        fetched = lab.server.fake.token_requests
        longest = max(waits, default=0)
        report(
            f"5. {size:>2} parallel cold calls",
            f"{fetched} token request(s), wall {wall:.2f} s, longest lock wait {longest} ms",
            "1 request, wait bounded",
            fetched == 1 and longest < (30 + 2) * 1000,
        )
        lab.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25, help="fresh processes per timed figure")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and sizes, for a smoke run")
    args = parser.parse_args()
    rounds = 5 if args.quick else args.rounds
    sizes = [1, 4] if args.quick else [1, 4, 16, 64]
    print(f"python {sys.version.split()[0]}, http at {find_http()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="trulioo-bench-") as folder:
        base = Path(folder)
        steps: list[Callable[[], None]] = [
            lambda: import_cost(base, rounds * 2),
            lambda: warm_call(base, rounds),
            lambda: in_process(base, 200 if not args.quick else 20, 50),
            lambda: counts(base),
            lambda: scaling(base, sizes),
        ]
        for step in steps:
            step()
    print("\n| figure | measured | target | met |\n|---|---|---|---|")
    for figure, measured, target, met in rows:
        print(f"| {figure.strip()} | {measured} | {target} | {'yes' if met else 'NO'} |")
    sys.exit(0 if all(met for *_, met in rows) else 1)


if __name__ == "__main__":
    main()
