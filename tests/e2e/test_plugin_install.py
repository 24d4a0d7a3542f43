"""End to end: ``httpie cli plugins install httpie-trulioo`` into a bare HTTPie, then a real call.

HTTPie installs such a plugin and its dependencies into a folder of their own that is on
``sys.path`` only while plugins load; the plugin must still import its dependencies at request
time. The packages come from a local wheel folder, so the test itself reaches no index: .ci/run
builds that folder and names it in TRULIOO_TEST_WHEELHOUSE, with Debian 12's HTTPie set in its
``debian-12`` folder; without it, the fixtures build and download them once (the only step of the
suite that needs the package index).

HTTPie runs ``pip install --prefix=PLUGINS_FOLDER``: pip satisfies a requirement that the
environment misses by removing the installed version and putting the new one in the plugins
folder, which ``http`` itself never imports from. The plugin's floors must therefore admit what
an older HTTPie runs on, or installing it takes ``http`` away.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_trulioo import RunningServer
from helpers import AUTH, CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parent.parent.parent
SCRIPTS = "Scripts" if os.name == "nt" else "bin"  # where a virtual environment keeps its commands

# HTTPie as Debian 12 ships it (package httpie 3.2.1-1), with the versions of what it runs on
# that Debian 12 ships, as pip installs them. Debian patches requests 2.28.1 to take its
# charset-normalizer 3.0.1; the released requests 2.28.1 asks for one below 3, hence 2.1.1.
# Debian 12's Python is 3.11. On a later one: multidict 6.1.0, which has wheels for 3.12 and 3.13
# (from 6.3 on, requests 2.28 refuses its header names: HTTPie 3.2.1 cannot send a request), and
# the pip and setuptools at hand (Debian's need pkgutil.ImpImporter, which 3.12 removed).
# .ci/run reads this list to download the set into its wheel folder.
DEBIAN_12 = (
    "httpie==3.2.1",
    "requests==2.28.1",
    "urllib3==1.26.12",
    "charset-normalizer==2.1.1",
    "idna==3.3",
    "certifi==2022.9.24",
    "Pygments==2.14.0",
    "defusedxml==0.7.1",
    "requests-toolbelt==0.10.1",
    "rich==13.3.1",
    "markdown-it-py==2.1.0",
    "mdurl==0.1.2",
    "PySocks==1.7.1",
    'multidict==6.0.4; python_version < "3.12"',
    'multidict==6.1.0; python_version >= "3.12"',
    'setuptools==66.1.1; python_version < "3.12"',
    'pip==23.0.1; python_version < "3.12"',
)
# What installing the plugin may add to an environment that has HTTPie: its own dependencies
# that HTTPie does not have, and nothing else.
PLUGIN_ONLY = {"httpie-trulioo", "pyjwt", "platformdirs", "filelock"}


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("TRULIOO_TEST_WHEELHOUSE")
    if given:
        return Path(given)
    folder = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(folder), str(REPO)], check=True
    )
    return folder


@pytest.fixture(scope="session")
def debian_12_wheels(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with Debian 12's HTTPie set: the wheel folder's ``debian-12``, or one downloaded to once.

    A folder apart, so that the HTTPie the other test installs is the stage's own, not 3.2.1.
    """
    given = wheelhouse / "debian-12"
    if list(given.glob("httpie-3.2.1-*.whl")):
        return given
    folder = tmp_path_factory.mktemp("debian-12")
    downloaded = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(folder), *DEBIAN_12],
        capture_output=True,
        text=True,
        check=False,
    )
    if downloaded.returncode != 0:
        said = (downloaded.stderr.strip().splitlines() or ["no reason given"])[-1]
        pytest.skip(f"HTTPie 3.2.1 and Debian 12's set are not to be had from the package index: {said}")
    return folder


def plugins_install(venv: Path, env: dict[str, str]) -> None:
    """``httpie cli plugins install httpie-trulioo`` by the HTTPie of ``venv``, which must succeed."""
    installed = subprocess.run(
        [str(venv / SCRIPTS / "httpie"), "cli", "plugins", "install", "httpie-trulioo"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr


def test_plugins_install_into_a_bare_httpie(
    tmp_path: Path, wheelhouse: Path, server: RunningServer, http_env: dict[str, str]
) -> None:
    bare = tmp_path / "bare-httpie"
    subprocess.run([sys.executable, "-m", "venv", str(bare)], check=True)
    offline = {
        **http_env,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    subprocess.run(
        [str(bare / SCRIPTS / "python"), "-m", "pip", "install", "--quiet", "httpie"], env=offline, check=True
    )
    plugins_install(bare, offline)

    # The dependencies really are out of the bare HTTPie's reach, but for the plugin folder.
    reach = subprocess.run(
        [str(bare / SCRIPTS / "python"), "-c", "import jwt"], capture_output=True, check=False
    )
    assert reach.returncode != 0
    plugins = Path(http_env["HTTPIE_CONFIG_DIR"]) / "plugins"
    assert list(plugins.rglob("jwt/__init__.py"))

    listed = subprocess.run(
        [str(bare / SCRIPTS / "httpie"), "cli", "plugins", "list"],
        env=http_env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "httpie-trulioo" in listed.stdout

    # The default cache folder, so that platformdirs is imported at request time too.
    del http_env["TRULIOO_CACHE_DIR"]
    http_env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    for _ in range(2):
        called = subprocess.run(
            [
                str(bare / SCRIPTS / "http"),
                "--ignore-stdin",
                "-b",
                "-A",
                "trulioo",
                "-a",
                AUTH,
                server.url + "/x",
            ],
            env=http_env,
            capture_output=True,
            text=True,
            check=False,
            start_new_session=True,
        )
        assert called.returncode == 0, called.stderr
        assert called.stderr == ""
        assert json.loads(called.stdout)["path"] == "/x"
    assert server.fake.token_requests == 1
    assert len(list((tmp_path / "xdg-cache" / "httpie-trulioo").glob("*.json"))) == 1


def test_plugins_install_leaves_debian_12_s_httpie_as_it_was(
    tmp_path: Path, wheelhouse: Path, debian_12_wheels: Path, server: RunningServer, http_env: dict[str, str]
) -> None:
    debian = tmp_path / "debian-12"
    subprocess.run([sys.executable, "-m", "venv", str(debian)], check=True)
    # Newer releases of HTTPie, requests and urllib3 are at hand too (the package's own wheel
    # folder): pip must not take them.
    offline = {
        **http_env,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": f"{wheelhouse} {debian_12_wheels}",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    pip = [str(debian / SCRIPTS / "python"), "-m", "pip"]
    subprocess.run([*pip, "install", "--quiet", *DEBIAN_12], env=offline, check=True)
    before = installed_in(debian)
    assert {"httpie==3.2.1", "requests==2.28.1", "urllib3==1.26.12"} <= before

    # pip install into that environment: pip's own plan adds what is missing, and replaces nothing.
    plan = tmp_path / "plan.json"
    subprocess.run(
        [*pip, "install", "--quiet", "--dry-run", "--report", str(plan), "httpie-trulioo"],
        env=offline,
        check=True,
    )
    planned = {entry["metadata"]["name"].lower() for entry in json.loads(plan.read_text())["install"]}
    assert planned == PLUGIN_ONLY

    plugins_install(debian, offline)
    assert installed_in(debian) == before
    plugins = Path(http_env["HTTPIE_CONFIG_DIR"]) / "plugins"
    in_plugins = {
        meta.name.removesuffix(".dist-info").rpartition("-")[0].lower().replace("_", "-")
        for meta in plugins.rglob("*.dist-info")
    }
    assert in_plugins == PLUGIN_ONLY

    version = subprocess.run(
        [str(debian / SCRIPTS / "http"), "--version"],
        env=http_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (version.returncode, version.stdout.strip(), version.stderr) == (0, "3.2.1", "")

    http = [str(debian / SCRIPTS / "http"), "--ignore-stdin", "-b", "-A", "trulioo"]
    called = subprocess.run(
        [*http, "-a", AUTH, server.url + "/x"],
        env=http_env,
        capture_output=True,
        text=True,
        check=False,
        start_new_session=True,
    )
    assert (called.returncode, called.stderr) == (0, "")
    assert json.loads(called.stdout)["path"] == "/x"
    assert server.fake.token_requests == 1

    # An error is still one line, in HTTPie 3.2.1's words before the plugin's.
    refused = subprocess.run(
        [*http, "-a", f"{CLIENT_ID}:nope-{CLIENT_SECRET}", server.url + "/x"],
        env=http_env,
        capture_output=True,
        text=True,
        check=False,
        start_new_session=True,
    )
    (line,) = [line for line in refused.stderr.splitlines() if line.strip()]
    assert refused.returncode == 1
    assert line.startswith(
        "http: LogLevel.ERROR: TokenRequestFailed: the token endpoint answered 400 invalid_client"
    )
    assert CLIENT_SECRET not in refused.stderr


def installed_in(environment: Path) -> set[str]:
    """``name==version`` of every distribution a virtual environment holds, as pip lists them."""
    listed = subprocess.run(
        [str(environment / SCRIPTS / "python"), "-m", "pip", "list", "--format=freeze"],
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    return {line.lower() for line in listed.stdout.split()}
