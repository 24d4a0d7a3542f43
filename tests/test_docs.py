"""The documents stay true: every test SECURITY.md cites exists, every setting is in the README."""

from __future__ import annotations

import re
from pathlib import Path

from httpie_trulioo import __version__

REPO = Path(__file__).resolve().parent.parent


def test_every_test_security_md_cites_exists() -> None:
    cited = re.findall(r"`(test_\w+\.py)::(test_\w+)`", (REPO / "SECURITY.md").read_text())
    assert len(cited) > 40
    missing = [
        f"{name}::{test}"
        for name, test in cited
        if not re.search(rf"^def {test}\(", (REPO / "tests" / name).read_text(), re.MULTILINE)
    ]
    assert missing == []


def test_every_setting_the_code_reads_is_in_the_readme() -> None:
    code = "\n".join(path.read_text() for path in (REPO / "httpie_trulioo").glob("*.py"))
    used = set(re.findall(r"\"(TRULIOO_[A-Z_]+)\"", code))
    assert "TRULIOO_TOKEN_BUFFER" in used
    readme = (REPO / "README.md").read_text()
    assert sorted(name for name in used if f"`{name}`" not in readme) == []


def test_the_changelog_has_this_version() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(__version__)}\] - ", changelog, re.MULTILINE)
