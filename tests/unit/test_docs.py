"""The documents stay true: every test SECURITY.md cites exists, every setting is in the README."""

from __future__ import annotations

import re
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
