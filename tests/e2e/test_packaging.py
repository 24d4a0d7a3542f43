"""The built wheel's metadata, as a package index shows it and pip reads it.

The wheel is the one .ci/run built into TRULIOO_TEST_WHEELHOUSE; without that folder, it is built
once here (which needs the package index for the build backend).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from test_plugin_install import DEBIAN_12

from httpie_trulioo import __version__

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parent.parent.parent
REPOSITORY = "https://github.com/httpie-trulioo/httpie-trulioo"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("TRULIOO_TEST_WHEELHOUSE")
    if given:
        folder = Path(given)
    else:
        folder = tmp_path_factory.mktemp("wheel")
        build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(folder)]
        subprocess.run([*build, str(REPO)], check=True)
    return folder / f"httpie_trulioo-{__version__}-py3-none-any.whl"


@pytest.fixture(scope="module")
def metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        return BytesParser().parsebytes(archive.read(f"httpie_trulioo-{__version__}.dist-info/METADATA"))


def test_the_wheel_says_where_the_project_and_its_documents_are(metadata: Message) -> None:
    urls = dict(line.split(", ", 1) for line in metadata.get_all("Project-URL", []))
    assert urls == {
        "Homepage": REPOSITORY,
        "Documentation": f"{REPOSITORY}#readme",
        "Source": REPOSITORY,
        "Issues": f"{REPOSITORY}/issues",
        "Changelog": f"{REPOSITORY}/blob/main/CHANGELOG.md",
    }


def test_the_description_is_description_md_and_links_to_the_readme(metadata: Message) -> None:
    description = metadata.get_payload()
    assert description == (REPO / "DESCRIPTION.md").read_text()
    assert f"]({REPOSITORY}#readme)" in description
    assert metadata["Description-Content-Type"] == "text/markdown"


def test_the_classifiers_name_what_the_package_is(metadata: Message) -> None:
    classifiers = metadata.get_all("Classifier", [])
    for wanted in (
        "Environment :: Console",
        "Environment :: Plugins",
        "Intended Audience :: Developers",
        "Topic :: Internet :: WWW/HTTP",
        "Typing :: Typed",
    ):
        assert wanted in classifiers


def test_the_wheel_is_typed(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("httpie_trulioo/py.typed") == b""


def test_the_metadata_version_is_one_twine_6_1_reads(metadata: Message) -> None:
    # 2.4 brought License-Expression; 2.5 (what hatchling 1.32 and later write unless told) is
    # refused by every twine before 7.
    assert metadata["Metadata-Version"] == "2.4"
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]


def test_the_floors_admit_httpie_3_2_0_and_debian_12_s_httpie_3_2_1(metadata: Message) -> None:
    """Installing the plugin beside them must replace nothing (tests/e2e/test_plugin_install.py)."""
    required = {
        requirement.name.lower(): requirement.specifier
        for requirement in map(Requirement, metadata.get_all("Requires-Dist", []))
        if requirement.marker is None
    }
    assert {"httpie", "requests", "urllib3"} <= required.keys()
    assert "3.2.0" in required["httpie"]
    assert "4.0.0" not in required["httpie"]
    checked = 0
    for pin in map(Requirement, DEBIAN_12):
        (exact,) = pin.specifier
        if pin.name.lower() in required and (pin.marker is None or pin.marker.evaluate()):
            assert exact.version in required[pin.name.lower()], pin
            checked += 1
    assert checked == 3  # httpie, requests, urllib3
