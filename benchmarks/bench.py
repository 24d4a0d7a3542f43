"""What httpie-trulioo costs on every ``http`` call, and how many token requests it saves.

Run from a clone (the tests' fake Trulioo serves on 127.0.0.1; nothing else is contacted):

    python3 -m venv .venv && .venv/bin/pip install . -r tests/requirements.txt
    .venv/bin/python benchmarks/bench.py

It measures what users pay, not less:

- Two fresh virtual environments are built from the same HTTPie release: one with only HTTPie,
  one with this package installed from its wheel, as ``pip install httpie-trulioo`` does. The
  plugin's cost is the difference between them.
- Every sample is a fresh process: a real call is always the first call of its process.
- HOME is a new temporary folder and no ``TRULIOO_CACHE_DIR`` is set, so the plugin finds its
  cache where most users have it, through platformdirs.
- HTTPie loads plugins the way it does on every call, reading each one's metadata.
- Times are medians with their min-max; instruction counts come from valgrind's cachegrind with
  a fixed PYTHONHASHSEED, exact where wall time on a shared machine spreads by tens of percent.
  Without valgrind, the counts are skipped and the report says so.
- Token requests are counted at the fake token endpoint, so they are exact.
- ``--baseline REVISION`` (in a git clone) measures the per-call costs of the package as it was
  at that revision too, the same way, for a before-and-after comparison.

Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from fake_trulioo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, FakeTrulioo, RunningServer  # noqa: E402
from harness import http_environment  # noqa: E402

AUTH = f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}"
# Token endpoint latency for the cache-versus-no-cache and scaling figures: a real identity
# server over the internet answers in a few hundred milliseconds.
SLOW_TOKEN_ENDPOINT = 0.3

# HTTPie's own start, up to the point where it loads plugins, then the loading alone, timed.
LOAD_PLUGINS = """
import time, httpie.core
from httpie.plugins.registry import plugin_manager
started = time.perf_counter()
plugin_manager.load_installed_plugins()
print(time.perf_counter() - started)
"""
# What a warm-cache call pays inside HTTPie: building the auth (get_auth) and its first use, in
# a process that has imported and loaded what HTTPie has by then. argv: url, auth type, auth.
FIRST_CALL = """
import sys, time, httpie.core, requests
from httpie.plugins.registry import plugin_manager
plugin_manager.load_installed_plugins()
url, auth_type, credentials = sys.argv[1:4]
plugin = plugin_manager.get_auth_plugin(auth_type)()
plugin.raw_auth = credentials  # as HTTPie sets it from --auth
username, _, password = credentials.partition(":")
request = requests.Request("GET", url).prepare()
if sys.argv[4:] == ["preloaded"]:  # the floor of 2d: the package's modules imported already
    import httpie_trulioo.auth, httpie_trulioo.provider
started = time.perf_counter()
auth = plugin.get_auth(username, password) if auth_type != "bearer" else plugin.get_auth()
auth(request)
print(time.perf_counter() - started)
"""
# The other floor of 2d: importing one module of the package that holds nothing.
IMPORT_EMPTY = """
import time, httpie.core
from httpie.plugins.registry import plugin_manager
plugin_manager.load_installed_plugins()
started = time.perf_counter()
import httpie_trulioo._bench_empty
print(time.perf_counter() - started)
"""

# The versions of this package's own dependencies installed beside it (extras left out).
DEPENDENCY_PINS = """
import importlib.metadata, re
for requirement in importlib.metadata.requires("httpie-trulioo") or []:
    if "extra ==" not in requirement:
        name = re.match(r"[A-Za-z0-9._-]+", requirement).group()
        print(f"{name}=={importlib.metadata.version(name)}")
"""

rows: list[tuple[str, str, str, bool]] = []


def report(figure: str, measured: str, target: str, met: bool) -> None:
    rows.append((figure, measured, target, met))
    print(f"  {figure}: {measured} (target {target}) {'ok' if met else 'MISSED'}", flush=True)


def labelled(baseline: str) -> Callable[[str, str, str, bool], None]:
    """``report``, or for an earlier version one that names it and only reports: no target applies."""
    if not baseline:
        return report

    def report_baseline(figure: str, measured: str, target: str, met: bool) -> None:
        report(f"{figure} [{baseline}]", measured, "reported", True)

    return report_baseline


def spread(samples: Sequence[float], scale: float = 1000.0, unit: str = "ms") -> str:
    return (
        f"{statistics.median(samples) * scale:.2f} {unit} "
        f"(min-max {min(samples) * scale:.2f}-{max(samples) * scale:.2f}, n={len(samples)})"
    )


class Environment:
    """A virtual environment of its own, with HTTPie and maybe this package, and a private HOME."""

    def __init__(self, base: Path, name: str, packages: list[str]) -> None:
        self.folder = base / name
        subprocess.run([sys.executable, "-m", "venv", str(self.folder)], check=True)
        pip = [str(self.folder / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        installed = subprocess.run(
            [*pip, "--disable-pip-version-check", *packages], capture_output=True, text=True, check=False
        )
        if installed.returncode != 0:
            raise SystemExit(f"could not build the {name} environment:\n{installed.stderr[-3000:]}")
        self.python = str(self.folder / "bin" / "python")
        self.http = str(self.folder / "bin" / "http")
        self.home = base / f"{name}-home"

    def env(self, token_url: str, **extra: str) -> dict[str, str]:
        """HTTPie config of its own (update check off), HOME of its own, default cache folder."""
        env = http_environment(self.home, token_url, self.home / "unused")
        del env["TRULIOO_CACHE_DIR"]  # the default folder, as most users have it
        for name in list(env):
            if name.startswith("XDG_") or name in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHON_KEYRING_BACKEND"):
                del env[name]
        env.update(HOME=str(self.home), PYTHONHASHSEED="0", **extra)
        return env


def run(command: list[str], env: dict[str, str], cwd: Path) -> str:
    # A neutral folder: "python -c" puts the current folder first on sys.path.
    result = subprocess.run(command, env=env, cwd=cwd, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{command[:3]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True, start_new_session=True)
    return time.perf_counter() - started


def instructions(command: list[str], env: dict[str, str], cwd: Path) -> int | None:
    """Instructions the command executes, by cachegrind; None without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    result = subprocess.run(
        [valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", *command],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{result.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def counted(label: str, command: list[str], env: dict[str, str], cwd: Path, runs: int) -> int | None:
    counts = [instructions(command, env, cwd) for _ in range(runs)]
    if counts[0] is None:
        return None
    numbers = [count for count in counts if count is not None]
    print(
        f"    {label}: {min(numbers) / 1e6:.2f} M instructions "
        f"(over {runs} runs: {max(numbers) - min(numbers)} apart)"
    )
    return min(numbers)


def plugin_unused(
    environments: dict[str, Environment], work: Path, rounds: int, runs: int, baseline: str = ""
) -> None:
    """1. Plugin installed, unused: HTTPie's plugin loading with and without the package.

    Against HTTPie with this package's dependencies (what the package itself adds, the target),
    and against HTTPie alone (what installing it adds, its dependencies' metadata included).
    ``baseline`` names an earlier version, measured in the "baseline" environment: reported only.
    """
    report = labelled(baseline)
    full = "baseline" if baseline else "full"
    environments = {name: environments[name] for name in ("bare", "deps", full)}
    envs = {name: environment.env("http://127.0.0.1:9/") for name, environment in environments.items()}
    samples: dict[str, list[float]] = {name: [] for name in environments}
    names = list(environments)
    for index in range(rounds):
        for name in names if index % 2 else reversed(names):
            command = [environments[name].python, "-c", LOAD_PLUGINS]
            samples[name].append(float(run(command, envs[name], work)))
    for name in names:
        print(f"    plugin loading, {name}: {spread(samples[name])}")
    median = {name: statistics.median(values) for name, values in samples.items()}
    counts = {
        name: counted(name, [environment.python, "-c", LOAD_PLUGINS], envs[name], work, runs)
        for name, environment in environments.items()
    }
    for against, label, target in (
        ("deps", "the package itself", True),
        ("bare", "with its dependencies", False),
    ):
        extra = median[full] - median[against]
        report(
            f"1. plugin installed, unused, {label}: plugin loading, in-process",
            f"+{extra * 1000:.2f} ms",
            "reported",
            True,
        )
        base, plus = counts[against], counts[full]
        if base is None or plus is None:
            report(
                f"1. plugin installed, unused, {label}: instructions", "not measured (no valgrind)", "-", True
            )
            continue
        report(
            f"1. plugin installed, unused, {label}: instructions",
            f"+{(plus - base) / 1e6:.2f} M",
            "<= 2.0 M" if target else "reported",
            plus - base <= 2_000_000 or not target,
        )


def warm_the_cache(full: Environment, env: dict[str, str], url: str, work: Path) -> list[str]:
    """Run ``http -A trulioo`` once, so that a token is in the default cache folder; return that command."""
    trulioo = [full.http, "--ignore-stdin", "-b", "-A", "trulioo", "-a", AUTH, "GET", url]
    run(trulioo, env, work)
    cache = full.home / ".cache" / "httpie-trulioo"
    if not list(cache.glob("*.json")):
        raise SystemExit(f"no token was cached in the default folder {cache}")
    return trulioo


def warm_call(full: Environment, work: Path, rounds: int, runs: int, baseline: str = "") -> None:
    """2. A warm-cache call, default cache folder: in-process, instructions, whole-process wall.

    ``baseline`` names an earlier version measured the same way, for comparison: reported only.
    """
    report = labelled(baseline)
    with RunningServer(FakeTrulioo()) as server:
        env = full.env(server.token_url)
        url = server.url + "/wfs/interpreter-v2/flow/FLOW-1"
        trulioo = warm_the_cache(full, env, url, work)
        (token,) = server.fake.issued
        bearer = [full.http, "--ignore-stdin", "-b", "-A", "bearer", "-a", token, "GET", url]

        ours, theirs = [], []
        for index in range(rounds):
            pair = [(ours, "trulioo", AUTH), (theirs, "bearer", token)]
            for samples, auth_type, credentials in pair if index % 2 else reversed(pair):
                command = [full.python, "-c", FIRST_CALL, url, auth_type, credentials]
                samples.append(float(run(command, env, work)))
        print(f"    -A trulioo get_auth + first call: {spread(ours)}")
        print(f"    -A bearer  get_auth + first call: {spread(theirs)}")
        report(
            "2a. warm call, default cache folder: get_auth + first __call__, in-process",
            spread(ours),
            "reported",
            True,
        )

        mine = counted("http -A trulioo", trulioo, env, work, runs)
        reference = counted("http -A bearer", bearer, env, work, runs)
        if mine is None or reference is None:
            report(
                "2b. warm call: instructions over -A bearer", "not measured (no valgrind)", "<= 3.0 M", True
            )
        else:
            report(
                "2b. warm call: instructions over -A bearer",
                f"+{(mine - reference) / 1e6:.2f} M",
                "<= 3.0 M",
                mine - reference <= 3_000_000,
            )

        walls: dict[str, list[float]] = {"trulioo": [], "bearer": []}
        for index in range(rounds):
            pair = [("trulioo", trulioo), ("bearer", bearer)]
            for name, command in pair if index % 2 else reversed(pair):
                walls[name].append(timed(command, env, work))
        ratio = statistics.median(walls["trulioo"]) / statistics.median(walls["bearer"])
        report(
            "2c. warm call: whole http process, -A trulioo / -A bearer (medians)",
            f"{ratio:.3f} ({spread(walls['trulioo'])} / {spread(walls['bearer'])})",
            "reported",
            True,
        )
        fetched = server.fake.token_requests
        report("    token requests during 2", str(fetched), "1", fetched == 1)


def command_token(full: Environment, work: Path, rounds: int, runs: int, baseline: str = "") -> None:
    """6. ``httpie-trulioo token`` on a warm cache, against ``python3 -c pass``: scripts run it in loops.

    Instructions (cachegrind) and wall time (medians of fresh processes), each as a ratio.
    """
    report = labelled(baseline)
    with RunningServer(FakeTrulioo()) as server:
        env = full.env(
            server.token_url, TRULIOO_CLIENT_ID=DEMO_CLIENT_ID, TRULIOO_CLIENT_SECRET=DEMO_CLIENT_SECRET
        )
        command = [str(Path(full.http).with_name("httpie-trulioo")), "token"]
        run(command, env, work)  # warms the cache
        nothing = [full.python, "-c", "pass"]
        walls: dict[str, list[float]] = {"token": [], "pass": []}
        for index in range(rounds):
            pair = [("token", command), ("pass", nothing)]
            for name, argv in pair if index % 2 else reversed(pair):
                walls[name].append(timed(argv, env, work))
        wall = statistics.median(walls["token"]) / statistics.median(walls["pass"])
        mine = counted("httpie-trulioo token", command, env, work, runs)
        reference = counted("python3 -c pass", nothing, env, work, runs)
        fetched = server.fake.token_requests
    if mine is None or reference is None:
        report("6. httpie-trulioo token, warm: instructions / python3 -c pass", "not measured", "<= 3", True)
    else:
        report(
            "6. httpie-trulioo token, warm: instructions / python3 -c pass",
            f"{mine / reference:.2f} ({mine / 1e6:.1f} M / {reference / 1e6:.1f} M)",
            "<= 3" if not baseline else "reported",
            mine / reference <= 3 or bool(baseline),
        )
    report(
        "6. httpie-trulioo token, warm: wall / python3 -c pass (medians)",
        f"{wall:.2f} ({spread(walls['token'])} / {spread(walls['pass'])})",
        "reported",
        True,
    )
    report("    token requests during 6", str(fetched), "1", fetched == 1)


def floors(full: Environment, work: Path, rounds: int) -> None:
    """2d. What bounds figure 2a from below on this machine: reported, not targets.

    One import of an empty module of the package, and the warm call's own work with every module
    of the package imported beforehand: a warm path can do no better than the sum of its
    imports and its work.
    """
    plain = full.env("http://127.0.0.1:9/")
    package = run([full.python, "-c", "import httpie_trulioo; print(httpie_trulioo.__file__)"], plain, work)
    empty = Path(package.strip()).with_name("_bench_empty.py")
    empty.write_text("")
    run([full.python, "-m", "py_compile", str(empty)], plain, work)  # a .pyc, as installed modules have
    try:
        with RunningServer(FakeTrulioo()) as server:
            env = full.env(server.token_url)
            url = server.url + "/wfs/interpreter-v2/flow/FLOW-1"
            warm_the_cache(full, env, url, work)
            imports, preloaded = [], []
            for _ in range(rounds):
                imports.append(float(run([full.python, "-c", IMPORT_EMPTY], env, work)))
                command = [full.python, "-c", FIRST_CALL, url, "trulioo", AUTH, "preloaded"]
                preloaded.append(float(run(command, env, work)))
            if server.fake.token_requests != 1:
                raise SystemExit("a warm call of figure 2d asked for a token: it measured a miss")
    finally:
        empty.unlink()
    figure = "2d. floor: importing one empty module of the package, in-process"
    report(figure, spread(imports), "reported", True)
    report(
        "2d. floor: the warm call's own work, the package's modules imported before, in-process",
        spread(preloaded),
        "reported",
        True,
    )


class Lab:
    """A fake Trulioo and a fresh cache folder for one figure, with the http of the full environment."""

    def __init__(self, full: Environment, base: Path, name: str, fake: FakeTrulioo | None = None) -> None:
        self.server = RunningServer(fake or FakeTrulioo()).__enter__()
        self.env = http_environment(base / name, self.server.token_url, base / name / "cache")
        self.http = full.http
        self.work = base
        self.url = self.server.url + "/wfs/interpreter-v2/flow/FLOW-1"

    def trulioo(self) -> list[str]:
        return [self.http, "--ignore-stdin", "-b", "-A", "trulioo", "-a", AUTH, self.url]

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


def counts(full: Environment, base: Path) -> None:
    """3. Token requests: sequential, parallel cold, parallel 401; cache against no cache."""
    lab = Lab(full, base, "sequential")
    for _ in range(20):
        timed(lab.trulioo(), lab.env, base)
    fetched = lab.server.fake.token_requests
    report("3a. token requests, 20 sequential calls", str(fetched), "1", fetched == 1)
    lab.close()

    lab = Lab(full, base, "parallel")
    lab.parallel(16)
    fetched = lab.server.fake.token_requests
    report("3b. token requests, 16 parallel calls on a cold cache", str(fetched), "1", fetched == 1)
    lab.server.fake.revoke_all()
    lab.parallel(16)
    more = lab.server.fake.token_requests - fetched
    report("3c. more token requests, 16 parallel calls meeting a 401", str(more), "1", more == 1)
    lab.close()

    lab = Lab(full, base, "slow", FakeTrulioo(token_delay=SLOW_TOKEN_ENDPOINT))
    off = {**lab.env, "TRULIOO_CACHE": "off"}
    cached_time = uncached_time = 0.0
    for _ in range(20):  # interleaved, so that a slow moment of the machine hits both alike
        cached_time += timed(lab.trulioo(), lab.env, base)
        uncached_time += timed(lab.trulioo(), off, base)
    slow_ms = SLOW_TOKEN_ENDPOINT * 1000
    report(
        f"3d. 20 sequential calls, token endpoint taking {slow_ms:.0f} ms: cache / no cache",
        f"{cached_time / uncached_time:.2f} ({cached_time:.1f} s / {uncached_time:.1f} s; "
        f"{lab.server.fake.token_requests} token requests)",
        "< 1",
        cached_time < uncached_time and lab.server.fake.token_requests == 21,
    )
    lab.close()


def scaling(full: Environment, base: Path, sizes: list[int]) -> None:
    """4. The single-flight lock at each size: one token request, a bounded wait."""
    for size in sizes:
        lab = Lab(full, base, f"scale-{size}", FakeTrulioo(token_delay=SLOW_TOKEN_ENDPOINT))
        wall, logs = lab.parallel(size, {**lab.env, "TRULIOO_LOG": "debug"})
        waits = [int(found) for log in logs for found in re.findall(r"lock waited (\d+) ms", log)]
        fetched = lab.server.fake.token_requests
        longest = max(waits, default=0)
        report(
            f"4. {size:>2} parallel cold calls",
            f"{fetched} token request(s), wall {wall:.2f} s, longest lock wait {longest} ms",
            "1 request, wait bounded",
            fetched == 1 and longest < (30 + 2) * 1000,
        )
        lab.close()


def build_environments(base: Path) -> dict[str, Environment]:
    """HTTPie alone; with this package's dependencies; with this package from its wheel.

    The same HTTPie release in all three, and the same dependency versions in the last two.
    """
    httpie = f"httpie=={importlib.metadata.version('httpie')}"
    wheels = base / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--wheel-dir",
            str(wheels),
            str(REPO),
        ],
        check=True,
    )
    (wheel,) = wheels.glob("*.whl")
    print(f"building three environments with {httpie} (one with {wheel.name}) ...", flush=True)
    full = Environment(base, "full", [httpie, str(wheel)])
    pins = run([full.python, "-c", DEPENDENCY_PINS], full.env("http://127.0.0.1:9/"), base).split()
    return {
        "bare": Environment(base, "bare", [httpie]),
        "deps": Environment(base, "deps", [httpie, *pins]),
        "full": full,
    }


def build_baseline(base: Path, revision: str) -> Environment:
    """HTTPie with this package as it was at a git revision, from its own wheel: the figures before."""
    git = shutil.which("git")
    if git is None:
        raise SystemExit("--baseline needs git")
    archive = subprocess.run([git, "-C", str(REPO), "archive", revision], capture_output=True, check=False)
    if archive.returncode != 0:
        raise SystemExit(f"git archive {revision} failed: {archive.stderr.decode(errors='replace').strip()}")
    source = base / "baseline-source"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(source, filter="data")
    wheels = base / "baseline-wheels"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps"]
    subprocess.run([*pip_wheel, "--wheel-dir", str(wheels), str(source)], check=True)
    (wheel,) = wheels.glob("*.whl")
    print(f"building an environment with {revision} of this package ...", flush=True)
    return Environment(base, "baseline", [f"httpie=={importlib.metadata.version('httpie')}", str(wheel)])


def secret_sources(base: Path, rounds: int) -> None:
    """5. What finding the secret adds to a warm call, by source: paid once by every http process.

    In an environment with the keyring extra and a file keyring (keyrings.alt), as a user's
    machine has its OS keyring; timed as 2a, through get_auth and the first call.
    """
    wheels = base / "wheels"
    (wheel,) = wheels.glob("*.whl")
    httpie = f"httpie=={importlib.metadata.version('httpie')}"
    print("building an environment with the keyring extra ...", flush=True)
    keyed = Environment(base, "keyring", [httpie, f"{wheel}[keyring]", "keyrings.alt"])
    command = f"{shlex.quote(keyed.python)} -c {shlex.quote(f'print({DEMO_CLIENT_SECRET!r})')}"
    profiles = base / "sources.toml"
    profiles.write_text(
        f'[profiles.env]\nclient_id = "{DEMO_CLIENT_ID}"\nsecret_env = "BENCH_SECRET"\n'
        f'[profiles.cmd]\nclient_id = "{DEMO_CLIENT_ID}"\nsecret_cmd = {json.dumps(command)}\n'
        f'[profiles.ring]\nclient_id = "{DEMO_CLIENT_ID}"\n'
    )
    profiles.chmod(0o600)
    with RunningServer(FakeTrulioo()) as server:
        url = server.url + "/wfs/interpreter-v2/flow/FLOW-1"
        env = keyed.env(server.token_url, TRULIOO_CONFIG_FILE=str(profiles), BENCH_SECRET=DEMO_CLIENT_SECRET)
        named = {**env, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
        user = f"{DEMO_CLIENT_ID} @ {server.token_url}"
        store = f"import keyring; keyring.set_password('httpie-trulioo', {user!r}, {DEMO_CLIENT_SECRET!r})"
        run([keyed.python, "-c", store], named, base)
        run([keyed.http, "--ignore-stdin", "-b", "-A", "trulioo", "-a", AUTH, "GET", url], env, base)
        cases = {
            "--auth ID:SECRET": (env, AUTH),
            "a profile's secret_env": (env, "@env"),
            "a profile's secret_cmd (a Python one-liner)": (env, "@cmd"),
            "the keyring, backend named in PYTHON_KEYRING_BACKEND": (named, "@ring"),
            "the keyring, backend found by keyring": (env, "@ring"),
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, (case_env, credentials) in cases.items():
                probe = [keyed.python, "-c", FIRST_CALL, url, "trulioo", credentials]
                samples[name].append(float(run(probe, case_env, base)))
        for name, values in samples.items():
            report(
                f"5. warm call, get_auth + first __call__, secret from {name}",
                spread(values),
                "reported",
                True,
            )
        fetched = server.fake.token_requests
        report("    token requests during 5", str(fetched), "1", fetched == 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25, help="fresh processes per timed figure")
    parser.add_argument("--valgrind-runs", type=int, default=2, help="cachegrind runs per count")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and sizes, for a smoke run")
    parser.add_argument(
        "--baseline",
        metavar="REVISION",
        help="also measure the per-call costs of this package at a git revision, for comparison",
    )
    parser.add_argument(
        "--only",
        choices=("cost", "counts", "sources"),
        help="only the per-call costs, the counts, or what each source of the secret costs",
    )
    args = parser.parse_args()
    rounds = 5 if args.quick else args.rounds
    runs = 1 if args.quick else args.valgrind_runs
    sizes = [1, 4] if args.quick else [1, 4, 16, 64]
    print(
        f"python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} cores; valgrind: {'yes' if shutil.which('valgrind') else 'not found'}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="trulioo-bench-") as folder:
        base = Path(folder)
        environments = build_environments(base)
        full = environments["full"]
        steps: list[Callable[[], None]] = []
        if args.only in (None, "cost"):
            steps += [
                lambda: plugin_unused(environments, base, rounds * 2, runs),
                lambda: warm_call(full, base, rounds, runs),
                lambda: command_token(full, base, rounds, runs),
                lambda: floors(full, base, rounds),
            ]
            if args.baseline:
                environments["baseline"] = build_baseline(base, args.baseline)
                steps += [
                    lambda: plugin_unused(environments, base, rounds * 2, runs, args.baseline),
                    lambda: warm_call(environments["baseline"], base, rounds, runs, args.baseline),
                    lambda: command_token(environments["baseline"], base, rounds, runs, args.baseline),
                ]
        if args.only in (None, "counts"):
            steps += [lambda: counts(full, base), lambda: scaling(full, base, sizes)]
        if args.only in (None, "sources"):
            steps += [lambda: secret_sources(base, rounds)]
        for step in steps:
            step()
    print("\n| figure | measured | target | met |\n|---|---|---|---|")
    for figure, measured, target, met in rows:
        print(f"| {figure.strip()} | {measured} | {target} | {'yes' if met else 'NO'} |")
    sys.exit(0 if all(met for *_, met in rows) else 1)


if __name__ == "__main__":
    main()
