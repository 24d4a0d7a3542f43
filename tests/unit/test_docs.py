"""The documents stay true: every test SECURITY.md cites exists, every setting is in the README."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

from httpie_trulioo import __version__
from httpie_trulioo.settings import SETTINGS, shown_default

REPO = Path(__file__).resolve().parent.parent.parent


def test_every_test_security_md_cites_exists() -> None:
    cited = re.findall(r"`((?:unit|e2e)/test_\w+\.py)::(test_\w+)`", (REPO / "SECURITY.md").read_text())
    assert len(cited) > 40
    missing = [
        f"{name}::{test}"
        for name, test in cited
        if not (REPO / "tests" / name).is_file()
        or not re.search(rf"^def {test}\(", (REPO / "tests" / name).read_text(), re.MULTILINE)
    ]
    assert missing == []


def test_every_setting_the_code_reads_is_in_the_readme() -> None:
    code = "\n".join(path.read_text() for path in (REPO / "httpie_trulioo").glob("*.py"))
    used = set(re.findall(r"\"(TRULIOO_[A-Z_]+)\"", code))
    assert "TRULIOO_TOKEN_BUFFER" in used
    readme = (REPO / "README.md").read_text()
    assert sorted(name for name in used if f"`{name}`" not in readme) == []


def test_the_readme_settings_table_is_the_code_s_table() -> None:
    """Each row of ``settings.SETTINGS``, as the README shows it, in order, and no other row."""
    expected = ["| variable | profile key | default | meaning |", "|---|---|---|---|"]
    for setting in SETTINGS:
        variable = f"`{setting.variable}`" if setting.variable else "—"
        key = f"`{setting.name}`" if setting.in_profile else "—"
        expected.append(f"| {variable} | {key} | {shown_default(setting)} | {setting.meaning} |")
    readme = (REPO / "README.md").read_text().splitlines()
    start = readme.index(expected[0])
    shown = readme[start : start + len(expected) + 1]
    assert shown == [*expected, ""], "the README's table should be:\n" + "\n".join(expected)


def test_the_changelog_has_this_version() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(__version__)}\] - ", changelog, re.MULTILINE)


def readme_commands() -> list[str]:
    """The commands the README shows: indented code lines, and the ``$ `` lines of pasted output."""
    commands = []
    fenced = False
    for line in (REPO / "README.md").read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced and line.startswith("$ "):
            commands.append(line[2:])
        elif not fenced and line.startswith("    ") and line.strip():
            commands.append(line.strip())
    return commands


def shell_hazards(command: str) -> list[str]:
    """What bash and zsh (macOS's default shell) would not both take literally, as typed.

    Unquoted * ? [ ] are file patterns (zsh stops with "no matches found"); ! is history
    expansion, even inside double quotes; a # that starts a word is a comment in bash but an
    argument in an interactive zsh.
    """
    found = []
    quote = ""
    escaped = False
    previous = " "
    for character in command:
        if escaped:
            escaped = False
        elif quote == "'":
            quote = "" if character == "'" else quote
        elif character == "\\":
            escaped = True
        elif quote == '"':
            if character == '"':
                quote = ""
            elif character == "!":
                found.append(character)
        elif character in "'\"":
            quote = character
        elif character in "*?[]!" or (character == "#" and previous.isspace()):
            found.append(character)
        previous = character
    return found


def test_readme_commands_read_the_same_in_bash_and_zsh() -> None:
    commands = readme_commands()
    assert any("'fields[firstName]=Ada'" in command for command in commands)
    assert shell_hazards("http POST x fields[a]=b # note") == ["[", "]", "#"]
    assert {command: shell_hazards(command) for command in commands if shell_hazards(command)} == {}


def test_the_package_index_description_repeats_the_readme() -> None:
    """DESCRIPTION.md is what a package index shows (HTTPie reads it on every call, so it is short).

    Its commands are the README's, which the README's own tests keep working.
    """
    assert 'readme = "DESCRIPTION.md"' in (REPO / "pyproject.toml").read_text()
    description = (REPO / "DESCRIPTION.md").read_text()
    commands = [line.strip() for line in description.splitlines() if line.startswith("    ") and line.strip()]
    assert commands
    assert [command for command in commands if command not in readme_commands()] == []
    assert len(description.encode()) < 4096


def changelog_heading_problems(changelog: str) -> list[str]:
    """The version headings of a changelog that do not read as a released section must.

    The first may be the one still open (``[Unreleased]``, or ``[X.Y.Z] - Unreleased``); every
    other reads ``[X.Y.Z] - YYYY-MM-DD``, with a real date, none newer than the one above it.
    """
    problems = []
    above: date | None = None
    for place, heading in enumerate(re.findall(r"^## (.*)$", changelog, re.MULTILINE)):
        if place == 0 and re.fullmatch(r"\[Unreleased\]|\[\d+\.\d+\.\d+\] - Unreleased", heading):
            continue
        released = re.fullmatch(r"\[\d+\.\d+\.\d+\] - (\d{4}-\d\d-\d\d)", heading)
        try:
            day = date.fromisoformat(released[1]) if released else None
        except ValueError:
            day = None
        if day is None:
            problems.append(heading)
        elif above is not None and day > above:
            problems.append(f"{heading}: newer than the section above it")
        else:
            above = day
    return problems


def test_every_released_changelog_section_has_an_iso_date() -> None:
    assert changelog_heading_problems((REPO / "CHANGELOG.md").read_text()) == []
    assert changelog_heading_problems("## [0.2.0] - Unreleased\n\n## [0.1.0] - 2026-11-30\n") == []
    wrong = ["[0.1.2] - 2026-02-30", "[0.1.1]", "[0.1.0] - Unreleased", "[0.0.9] - 2026-3-1"]
    headings = "".join(f"## {heading}\n\nText.\n\n" for heading in ["[Unreleased]", *wrong])
    assert changelog_heading_problems(headings) == wrong
    assert changelog_heading_problems("## [0.2.0] - 2026-01-01\n## [0.1.0] - 2026-02-01\n") == [
        "[0.1.0] - 2026-02-01: newer than the section above it"
    ]


def test_one_repository_and_one_security_address_everywhere() -> None:
    """The Project-URLs and every document point into one repository, with one address for reports.

    RELEASING.md names both as what to check before the first upload.
    """
    urls = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]
    repository = urls["Source"]
    assert urls["Homepage"] == repository
    assert all(url.startswith(repository) for url in urls.values())
    documents = (
        "pyproject.toml",
        "README.md",
        "DESCRIPTION.md",
        "SECURITY.md",
        "RELEASING.md",
        "CONTRIBUTING.md",
    )
    named = {
        found.rstrip(".")
        for document in documents
        for found in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", (REPO / document).read_text())
    }
    assert named == {repository}
    security, releasing = ((REPO / name).read_text() for name in ("SECURITY.md", "RELEASING.md"))
    (address,) = set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", security))
    assert set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", releasing)) == {address}
    assert f"`{repository}`" in releasing
    assert f"{repository}/security/advisories/new" in security


def test_releasing_md_names_the_build_backend_range_the_pyproject_allows() -> None:
    (backend,) = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    found = re.fullmatch(r"hatchling>=(\d+\.\d+),<(\d+)\.(\d+)", backend)
    assert found, backend
    floor, major, below = found.groups()
    newest = f"{major}.{int(below) - 1}"  # the newest release allowed: .ci/run's build stage builds with it
    releasing = " ".join((REPO / "RELEASING.md").read_text().split())
    assert f"hatchling from {floor} " in releasing
    assert f"up to the cap, {newest} " in releasing
