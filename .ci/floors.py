"""CI: print the lowest version each requirement allows, as pip constraints.

The build backend and the dependencies (pyproject.toml) and what the tests need
(tests/requirements.txt), one ``name==version`` a line, from each ``>=`` bound; a requirement
without one is left out (pip then takes its newest).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")
_LOWER_BOUND = re.compile(r">=\s*([0-9][^,;\s]*)")


def floors(pyproject: Path) -> list[str]:
    """The ``name==version`` pins of every requirement with a lower bound."""
    project = tomllib.loads(pyproject.read_text())
    requirements = [
        *project["build-system"]["requires"],
        *project["project"]["dependencies"],
        *_lines(pyproject.parent / "tests" / "requirements.txt"),
    ]
    pins = []
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        if match is None:
            raise SystemExit(f"cannot read the requirement {requirement!r}")
        name, specifier = match.groups()
        lowest = _LOWER_BOUND.search(specifier)
        if lowest:
            pins.append(f"{name}=={lowest.group(1)}")
    return pins


def _lines(requirements: Path) -> list[str]:
    """The requirements of a pip requirements file, without comments and blank lines."""
    found = (line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines())
    return [line for line in found if line]


if __name__ == "__main__":
    print("\n".join(floors(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("pyproject.toml"))))
