"""End to end: ``httpie cli plugins install httpie-trulioo`` into a bare HTTPie, then a real call.

HTTPie installs such a plugin and its dependencies into a folder of their own that is on
``sys.path`` only while plugins load; the plugin must still import its dependencies at request
time. The packages come from a local wheel folder, so the test itself reaches no index: .ci/run
builds that folder and names it in TRULIOO_TEST_WHEELHOUSE; without it, the fixture builds it once
(the only step of the suite that needs the package index).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_trulioo import RunningServer
from helpers import AUTH

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parent.parent.parent
SCRIPTS = "Scripts" if os.name == "nt" else "bin"  # where a virtual environment keeps its commands


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
    installed = subprocess.run(
        [str(bare / SCRIPTS / "httpie"), "cli", "plugins", "install", "httpie-trulioo"],
        env=offline,
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

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
