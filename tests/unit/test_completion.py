"""Shell completion: the scripts name what the parser declares, and complete in real shells.

Each script is read back by its structure (which options each command has, which take a value,
which complete to profile names), against what ``cli``'s parser declares, so that an option added
to the parser is checked without a change here. Then the scripts run: bash always (its completion
function, called as bash calls it), zsh and fish where they are installed; each asks the installed
``httpie-trulioo`` for the profile names of a profiles file in the test's folder.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shlex
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from harness import find_http, private_folders
from helpers import posix_only

from httpie_trulioo import cli
from httpie_trulioo.cli import main
from httpie_trulioo.completion import SHELLS, profile_names, script

PROFILES = '[profiles.dev]\nclient_id = "d"\n[profiles.prod]\nclient_id = "p"\n[profiles."qa team"]\n'
NAMES = ["dev", "prod", "qa team"]
VALUED = {"-p", "--profile", "--client-id", "--min-ttl"}  # token's options that take a value, by hand
SHELL_PATHS = {shell: shutil.which(shell) for shell in SHELLS}  # None: not installed


def declared(parser: argparse.ArgumentParser) -> dict[str, dict[str, set[str]]]:
    """Per command ("" for the program): its shown options, those that take a value, the profile ones."""
    found = {"": _options(parser)}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found |= {name: _options(sub) for name, sub in action.choices.items()}
    return found


def _options(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    shown = [
        action for action in parser._actions if action.option_strings and action.help != argparse.SUPPRESS
    ]
    return {
        "options": {name for action in shown for name in action.option_strings},
        "valued": {name for action in shown if action.nargs != 0 for name in action.option_strings},
        "profile": {name for action in shown if action.dest == "profile" for name in action.option_strings},
    }


def read_bash(text: str) -> dict[str, dict[str, set[str]]]:
    """What each command's line of ``_httpie_trulioo_grammar`` says."""
    fields = r"options='([^']*)' valued='([^']*)' profile='([^']*)' choices='[^']*' runs='1?'"
    line = re.compile(r"^ +('?[\w-]*'?)\) " + fields + " ;;$")
    found = {}
    for match in filter(None, map(line.match, text.splitlines())):
        name, options, valued, profile = match.groups()
        found[name.strip("'")] = {
            "options": set(options.split()),
            "valued": set(valued.split()),
            "profile": set(profile.split()),
        }
    return found


def read_zsh(text: str) -> dict[str, dict[str, set[str]]]:
    """Each ``_arguments`` call's option specs: ``'(exclusions)NAME[=+]?[help]:message:action'``."""
    blocks = re.findall(
        r"^ *(?:\((\S+)\)\n)? *_arguments (?:-C )?-S[^\n]*\n((?: *'.*\n)+)", text, re.MULTILINE
    )
    spec = re.compile(r"^ *'\([^)]*\)(-[\w-]+)([=+]?)\[(?:[^\]\\]|\\.)*\](:[^:]*:(.*))?' (?:\\|&& ret=0)$")
    found = {}
    for name, specs in blocks:
        options: dict[str, set[str]] = {"options": set(), "valued": set(), "profile": set()}
        for match in filter(None, map(spec.match, specs.splitlines())):
            option, joined, value, action = match.groups()
            options["options"].add(option)
            assert bool(joined) is bool(value), f"{option}: a value needs both its spelling and its action"
            if value:
                options["valued"].add(option)
            if action == "_httpie-trulioo_profiles":
                options["profile"].add(option)
        found[name] = options
    return found


def read_fish(text: str) -> dict[str, dict[str, set[str]]]:
    """Each ``complete`` line of an option: its command, spellings, and whether it takes a value."""
    line = re.compile(
        r"^complete -c httpie-trulioo -n '__httpie_trulioo_at (\S+) options'((?: -[sl] [\w-]+)+)(.*)"
    )
    found: dict[str, dict[str, set[str]]] = {}
    for match in filter(None, map(line.match, text.splitlines())):
        name, spelled, rest = match.groups()
        options = found.setdefault(name.strip('"'), {"options": set(), "valued": set(), "profile": set()})
        names = {
            ("--" if kind == "-l" else "-") + word for kind, word in re.findall(r"(-[sl]) (\S+)", spelled)
        }
        options["options"] |= names
        if rest.startswith(" -x"):
            options["valued"] |= names
        if "(__httpie_trulioo_profiles)" in rest:
            options["profile"] |= names
    return found


READERS = {"bash": read_bash, "zsh": read_zsh, "fish": read_fish}


def subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    return next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))


def described_commands(shell: str, text: str) -> dict[str, str]:
    """The commands zsh or fish offers after ``httpie-trulioo``, with the help it shows beside each."""
    if shell == "zsh":
        return dict(re.findall(r"^ {16}'([\w-]+):(.*)'$", text, re.MULTILINE))
    line = r"""^complete -c httpie-trulioo -n '__httpie_trulioo_at "" options' -a ([\w-]+) -d '(.*)'$"""
    return dict(re.findall(line, text, re.MULTILINE))


def commands_of(shell: str, text: str) -> list[str]:
    """The commands the script offers after ``httpie-trulioo``."""
    if shell == "bash":
        return re.findall(r"compgen -W '([^']*)' -- \"\$cur\"", text)[0].split()
    if shell == "zsh":
        return re.findall(r"^ +'([\w-]+):", text, re.MULTILINE)
    return re.findall(
        r"""^complete -c httpie-trulioo -n '__httpie_trulioo_at "" options' -a ([\w-]+) """, text, re.M
    )


# --- the scripts, by structure -------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_each_script_names_every_command_and_option_and_which_take_a_value(shell: str) -> None:
    parser = cli._parser()
    text = script(parser, shell)
    options = declared(parser)
    assert READERS[shell](text) == options
    assert commands_of(shell, text) == [name for name in options if name]
    assert options["token"]["valued"] == VALUED  # the parser reading above, checked by hand once
    assert options["status"]["profile"] == {"-p", "--profile"}
    assert {"completion", "exec", "token"} <= set(options)


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_show_each_command_s_help_beside_it(shell: str) -> None:
    parser = cli._parser()
    helps = {choice.dest: choice.help for choice in subparsers(parser)._choices_actions}
    assert described_commands(shell, script(parser, shell)) == helps
    assert helps["completion"] == "print a shell completion script"


def test_zsh_names_the_value_an_option_or_argument_wants_as_the_help_does() -> None:
    text = script(cli._parser(), "zsh")
    assert re.search(r" '\(--client-id\)--client-id=\[[^]]*\]:ID: ' ", text)
    assert re.search(r" '\(--min-ttl\)--min-ttl=\[[^]]*\]:SECONDS: ' ", text)
    assert " ':SHELL:(bash zsh fish)' && ret=0\n" in text


@pytest.mark.parametrize("shell", SHELLS)
def test_an_option_or_command_added_to_the_parser_is_in_the_script_and_a_hidden_one_is_not(
    shell: str,
) -> None:
    parser = cli._parser()
    commands = subparsers(parser)
    status = commands.choices["status"]
    status.add_argument("--since", metavar="WHEN", help="only those fetched since WHEN")
    status.add_argument("-q", "--quiet", action="store_true", help="say less")
    status.add_argument("--internal", action="store_true", help=argparse.SUPPRESS)
    status.add_argument("--bare", action="store_true")  # no help at all
    new = commands.add_parser("whoami", help="say which client a call would use")
    new.add_argument("-p", "--profile", help="this profile")
    found = READERS[shell](script(parser, shell))
    assert {"--since", "-q", "--quiet"} <= found["status"]["options"]
    assert "--internal" not in found["status"]["options"]
    assert "--since" in found["status"]["valued"]
    assert {"-q", "--quiet"} & found["status"]["valued"] == set()
    assert found["whoami"] == {
        "options": {"-h", "--help", "-p", "--profile"},
        "valued": {"-p", "--profile"},
        "profile": {"-p", "--profile"},
    }
    assert "whoami" in commands_of(shell, script(parser, shell))
    assert "--bare" in found["status"]["options"]
    bare = {"bash": " --bare'", "zsh": " '(--bare)--bare[]' ", "fish": " -l bare -d ''\n"}[shell]
    assert bare in script(parser, shell)


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_the_help_shown_beside_an_option_is_the_help_of_help(shell: str) -> None:
    parser = cli._parser()
    commands = subparsers(parser)
    commands.choices["status"].add_argument(
        "--wait", type=int, default=5, help="wait up to %(default)s s, 100%%"
    )
    commands.choices["status"].add_argument("--odd", help="a [bracket] and a quote's \\ backslash")
    text = script(parser, shell)
    if shell == "zsh":
        assert "--wait=[wait up to 5 s, 100%]:WAIT: '" in text
        assert "--odd=[a \\[bracket\\] and a quote'\\''s \\\\ backslash]:ODD: '" in text
    else:
        assert "-l wait -x -d 'wait up to 5 s, 100%'" in text
        assert "-l odd -x -d 'a [bracket] and a quote\\'s \\\\ backslash'" in text


@pytest.mark.parametrize("shell", SHELLS)
def test_every_script_asks_the_installed_command_for_the_names_quietly(shell: str) -> None:
    text = script(cli._parser(), shell)
    asks = re.findall(r"command httpie-trulioo completion (\w+) --profile-names 2>/dev/null", text)
    assert asks == [shell]


@pytest.mark.parametrize("where", ["a command", "an option", "an option's choice", "an argument's choice"])
def test_a_name_the_scripts_would_have_to_quote_is_refused(where: str) -> None:
    parser = cli._parser()
    commands = subparsers(parser)
    if where == "a command":
        commands.add_parser("two words", help="a command no one can type")
    elif where == "an option":
        commands.choices["status"].add_argument("--two words", action="store_true", help="odd")
    elif where == "an option's choice":
        commands.choices["status"].add_argument("--format", choices=["table", "two words"], help="how")
    else:
        commands.add_parser("show", help="show").add_argument("what", choices=["one", "two words"])
    with pytest.raises(
        ValueError, match="words' cannot be completed: commands, options and choices are plain"
    ):
        script(parser, "bash")


@pytest.mark.parametrize("shell", SHELLS)
def test_the_script_checks_as_its_shell_s_syntax(shell: str) -> None:
    if not shutil.which(shell):
        pytest.skip(f"{shell} is not installed: its script is checked by its structure only")
    checked = subprocess.run(
        [shell, "-n"], input=script(cli._parser(), shell), capture_output=True, text=True, check=False
    )
    assert (checked.returncode, checked.stderr) == (0, "")


# --- the command ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_the_command_prints_the_script(capsys: pytest.CaptureFixture[str], shell: str) -> None:
    assert main(["completion", shell]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (script(cli._parser(), shell), "")
    assert out.endswith("\n")
    assert f"httpie-trulioo completion {shell}" in "".join(
        out.splitlines(keepends=True)[:4]
    )  # how to load it


def test_an_unknown_shell_is_bad_usage_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["completion", "tcsh"])
    out, err = capsys.readouterr()
    assert (stopped.value.code, out) == (2, "")
    assert err.splitlines()[0] == "usage: httpie-trulioo completion [-h] SHELL"
    last = err.splitlines()[-1]
    assert last.startswith(
        "httpie-trulioo completion: error: argument SHELL: invalid choice: 'tcsh' (choose from "
    )
    assert all(shell in last for shell in SHELLS)
    assert len(err.splitlines()) == 2


def test_the_names_option_is_not_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["completion", "--help"])
    assert "--profile-names" not in capsys.readouterr().out


# --- the profile names ---------------------------------------------------------------------------


def profiles_file(folder: Path, text: str = PROFILES, mode: int = 0o600) -> dict[str, str]:
    path = folder / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return {"TRULIOO_CONFIG_FILE": str(path)}


def names_by_the_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> tuple[int, str, str]:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    code = main(["completion", "bash", "--profile-names"])
    return code, *capsys.readouterr()


def test_the_names_are_the_profiles_file_s_one_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = profiles_file(tmp_path)
    assert profile_names(environ) == NAMES
    assert names_by_the_command(capsys, monkeypatch, environ) == (0, "dev\nprod\nqa team\n", "")


def test_no_profiles_file_is_no_names_and_no_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {"TRULIOO_CONFIG_FILE": str(tmp_path / "none.toml")}
    assert profile_names(environ) == []
    assert names_by_the_command(capsys, monkeypatch, environ) == (0, "", "")


@pytest.mark.parametrize(
    "text",
    [
        "[profiles.dev\n",  # not TOML
        '[profiles.dev]\nclient_secret = "s3cret"\n',  # a profile the command refuses
        "profiles = 1\n",
        "[profiles.dev]\ncolour = 'blue'\n",
    ],
)
def test_a_broken_profiles_file_lists_nothing_and_says_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    environ = profiles_file(tmp_path, text)
    assert profile_names(environ) is None
    assert names_by_the_command(capsys, monkeypatch, environ) == (1, "", "")


@posix_only("mode bits; on Windows the folder's ACL decides who may write")
@pytest.mark.parametrize("mode", [0o620, 0o602])
def test_a_profiles_file_others_can_write_lists_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    environ = profiles_file(tmp_path, mode=mode)
    assert profile_names(environ) is None
    assert names_by_the_command(capsys, monkeypatch, environ) == (1, "", "")


def test_a_relative_config_file_variable_lists_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {"TRULIOO_CONFIG_FILE": "relative/config.toml"}
    assert profile_names(environ) is None
    assert names_by_the_command(capsys, monkeypatch, environ) == (1, "", "")


@posix_only("mkfifo")
def test_a_profiles_file_that_is_a_fifo_lists_nothing_at_once(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    os.mkfifo(path, 0o600)  # opening it to read waits for a writer, which here never comes
    answers = []
    listing = threading.Thread(
        target=lambda: answers.append(profile_names({"TRULIOO_CONFIG_FILE": str(path)}))
    )
    listing.start()
    listing.join(timeout=10)  # only a bound on a failure: the answer takes no wait
    if listing.is_alive():  # it opened the FIFO: let it go, then fail
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        listing.join()
    assert answers == [None]


def test_a_folder_for_a_profiles_file_lists_nothing(tmp_path: Path) -> None:
    (tmp_path / "config.toml").mkdir()
    assert profile_names({"TRULIOO_CONFIG_FILE": str(tmp_path / "config.toml")}) is None


def test_listing_the_names_runs_no_secret_cmd(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    command = f"touch {shlex.quote(str(ran))}"
    environ = profiles_file(tmp_path, f"[profiles.dev]\nsecret_cmd = {command!r}\n".replace("'", '"'))
    assert profile_names(environ) == ["dev"]
    assert not ran.exists()


def test_a_name_that_does_not_fit_on_one_line_is_left_out(tmp_path: Path) -> None:
    environ = profiles_file(tmp_path, '[profiles."two\\nlines"]\n[profiles.""]\n[profiles.ok]\n')
    assert profile_names(environ) == ["ok"]


# --- in real shells ------------------------------------------------------------------------------
# Each script is the one this process makes (the command prints the same, as tested above), so
# that a change to it shows here; the profile names come from the installed command, as at a TAB.


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The installed httpie-trulioo first on PATH, a home of its own, and the profiles file."""
    folder = tmp_path_factory.mktemp("completion")
    bin_folder = str(Path(find_http("httpie-trulioo")).parent)
    keep = {name: value for name, value in os.environ.items() if not name.startswith("TRULIOO_")}
    return {
        **keep,
        **private_folders(folder),
        **profiles_file(folder),
        "PATH": bin_folder + os.pathsep + os.environ.get("PATH", ""),
    }


def wider_parser() -> argparse.ArgumentParser:
    """The command's parser with more kinds of things to complete: a program option with a value,
    options whose value is one of a few choices, and a second command that runs a command."""
    parser = cli._parser()
    parser.add_argument("-c", "--config", metavar="FILE", help="read FILE first")
    commands = subparsers(parser)
    commands.choices["status"].add_argument("-f", "--format", choices=["table", "json"], help="how")
    commands.choices["status"].add_argument("--sort", choices=["name", "expiry"], help="in which order")
    commands.choices["status"].add_argument("--via", metavar="HOST:PORT", help="through a proxy")
    again = commands.add_parser("again", help="run a command again")
    again.add_argument("command", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    show = commands.add_parser("show", help="show a thing")  # only a first argument's choices complete
    show.add_argument("what")
    show.add_argument("how", choices=["short", "long"])
    return parser


def test_zsh_offers_an_option_s_choices_and_names_its_value() -> None:
    text = script(wider_parser(), "zsh")
    assert " '(-f --format)-f+[how]:FORMAT:(table json)' " in text
    assert " '(-f --format)--format=[how]:FORMAT:(table json)' " in text
    assert " '(--via)--via=[through a proxy]:HOST\\:PORT: ' " in text


def saved(folder: Path, shell: str, parser: argparse.ArgumentParser | None = None) -> str:
    """The script for ``shell`` in a file of ``folder``; its path, quoted for a shell."""
    path = folder / f"completion.{shell}"
    path.write_text(script(parser or cli._parser(), shell))
    return shlex.quote(str(path))


# What bash's completion function answers: the words on the line, the last one under the cursor.
BASH_CASES = {
    "commands": (["httpie-trulioo", ""], None),
    "a command begun": (["httpie-trulioo", "st"], ["status"]),
    "options": (["httpie-trulioo", "status", "-"], None),
    "an option begun": (["httpie-trulioo", "token", "--re"], ["--refresh"]),
    "-p": (["httpie-trulioo", "token", "-p", ""], ["dev", "prod", "qa\\ team"]),
    "--profile": (["httpie-trulioo", "status", "--profile", ""], ["dev", "prod", "qa\\ team"]),
    "--profile begun": (["httpie-trulioo", "exec", "--profile", "p"], ["prod"]),
    "-p @": (["httpie-trulioo", "clear", "-p", "@q"], ["@qa\\ team"]),
    "--profile=": (["httpie-trulioo", "token", "--profile", "="], ["dev", "prod", "qa\\ team"]),
    "--profile=d": (["httpie-trulioo", "token", "--profile", "=", "d"], ["dev"]),
    "--min-ttl": (["httpie-trulioo", "token", "--min-ttl", ""], []),
    "--min-ttl begun": (["httpie-trulioo", "exec", "--min-ttl", "3"], []),
    "--min-ttl=": (["httpie-trulioo", "token", "--min-ttl", "=", ""], []),
    "--client-id": (["httpie-trulioo", "login", "--client-id", ""], []),
    "after a profile": (["httpie-trulioo", "token", "-p", "dev", "--j"], ["--json"]),
    "after --profile=": (["httpie-trulioo", "token", "--profile", "=", "dev", "--j"], ["--json"]),
    "no argument to take": (["httpie-trulioo", "token", "-p", "dev", ""], []),
    "the shell": (["httpie-trulioo", "completion", ""], list(SHELLS)),
    "after the shell": (["httpie-trulioo", "completion", "bash", ""], []),
    "an unknown command": (["httpie-trulioo", "tokens", "-"], []),
    "exec's options": (["httpie-trulioo", "exec", "--min-ttl", "5", "--c"], ["--client-id"]),
    "exec's command": (["httpie-trulioo", "exec", "--", "bas"], None),
    "exec's command without --": (["httpie-trulioo", "exec", "-p", "dev", "bas"], None),
    "after exec's command": (["httpie-trulioo", "exec", "ls", "--c"], []),
    "after another command's --": (["httpie-trulioo", "status", "--", "-"], []),
}

ASK = """\
ask() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _httpie_trulioo
    if ((${#COMPREPLY[@]})); then printf '%s\\n' "${COMPREPLY[@]}"; fi
    printf '%s\\n' '-- end --'
}
"""


def bash_asks(environ: dict[str, str], load: str, *lines: list[str]) -> list[list[str]]:
    """What bash completes each line of words to, after running ``load``."""
    asks = "".join(f"ask {shlex.join(words)}\n" for words in lines)
    bash = SHELL_PATHS["bash"] or "bash"
    ran = subprocess.run(
        [bash, "--norc", "--noprofile"],
        input=f"{load}\n{ASK}{asks}",
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (ran.returncode, ran.stderr) == (0, "")
    answers = ran.stdout.split("-- end --\n")
    assert answers[-1] == ""
    return [answer.splitlines() for answer in answers[:-1]]


@pytest.fixture(scope="module")
def bash_answers(shell_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Every case of BASH_CASES, asked of one bash."""
    load = f"source {saved(tmp_path_factory.mktemp('bash'), 'bash')}"
    answers = bash_asks(shell_env, load, *(words for words, _ in BASH_CASES.values()))
    return dict(zip(BASH_CASES, answers, strict=True))


@posix_only("bash")
@pytest.mark.parametrize("case", BASH_CASES)
def test_bash_completes(bash_answers: dict[str, list[str]], case: str) -> None:
    answer = bash_answers[case]
    if case == "commands":
        assert answer == [name for name in declared(cli._parser()) if name]
    elif case == "options":
        assert sorted(answer) == sorted(declared(cli._parser())["status"]["options"])
    elif case.startswith("exec's command"):  # any program on PATH: bash itself runs this test
        assert "bash" in answer
        assert all(name.startswith("bas") for name in answer)
    else:
        assert answer == BASH_CASES[case][1]


@posix_only("bash")
def test_bash_loads_the_script_as_the_readme_says(shell_env: dict[str, str]) -> None:
    load = 'eval "$(httpie-trulioo completion bash)"'
    assert bash_asks(shell_env, load, ["httpie-trulioo", "st"], ["httpie-trulioo", "token", "-p", "d"]) == [
        ["status"],
        ["dev"],
    ]


@posix_only("bash")
def test_bash_completes_what_a_wider_parser_declares(shell_env: dict[str, str], tmp_path: Path) -> None:
    cases = {
        "status --sort ''": ["name", "expiry"],
        "status -f j": ["json"],
        "status --format=": ["table", "json"],
        "token -f ''": [],
        "--config x st": ["status"],
        "-c ''": [],
        "show ''": [],
        "again httpie-trulio": ["httpie-trulioo"],
    }
    lines = [["httpie-trulioo", *shlex.split(case)] for case in cases]
    lines[2] = ["httpie-trulioo", "status", "--format", "="]  # as bash splits --format=
    answers = bash_asks(shell_env, f"source {saved(tmp_path, 'bash', wider_parser())}", *lines)
    answers[-1] = sorted(set(answers[-1]))  # a folder twice on PATH lists its commands twice
    assert dict(zip(cases, answers, strict=True)) == cases


@posix_only("bash")
@pytest.mark.parametrize(
    ("text", "mode"),
    [(PROFILES, 0o666), ("[profiles.dev\n", 0o600), (None, 0o600), (PROFILES, 0o600)],
    ids=["others can write it", "not TOML", "no file", "the command not on PATH"],
)
def test_bash_completes_no_profile_and_shows_no_error_when_it_cannot_list_them(
    shell_env: dict[str, str], tmp_path: Path, text: str | None, mode: int, request: pytest.FixtureRequest
) -> None:
    environ = {**shell_env, "TRULIOO_CONFIG_FILE": str(tmp_path / "config.toml")}
    if text is not None:
        environ |= profiles_file(tmp_path, text, mode)
    if "PATH" in request.node.callspec.id:
        environ["PATH"] = str(tmp_path)  # no httpie-trulioo there, nor anything else
    load = f"source {saved(tmp_path, 'bash')}"
    assert bash_asks(environ, load, ["httpie-trulioo", "token", "-p", ""]) == [[]]


needs_fish = pytest.mark.skipif(
    SHELL_PATHS["fish"] is None, reason="fish is not installed: its script is checked by its structure"
)

FISH_CASES = {
    "httpie-trulioo st": ["status"],
    "httpie-trulioo token -p ": NAMES,
    "httpie-trulioo status --profile d": ["dev"],
    "httpie-trulioo token --profile=": [f"--profile={name}" for name in NAMES],
    "httpie-trulioo token -p @p": ["@prod"],
    "httpie-trulioo token --profile=@p": ["--profile=@prod"],
    "httpie-trulioo token -p@p": ["-p@prod"],
    "httpie-trulioo token --min-ttl ": [],
    "httpie-trulioo exec --min-ttl 3": [],
    "httpie-trulioo login --client-id ": [],
    "httpie-trulioo completion ": sorted(SHELLS),
    "httpie-trulioo completion bash ": [],
    "httpie-trulioo token -p dev --j": ["--json"],
    "httpie-trulioo exec --min-ttl 5 --c": ["--client-id"],
    "httpie-trulioo exec -p dev --c": ["--client-id"],
    "httpie-trulioo exec -- httpie-trulio": ["httpie-trulioo"],
    "httpie-trulioo exec ls --c": [],
}


def fish_completes(environ: dict[str, str], load: str, *lines: str, config: bool = False) -> list[list[str]]:
    """What fish completes each line to, sorted (descriptions left out), after running ``load``."""
    program = f"{load}; for line in $argv; complete -C $line; echo '-- end --'; end"
    fish = [SHELL_PATHS["fish"] or "fish", *([] if config else ["--no-config"]), "-c", program, *lines]
    ran = subprocess.run(fish, env=environ, capture_output=True, text=True, check=False)
    assert (ran.returncode, ran.stderr) == (0, "")
    answers = ran.stdout.split("-- end --\n")
    assert answers[-1] == ""
    return [sorted(line.split("\t")[0] for line in answer.splitlines()) for answer in answers[:-1]]


@needs_fish
def test_fish_completes(shell_env: dict[str, str], tmp_path: Path) -> None:
    lines = [*FISH_CASES, "httpie-trulioo ", "httpie-trulioo status -"]
    answers = fish_completes(shell_env, f"source {saved(tmp_path, 'fish')}", *lines)
    options = declared(cli._parser())
    expected = [sorted(want) for want in FISH_CASES.values()]
    expected += [sorted(name for name in options if name), sorted(options["status"]["options"])]
    assert dict(zip(lines, answers, strict=True)) == dict(zip(lines, expected, strict=True))


@needs_fish
def test_fish_completes_what_a_wider_parser_declares(shell_env: dict[str, str], tmp_path: Path) -> None:
    cases = {
        "httpie-trulioo status --sort ": ["expiry", "name"],
        "httpie-trulioo status -f j": ["json"],
        "httpie-trulioo token -f ": [],
        "httpie-trulioo --config x st": ["status"],
        "httpie-trulioo exec ls --c": [],
        "httpie-trulioo again ls --h": [],
        "httpie-trulioo again --h": ["--help"],
    }
    answers = fish_completes(shell_env, f"source {saved(tmp_path, 'fish', wider_parser())}", *cases)
    assert dict(zip(cases, answers, strict=True)) == cases


@needs_fish
def test_fish_finds_the_script_where_the_help_says_to_put_it(
    shell_env: dict[str, str], tmp_path: Path
) -> None:
    environ = {**shell_env, **private_folders(tmp_path)}
    del environ["XDG_CONFIG_HOME"]  # so that fish's folder is ~/.config/fish, as the help has it
    folder = Path(environ["HOME"]) / ".config" / "fish" / "completions"
    folder.mkdir(parents=True)
    (folder / "httpie-trulioo.fish").write_text(script(cli._parser(), "fish"))
    assert "fish > ~/.config/fish/completions/httpie-trulioo.fish\n" in _description("completion") + "\n"
    assert fish_completes(environ, "true", "httpie-trulioo token -p ", config=True) == [NAMES]


@needs_fish
def test_fish_completes_no_profile_and_shows_no_error_without_the_command_on_path(
    shell_env: dict[str, str], tmp_path: Path
) -> None:
    environ = {**shell_env, "PATH": str(tmp_path)}  # where fish itself would complain of no such command
    assert fish_completes(environ, f"source {saved(tmp_path, 'fish')}", "httpie-trulioo token -p ") == [[]]


def _description(command: str) -> str:
    """What ``httpie-trulioo COMMAND --help`` says the command does, before argparse wraps it."""
    return subparsers(cli._parser()).choices[command].description or ""


# Lines typed at an interactive zsh, a TAB where completion is asked for, and the words then run.
ZSH_CASES = {
    "httpie-trulioo sta\t": "status",
    "httpie-trulioo token --profile d\t": "token --profile dev",
    "httpie-trulioo token -pd\t": "token -pdev",
    "httpie-trulioo status -p @p\t": "status -p @prod",
    "httpie-trulioo token --profile=q\t": "token --profile=qa team",
    "httpie-trulioo token --min-ttl \t": "token --min-ttl",
    "httpie-trulioo status --ch\t": "status --check",
    "httpie-trulioo completion f\t": "completion fish",
    "httpie-trulioo completion bash --he\t": "completion bash --help",
    "httpie-trulioo exec --min-t\t": "exec --min-ttl",
    "httpie-trulioo exec -- httpie-tru\t": "exec -- httpie-trulioo",
    "httpie-trulioo exec nosuchcommand --min-t\t": "exec nosuchcommand --min-t",
}


@pytest.mark.skipif(
    SHELL_PATHS["zsh"] is None, reason="zsh is not installed: its script is checked by its structure"
)
@posix_only("a pseudo-terminal")
@pytest.mark.parametrize("load", ["eval", "fpath"])
def test_zsh_completes(shell_env: dict[str, str], tmp_path: Path, load: str) -> None:
    """An interactive zsh on a pseudo-terminal, where the command is a function that prints its words.

    The script is loaded either way the help says: eval'd after compinit, or found on $fpath by it.
    """
    import pty  # noqa: PLC0415 - POSIX only

    functions = tmp_path / "functions"
    functions.mkdir()
    (functions / "_httpie-trulioo").write_text(script(cli._parser(), "zsh"))
    setup = {
        "eval": f'autoload -U compinit && compinit -u -D\neval "$(<{functions}/_httpie-trulioo)"\n',
        "fpath": f"fpath=({shlex.quote(str(functions))} $fpath)\nautoload -U compinit && compinit -u -D\n",
    }[load]
    setup += 'httpie-trulioo() { print -r -- "ran<$*>" }\nprint -r -- ready""\n'
    assert "before compinit: fpath=(~/.zfunc $fpath)" in _description("completion")
    pid, terminal = pty.fork()
    if pid == 0:  # the child: zsh, with no startup file
        os.chdir(tmp_path)
        zsh = SHELL_PATHS["zsh"] or "zsh"
        os.execve(zsh, [zsh, "-f", "-i"], {**shell_env, "TERM": "dumb", "PS1": "% "})  # noqa: S606
    try:
        _until(terminal, b"ready\r\n", setup.encode())
        ran = []
        for line in ZSH_CASES:
            out = _until(terminal, b">\r\n", (line + "\n").encode())
            ran.append(re.findall(rb"ran<(.*)>\r\n", out)[-1].decode())
        assert dict(zip(ZSH_CASES, ran, strict=True)) == ZSH_CASES
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(terminal)


def _until(terminal: int, wanted: bytes, typed: bytes) -> bytes:
    """Type ``typed`` and read the terminal until ``wanted`` shows (a hang fails after 30 s)."""
    os.write(terminal, typed)
    seen = b""
    deadline = time.monotonic() + 30
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {wanted!r} on the terminal: {seen!r}"
        if select.select([terminal], [], [], left)[0]:
            seen += os.read(terminal, 65536)
    return seen
