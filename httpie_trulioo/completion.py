"""Shell completion for ``httpie-trulioo``: a script for bash, zsh or fish, made from the command's parser.

The script is made from the parser each time it is printed, so a new command or option completes
without a change here. Profile names are not in it: at each TAB it asks the installed command for
them (``httpie-trulioo completion SHELL --profile-names``), so a profile added today completes today.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping

from .profiles import config_file, load_profiles

NAMES_OPTION = "--profile-names"  # the hidden option of ``completion`` that the scripts call at each TAB
PROFILE_DEST = "profile"  # the option whose value is a profile name: -p/--profile


class Option:
    """An option as completion sees it: its spellings, its help, and what its value completes to."""

    def __init__(self, action: argparse.Action) -> None:
        """Read the option from its argparse action."""
        self.names = tuple(action.option_strings)
        self.help = _one_line(_expanded(action.help, action))
        self.takes_value = action.nargs != 0
        self.metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
        self.profile = action.dest == PROFILE_DEST
        self.choices = tuple(str(choice) for choice in action.choices or ())


class Command:
    """A command, or the program itself (named ""): its options, and what its arguments are."""

    def __init__(self, name: str, help_text: str | None, parser: argparse.ArgumentParser) -> None:
        """Read the command from its parser; an option or argument hidden from --help stays hidden."""
        self.name = name
        self.help = _one_line(help_text)
        shown = [action for action in parser._actions if action.help != argparse.SUPPRESS]
        self.options = tuple(Option(action) for action in shown if action.option_strings)
        self.valued = tuple(name for option in self.options if option.takes_value for name in option.names)
        arguments = [
            action
            for action in parser._actions
            if not action.option_strings and not isinstance(action, argparse._SubParsersAction)
        ]
        # Its first argument, when that is one of a few choices (completion's shell); and whether
        # its arguments are a command to run (exec's, an argparse.REMAINDER).
        self.chosen = next((action for action in arguments[:1] if action.choices), None)
        self.choices = tuple(str(choice) for choice in self.chosen.choices or ()) if self.chosen else ()
        self.runs_a_command = any(action.nargs == argparse.REMAINDER for action in arguments)


def grammar(parser: argparse.ArgumentParser) -> tuple[Command, tuple[Command, ...]]:
    """The program (with its own options) and its commands, as the parser declares them."""
    groups = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    helps = {choice.dest: choice.help for group in groups for choice in group._choices_actions}
    program = Command("", None, parser)
    commands = tuple(
        Command(name, helps.get(name), sub) for group in groups for name, sub in group.choices.items()
    )
    for command in commands:
        _check_word(command.name)
    for command in (program, *commands):
        for word in command.choices:
            _check_word(word)
        for option in command.options:
            for word in (*option.names, *option.choices):
                _check_word(word)
    return program, commands


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell``, one of ``SHELLS``."""
    return _SCRIPTS[shell](*grammar(parser))


def profile_names(environ: Mapping[str, str]) -> list[str] | None:
    """The profile names of the profiles file, [] when there is no file; None when it cannot be used.

    The file is read with the checks of every call (one that others can write gives None) and
    no ``secret_cmd`` runs; only a regular file is opened. A name that does not fit on one line is
    left out.
    """
    try:
        path = config_file(environ)
        if os.path.exists(path) and not os.path.isfile(path):
            return None  # a FIFO or a device could keep the TAB waiting: the command says what is wrong
        profiles = load_profiles(environ)
    except Exception:  # noqa: BLE001 - a TAB shows no error, whatever the file holds; the command will
        return None
    return [name for name in profiles if name and name.isprintable()]


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _expanded(text: str | None, action: argparse.Action) -> str | None:
    """The help as --help shows it: ``%(default)s`` and the like filled in, ``%%`` a ``%``."""
    if text is None or "%" not in text:
        return text
    try:
        return text % vars(action)
    except (KeyError, TypeError, ValueError):
        return text  # argparse would fail on it too, in --help


def _check_word(word: str) -> None:
    """Refuse a name the scripts would have to quote: none does, and a new one must not break them."""
    if not re.fullmatch(r"[\w.-]+", word):
        raise ValueError(f"{word!r} cannot be completed: commands, options and choices are plain words")


def _quoted(text: str) -> str:
    """``text`` as one word for bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


# --- bash ----------------------------------------------------------------------------------------

_BASH = """\
# bash completion for httpie-trulioo; in ~/.bashrc: eval "$(httpie-trulioo completion bash)"

_httpie_trulioo_grammar() {
    # What command $1 takes: its options, those that take a value, those that take a profile
    # name, the choices of its first argument, and whether its arguments are a command to run.
    case $1 in
@GRAMMAR@
        *) options='' valued='' profile='' choices='' runs='' ;;
    esac
}

_httpie_trulioo_reply() {
    # COMPREPLY gets the lines read, one word each (bash 3.2, macOS's own, has no mapfile).
    local word
    while IFS= read -r word; do COMPREPLY+=("$word"); done
}

_httpie_trulioo_profiles() {
    # The profile names of the profiles file, read now, that start with $1 (an "@" kept).
    local typed=$1 at='' name quoted
    if [[ $typed == @* ]]; then at=@ typed=${typed#@}; fi
    while IFS= read -r name; do
        if [[ $name == "$typed"* ]]; then
            printf -v quoted %q "$at$name"
            COMPREPLY+=("$quoted")
        fi
    done < <(command httpie-trulioo completion bash @NAMES@ 2>/dev/null)
}

_httpie_trulioo() {
    local cur=${COMP_WORDS[COMP_CWORD]} word command='' option='' arguments=0 dashes='' i
    local options valued profile choices runs
    _httpie_trulioo_grammar ''
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ -n $dashes ]]; then
            arguments=$((arguments + 1))
        elif [[ $word == -- ]]; then
            dashes=1
        elif [[ $word == -* ]]; then
            if [[ " $valued " == *" $word "* ]]; then
                # Its value is the next word, or the one after "=": bash splits --profile=NAME.
                if [[ ${COMP_WORDS[i + 1]} == = ]]; then
                    i=$((i + 1))
                    if ((i == COMP_CWORD)); then cur=''; fi
                fi
                if ((i + 1 >= COMP_CWORD)); then option=$word; fi
                i=$((i + 1))
            fi
        elif [[ -z $command ]]; then
            command=$word
            _httpie_trulioo_grammar "$command"
        else
            arguments=$((arguments + 1))
            if [[ -n $runs ]]; then dashes=1; fi
        fi
    done
    if [[ -n $option ]]; then
        # An option's value: a profile name, one of its choices, or nothing to guess.
        if [[ " $profile " == *" $option "* ]]; then _httpie_trulioo_profiles "$cur"; fi
        case "$command $option" in
@VALUES@
        esac
    elif [[ -n $runs && ( -n $dashes || $cur != -* ) ]]; then
        # The command that exec runs, then its arguments.
        if ((arguments == 0)); then
            _httpie_trulioo_reply < <(compgen -c -- "$cur")
        else
            compopt -o default 2>/dev/null
        fi
    elif [[ -n $dashes ]]; then
        return 0
    elif [[ $cur == -* ]]; then
        _httpie_trulioo_reply < <(compgen -W "$options" -- "$cur")
    elif [[ -z $command ]]; then
        _httpie_trulioo_reply < <(compgen -W '@COMMANDS@' -- "$cur")
    elif ((arguments == 0)); then
        _httpie_trulioo_reply < <(compgen -W "$choices" -- "$cur")
    fi
    return 0
}

complete -F _httpie_trulioo httpie-trulioo
"""


def _bash(program: Command, commands: tuple[Command, ...]) -> str:
    grammar_lines, value_lines = [], []
    for command in (program, *commands):
        fields = {
            "options": [name for option in command.options for name in option.names],
            "valued": command.valued,
            "profile": [name for option in command.options if option.profile for name in option.names],
            "choices": command.choices,
            "runs": ["1"] if command.runs_a_command else [],
        }
        assigned = " ".join(f"{field}={_quoted(' '.join(words))}" for field, words in fields.items())
        grammar_lines.append(f"        {_quoted(command.name)}) {assigned} ;;")
        for option in command.options:
            if option.choices:
                case = "|".join(_quoted(f"{command.name} {name}") for name in option.names)
                words = _quoted(" ".join(option.choices))
                value_lines.append(
                    f'            {case}) _httpie_trulioo_reply < <(compgen -W {words} -- "$cur") ;;'
                )
    return (
        _BASH.replace("@GRAMMAR@", "\n".join(grammar_lines))
        .replace("@VALUES@", "\n".join(value_lines))
        .replace("@NAMES@", NAMES_OPTION)
        .replace("@COMMANDS@", " ".join(command.name for command in commands))
    )


# --- zsh -----------------------------------------------------------------------------------------

_ZSH = """\
#compdef httpie-trulioo
# zsh completion for httpie-trulioo: save it as _httpie-trulioo in a folder on $fpath, or, after
# compinit in ~/.zshrc: eval "$(httpie-trulioo completion zsh)"

_httpie-trulioo_profiles() {
    # The profile names of the profiles file, read now (an "@" kept).
    local -a names expl
    names=(${(f)"$(command httpie-trulioo completion zsh @NAMES@ 2>/dev/null)"})
    compset -P @
    _wanted profiles expl 'profile name' compadd -a names
}

_httpie-trulioo_command() {
    # The command that exec runs, and its arguments, after the "--" that may come first.
    if [[ $words[1] == -- ]]; then
        shift words
        (( CURRENT-- ))
    fi
    _normal
}

_httpie-trulioo() {
    local curcontext=$curcontext state state_descr line ret=1
    typeset -A opt_args
    _arguments -C -S \\
@PROGRAM@
        ': :->command' \\
        '*:: :->argument' && ret=0
    case $state in
        (command)
            local -a commands
            commands=(
@COMMANDS@
            )
            _describe -t commands 'httpie-trulioo command' commands && ret=0
            ;;
        (argument)
            curcontext=${curcontext%:*:*}:httpie-trulioo-$words[1]:
            case $words[1] in
@ARGUMENTS@
            esac
            ;;
    esac
    return ret
}

if [[ $funcstack[1] == _httpie-trulioo ]]; then
    _httpie-trulioo "$@"
else
    compdef _httpie-trulioo httpie-trulioo
fi
"""


def _zsh(program: Command, commands: tuple[Command, ...]) -> str:
    arguments = []
    for command in commands:
        specs = _zsh_specs(command)
        if command.runs_a_command:
            specs.append(_quoted("*:: :_httpie-trulioo_command"))
        elif command.chosen:
            message = command.chosen.metavar or command.chosen.dest
            specs.append(_quoted(f":{message}:({' '.join(command.choices)})"))
        lines = ["                    _arguments -S \\"]
        lines += [f"                        {spec} \\" for spec in specs]
        lines[-1] = lines[-1].removesuffix(" \\") + " && ret=0"
        arguments += [f"                ({command.name})", *lines, "                    ;;"]
    return (
        _ZSH.replace("@PROGRAM@", "\n".join(f"        {spec} \\" for spec in _zsh_specs(program)))
        .replace(
            "@COMMANDS@", "\n".join(f"                {_quoted(f'{c.name}:{c.help}')}" for c in commands)
        )
        .replace("@ARGUMENTS@", "\n".join(arguments))
        .replace("@NAMES@", NAMES_OPTION)
    )


def _zsh_specs(command: Command) -> list[str]:
    """``_arguments`` specs for the command's options; each spelling excludes the others."""
    specs = []
    for option in command.options:
        exclusive = f"({' '.join(option.names)})"
        described = "[" + re.sub(r"[][\\]", lambda found: "\\" + found[0], option.help) + "]"
        message = option.metavar.replace(":", "\\:")  # what the value is, shown while it is typed
        value = ""
        if option.profile:
            value = ":profile name:_httpie-trulioo_profiles"
        elif option.choices:
            value = f":{message}:({' '.join(option.choices)})"
        elif option.takes_value:
            value = f":{message}: "  # a space: nothing to complete
        for name in option.names:
            # a value after "=" or as the next word (--profile=NAME, --profile NAME, -pNAME, -p NAME)
            joined = ("=" if name.startswith("--") else "+") if option.takes_value else ""
            specs.append(_quoted(exclusive + name + joined + described + value))
    return specs


# --- fish ----------------------------------------------------------------------------------------

_FISH = """\
# fish completion for httpie-trulioo:
# httpie-trulioo completion fish > ~/.config/fish/completions/httpie-trulioo.fish

function __httpie_trulioo_at --argument-names wanted place
    # Whether the words before the cursor are of command $wanted ("" for none), with the cursor
    # at $place: options, first (its first argument), command or files (of the command exec runs).
    set -l command ''
    set -l valued @PROGRAM_VALUED@
    set -l arguments 0
    set -l dashes 0
    set -l skip 0
    for word in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
        else if test $dashes = 1
            set arguments (math $arguments + 1)
        else if test "$word" = --
            set dashes 1
        else if string match -q -- '-*' $word
            contains -- $word $valued; and set skip 1
        else if test -z "$command"
            set command $word
            switch $command
@VALUED@
            end
        else
            set arguments (math $arguments + 1)
            contains -- $command @RUNNERS@; and set dashes 1
        end
    end
    test "$command" = "$wanted"; or return 1
    switch $place
        case options
            test $dashes = 0
        case first
            test $dashes = 0 -a $arguments = 0
        case command
            test $arguments = 0; or return 1
            test $dashes = 1; or not string match -q -- '-*' (commandline -ct)
        case files
            test $arguments -gt 0
    end
end

function __httpie_trulioo_profiles
    # The profile names of the profiles file, read now (an "@" kept); none, quietly, if the
    # command is not on PATH, where fish itself would complain.
    command -q httpie-trulioo; or return 0
    set -l at (string replace -r -- '^(?:@PROFILE_PREFIXES@)?(@?).*$' '$1' (commandline -ct))
    for name in (command httpie-trulioo completion fish @NAMES@ 2>/dev/null)
        printf '%s\\tprofile\\n' "$at$name"
    end
end

complete -c httpie-trulioo -f
@COMPLETES@
"""


def _fish(program: Command, commands: tuple[Command, ...]) -> str:
    complete = "complete -c httpie-trulioo -n"
    lines = [
        f"{complete} '__httpie_trulioo_at \"\" options' -a {c.name} -d {_fish_quoted(c.help)}"
        for c in commands
    ]
    for command in (program, *commands):
        at = f"'__httpie_trulioo_at \"{command.name}\" options'"
        for option in command.options:
            spelled = " ".join(
                f"-l {name[2:]}" if name[1] == "-" else f"-s {name[1:]}" for name in option.names
            )
            value = " -x" if option.takes_value else ""  # -x: a value is next, and no file name
            if option.profile:
                value += " -a '(__httpie_trulioo_profiles)'"
            elif option.choices:
                value += f" -a {_fish_quoted(' '.join(option.choices))}"
            lines.append(f"{complete} {at} {spelled}{value} -d {_fish_quoted(option.help)}")
        if command.choices:
            first = f"'__httpie_trulioo_at {command.name} first'"
            lines.append(f"{complete} {first} -a {_fish_quoted(' '.join(command.choices))}")
        if command.runs_a_command:
            lines.append(
                f"{complete} '__httpie_trulioo_at {command.name} command' -a '(__fish_complete_command)'"
            )
            lines.append(f"{complete} '__httpie_trulioo_at {command.name} files' -F")
    # How a profile name is typed after its option in one word: --profile=NAME, -pNAME.
    prefixes = sorted(
        f"{name}=" if name[1] == "-" else name
        for command in (program, *commands)
        for option in command.options
        if option.profile
        for name in option.names
    )
    valued = [
        f"                case {command.name}\n                    set valued"
        + "".join(f" {name}" for name in command.valued)
        for command in commands
    ]
    return (
        _FISH.replace("@PROGRAM_VALUED@", " ".join(program.valued))
        .replace("@VALUED@", "\n".join(valued))
        .replace("@RUNNERS@", " ".join(command.name for command in commands if command.runs_a_command))
        .replace("@PROFILE_PREFIXES@", "|".join(dict.fromkeys(prefixes)))
        .replace("@NAMES@", NAMES_OPTION)
        .replace("@COMPLETES@", "\n".join(lines))
    )


def _fish_quoted(text: str) -> str:
    """``text`` as one word for fish, in whose single quotes a backslash escapes a quote or a backslash."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_SCRIPTS = {"bash": _bash, "zsh": _zsh, "fish": _fish}
SHELLS = tuple(_SCRIPTS)  # the shells that ``httpie-trulioo completion`` writes a script for
