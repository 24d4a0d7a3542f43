"""Mutation score of the package, judged by the fast tests: run mutmut, print the score per module.

    python benchmarks/mutation.py                 # mutmut run, then the table
    python benchmarks/mutation.py --no-run        # the table of the last run only

mutmut's settings are in pyproject.toml (``[tool.mutmut]``): every module of ``httpie_trulioo``,
and the tests in ``tests/unit``. A mutant counts as killed when a test failed or timed out on it,
or when it is listed in ``mutation-equivalents.txt`` beside pyproject.toml: one mutant a line,
``name: why it cannot change behaviour``, at most 5% of all mutants. "No tests" and "survived"
count against the score. Exit status 1 when the score is under 85% overall or 80% in a module,
or when the list of equivalents is stale, too long or gives no reason.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "mutation-equivalents.txt"
OVERALL_TARGET = 85.0  # percent of all mutants killed
MODULE_TARGET = 80.0  # percent of each module's mutants killed
MOST_EQUIVALENTS = 5.0  # percent of all mutants that may be counted as killed by the list
DETECTED = {"killed", "timeout", "caught by type check", "segfault"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="report the last run, run nothing")
    parser.add_argument("--max-children", type=int, help="parallel test processes (default: CPUs)")
    args = parser.parse_args()
    if not args.no_run:
        command = [sys.executable, "-m", "mutmut", "run"]
        if args.max_children:
            command += ["--max-children", str(args.max_children)]
        subprocess.run(command, cwd=ROOT, check=False, stdout=subprocess.DEVNULL)
    states = mutant_states()
    if not states:
        print("no mutants: run without --no-run first", file=sys.stderr)
        return 1
    equivalents, problems = read_equivalents(states)
    return report(states, equivalents, problems)


def mutant_states() -> dict[str, str]:
    """Each mutant's name and state, as ``mutmut results --all true`` gives them."""
    listing = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    states = {}
    for line in listing.splitlines():
        name, separator, state = line.strip().rpartition(": ")
        if separator and "__mutmut_" in name:
            states[name] = state
    return states


def read_equivalents(states: dict[str, str]) -> tuple[set[str], list[str]]:
    """The listed equivalent mutants, and what is wrong with the list."""
    listed: set[str] = set()
    problems = []
    lines = EQUIVALENTS.read_text(encoding="utf-8").splitlines() if EQUIVALENTS.exists() else []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, reason = line.partition(":")
        name = name.strip()
        where = f"{EQUIVALENTS.name}:{number}"
        if not reason.strip():
            problems.append(f"{where}: {name} gives no reason")
        elif name not in states:
            problems.append(f"{where}: {name} is not a mutant of this code (stale)")
        elif states[name] in DETECTED:
            problems.append(f"{where}: {name} is killed by the tests now: remove it from the list")
        else:
            listed.add(name)
    if len(listed) > len(states) * MOST_EQUIVALENTS / 100:
        problems.append(f"{len(listed)} equivalents listed, more than {MOST_EQUIVALENTS:g}% of all mutants")
    return listed, problems


def module_of(name: str) -> str:
    """``httpie_trulioo.cache.x_read__mutmut_3`` -> ``cache``; the package's own -> ``__init__``."""
    part = name.split(".")[1]
    return "__init__" if part.startswith(("x_", "xǁ")) else part


def report(states: dict[str, str], equivalents: set[str], problems: list[str]) -> int:
    totals: Counter[str] = Counter()
    killed: Counter[str] = Counter()
    listed: Counter[str] = Counter()
    for name, state in states.items():
        module = module_of(name)
        totals[module] += 1
        if state in DETECTED:
            killed[module] += 1
        elif name in equivalents:
            listed[module] += 1
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - the git the developer's PATH finds
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    unchecked = sum(state == "not checked" for state in states.values())
    print(f"mutation score at {commit or 'an unknown commit'} (tests/unit)")
    if unchecked:
        problems.append(f"{unchecked} mutants not checked yet: the run did not finish")
    print(f"| {'module':<16} | mutants | killed | equivalent | score |")
    print(f"|{'-' * 18}|--------:|-------:|-----------:|------:|")
    failing = []
    for module in sorted(totals):
        score = 100 * (killed[module] + listed[module]) / totals[module]
        counts = f"{totals[module]:7d} | {killed[module]:6d} | {listed[module]:10d}"
        print(f"| {module:<16} | {counts} | {score:4.1f}% |")
        if score < MODULE_TARGET:
            failing.append(f"{module} {score:.1f}% < {MODULE_TARGET:g}%")
    overall = 100 * (sum(killed.values()) + sum(listed.values())) / sum(totals.values())
    print(
        f"| {'all':<16} | {sum(totals.values()):7d} | {sum(killed.values()):6d} "
        f"| {sum(listed.values()):10d} | {overall:4.1f}% |"
    )
    if overall < OVERALL_TARGET:
        failing.append(f"all {overall:.1f}% < {OVERALL_TARGET:g}%")
    for line in failing + problems:
        print(f"mutation.py: {line}", file=sys.stderr)
    return 1 if failing or problems else 0


if __name__ == "__main__":
    sys.exit(main())
