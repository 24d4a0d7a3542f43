"""Unit tests for the secret sources outside the process: a helper command and the OS keyring.

The helper commands are real processes; the keyring is the real file keyring that the tests
install (keyrings.alt), kept in a temp folder.
"""

from __future__ import annotations

import errno
import getpass
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import DEV_URL, PROD_URL, PYTHON, MemoryKeyring, command, posix_only

from httpie_trulioo.errors import KeyringUnavailable, PromptCancelled, SecretCommandFailed
from httpie_trulioo.secret_sources import (
    ask_on_terminal,
    can_prompt,
    command_words,
    forget_in_keyring,
    kept_logins,
    read_keyring,
    run_secret_command,
    store_in_keyring,
)


def test_the_keyring_entry_is_per_token_url_and_client(keyring_folder: Path) -> None:
    assert store_in_keyring(DEV_URL, "c", "dev-secret") == "keyrings.alt.file.PlaintextKeyring"
    store_in_keyring(PROD_URL, "c", "prod-secret")
    assert (read_keyring(DEV_URL, "c"), read_keyring(PROD_URL, "c"), read_keyring(DEV_URL, "d")) == (
        "dev-secret",
        "prod-secret",
        None,
    )
    import keyring  # noqa: PLC0415 - the real package, as another tool would read the entry

    assert keyring.get_password("httpie-trulioo", f"c @ {DEV_URL}") == "dev-secret"
    assert (keyring_folder / "python_keyring" / "keyring_pass.cfg").is_file()


def test_forgetting_a_secret_removes_that_clients_entry_only(keyring_folder: Path) -> None:
    store_in_keyring(DEV_URL, "c", "dev-secret")
    store_in_keyring(PROD_URL, "c", "prod-secret")
    assert forget_in_keyring(DEV_URL, "c") is True
    assert (read_keyring(DEV_URL, "c"), read_keyring(PROD_URL, "c")) == (None, "prod-secret")
    assert forget_in_keyring(DEV_URL, "c") is False  # nothing left to remove
    assert forget_in_keyring(PROD_URL, "d") is False
    assert read_keyring(PROD_URL, "c") == "prod-secret"


@pytest.fixture
def no_keyring_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the keyring extra were not installed."""
    monkeypatch.setitem(sys.modules, "keyring", None)


@pytest.mark.usefixtures("no_keyring_package")
def test_without_the_keyring_package_nothing_is_read_or_removed_and_storing_says_what_to_install() -> None:
    assert read_keyring(DEV_URL, "c") is None
    assert forget_in_keyring(DEV_URL, "c") is False
    with pytest.raises(KeyringUnavailable) as caught:
        store_in_keyring(DEV_URL, "c", "s3cret")
    assert str(caught.value) == (
        "the OS keyring needs the keyring package: pip install 'httpie-trulioo[keyring]'."
    )


@pytest.fixture
def no_keyring_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The backend keyring falls back to where the OS has none (a bare server, a container).

    Yields the reason that backend gives for each call it refuses.
    """
    import keyring  # noqa: PLC0415 - the real package, as a user without an OS keyring has it
    from keyring.backends import fail  # noqa: PLC0415
    from keyring.errors import NoKeyringError  # noqa: PLC0415

    # Decisions are logged at info (TRULIOO_LOG=info); a test of the plugin may have stopped
    # the package's logger from passing them on.
    monkeypatch.setattr(logging.getLogger("httpie_trulioo"), "propagate", True)
    chosen = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(NoKeyringError) as refusal:
            keyring.get_password("httpie-trulioo", "anyone")
        yield str(refusal.value)
    finally:
        keyring.set_keyring(chosen)


def test_without_an_os_keyring_a_read_goes_on_and_a_store_or_removal_says_why(
    no_keyring_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    reason = f"NoKeyringError: {no_keyring_backend[:200]}"  # the backend's reason, cut at 200 characters
    assert len(no_keyring_backend) > 200
    with caplog.at_level(logging.INFO, logger="httpie_trulioo"):
        assert read_keyring(DEV_URL, "c") is None
    assert caplog.messages == [f"the keyring could not be read ({reason}); going on without it"]
    with pytest.raises(KeyringUnavailable) as caught:
        store_in_keyring(DEV_URL, "c", "s3cret")
    assert str(caught.value) == (
        "no OS keyring is available to this process (no keychain, Secret Service or Credential "
        "Manager found; PYTHON_KEYRING_BACKEND picks one)."
    )
    with pytest.raises(KeyringUnavailable) as caught:
        forget_in_keyring(DEV_URL, "c")
    assert str(caught.value) == f"the keyring did not remove the secret: {reason}."


@posix_only("the keyring file under XDG_DATA_HOME, and POSIX error numbers")
def test_a_keyring_that_cannot_store_says_why_without_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_the_way = tmp_path / "data"
    in_the_way.write_text("")  # a file where the keyring's folder would be made
    monkeypatch.setenv("XDG_DATA_HOME", str(in_the_way))
    with pytest.raises(KeyringUnavailable) as caught:
        store_in_keyring(DEV_URL, "c", "s3cret")
    assert str(caught.value) == (
        "the keyring did not store the secret: NotADirectoryError: [Errno 20] Not a directory: "
        f"'{in_the_way / 'python_keyring'}'."
    )


def secret_from(code: str, timeout: float = 30) -> str:
    return run_secret_command(command(code), timeout=timeout, owner="the secret_cmd of profile 'p'")


@contextmanager
def stdin_holding(body: bytes) -> Iterator[int]:
    """This process's standard input (fd 0) is a pipe holding ``body``, as for ``http POST ... < file``.

    Yields the pipe's end to read what is left of the body from.
    """
    reading, writing = os.pipe()
    os.write(writing, body)
    os.close(writing)
    saved = os.dup(0)
    os.dup2(reading, 0)
    try:
        yield reading
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(reading)


@posix_only("a secret_cmd quoted for a POSIX shell")
def test_secret_cmd_gives_its_first_line_and_runs_without_a_shell_or_stdin() -> None:
    assert secret_from("print('s3cr:et with spaces'); print('second line')") == "s3cr:et with spaces"
    assert secret_from("import sys; sys.stdout.write('crlf\\r\\n')") == "crlf"
    with stdin_holding(b'{"request": "body"}') as body:
        assert secret_from("import sys; print(repr(sys.stdin.read()))") == "''"  # nothing to read
        assert os.read(body, 100) == b'{"request": "body"}'  # left whole for the request
    no_shell = f"{PYTHON} -c 'import sys; print(sys.argv[1])' '$HOME;`id`|x'"
    assert run_secret_command(no_shell, timeout=30, owner="o") == "$HOME;`id`|x"


@posix_only("a secret_cmd quoted for a POSIX shell")
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "import sys; print('LEAKED-secret'); sys.exit(3)",
            (
                "the secret_cmd of profile 'p' exited with status 3 (its output is not shown: run it "
                "yourself to see why)."
            ),
        ),
        ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", "was stopped by signal 15"),
        ("print()", "the secret_cmd of profile 'p' printed no secret: its first line is empty."),
        ("import sys; sys.stdout.buffer.write(b'\\xffLEAKED')", "a first line that is not UTF-8"),
    ],
)
def test_a_failing_secret_cmd_is_one_line_without_its_output(
    code: str, expected: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SecretCommandFailed) as caught:
        secret_from(code)
    message = str(caught.value)
    assert expected in message
    assert "LEAKED" not in message
    assert "\n" not in message
    assert capfd.readouterr() == ("", "")  # nor on this process's stdout or stderr


@posix_only("a secret_cmd quoted for a POSIX shell")
@pytest.mark.parametrize(
    ("stderr", "said"),
    [
        ("\n  \nerror: vault is locked\nsee the manual\n", "error: vault is locked"),
        ("bad token LEAKED-0123456789abcdef\x1b[31m here\n", "bad token *** here"),  # its stdout, echoed
        ("x" * 300, "x" * 199 + "…"),
    ],
)
def test_a_failing_secret_cmd_says_the_first_line_of_its_stderr(stderr: str, said: str) -> None:
    """What the user needs to see ("vault is locked") is shown; stdout, which may be the secret, never is."""
    code = f"import sys; print('LEAKED-0123456789abcdef'); sys.stderr.write({stderr!r}); sys.exit(2)"
    with pytest.raises(SecretCommandFailed) as caught:
        secret_from(code)
    assert str(caught.value) == f"the secret_cmd of profile 'p' exited with status 2: {said}"


@posix_only("a secret_cmd quoted for a POSIX shell")
def test_a_secret_cmd_that_never_ends_is_stopped_at_the_timeout() -> None:
    with pytest.raises(SecretCommandFailed) as caught:
        secret_from("import time; print('LEAKED', flush=True); time.sleep(600)", timeout=0.5)
    assert str(caught.value) == (
        "the secret_cmd of profile 'p' did not finish within 0.5 s (TRULIOO_TIMEOUT)."
    )


@posix_only("a secret_cmd quoted for a POSIX shell")
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("no-such-program-7f3a --flag", "cannot be run: 'no-such-program-7f3a': no such program."),
        ("'unbalanced", "cannot be split into words: No closing quotation."),
        ("  ", "is empty."),
    ],
)
def test_a_secret_cmd_that_cannot_run_is_one_line(line: str, expected: str) -> None:
    with pytest.raises(SecretCommandFailed, match=r"^the secret_cmd of profile 'p' ") as caught:
        run_secret_command(line, timeout=5, owner="the secret_cmd of profile 'p'")
    assert str(caught.value).endswith(expected)


@posix_only("exec permission bits")
def test_a_secret_cmd_that_is_not_executable_says_why(tmp_path: Path) -> None:
    helper = tmp_path / "print-secret"
    helper.write_text("#!/bin/sh\necho s3cret\n")
    helper.chmod(0o644)
    with pytest.raises(SecretCommandFailed) as caught:
        run_secret_command(f"{helper} dev", timeout=5, owner="the secret_cmd of profile 'p'")
    assert str(caught.value) == f"the secret_cmd of profile 'p' cannot be run: '{helper}': Permission denied."


@pytest.mark.parametrize(
    ("line", "posix", "windows"),
    [
        ("vault read 'trulioo/dev'", ["vault", "read", "trulioo/dev"], ["vault", "read", "'trulioo/dev'"]),
        (
            r'"C:\Program Files\Vault\vault.exe" read trulioo\dev',
            [r"C:\Program Files\Vault\vault.exe", "read", "trulioodev"],  # a backslash escapes, unquoted
            [r"C:\Program Files\Vault\vault.exe", "read", r"trulioo\dev"],
        ),
        (
            'op read "" --account qa',  # "" is an empty word on both
            ["op", "read", "", "--account", "qa"],
            ["op", "read", "", "--account", "qa"],
        ),
        (
            r"C:\tools\op.exe read op://qa/x",
            [r"C:toolsop.exe", "read", "op://qa/x"],
            [r"C:\tools\op.exe", "read", "op://qa/x"],
        ),
    ],
)
def test_a_command_line_splits_as_each_systems_shell_splits_it(
    line: str, posix: list[str], windows: list[str]
) -> None:
    assert command_words(line, windows=False) == posix
    assert command_words(line, windows=True) == windows
    with pytest.raises(ValueError, match="No closing quotation"):
        command_words('vault "read', windows=True)


class Terminal:
    """The terminal this process would prompt on, as a file: how it was opened, what was written to it.

    Opening ``/dev/tty`` or ``CONIN$`` opens the file, with the flags asked for, while ``present``.
    """

    DEVICES = ("/dev/tty", "CONIN$")

    def __init__(self, screen: Path) -> None:
        self.screen = screen
        self.present = True
        self.opened: list[tuple[str, int]] = []

    def shown(self) -> bytes:
        return self.screen.read_bytes()


@pytest.fixture
def terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Terminal:
    fake = Terminal(tmp_path / "screen")
    fake.screen.write_bytes(b"")
    real_open = os.open

    def open_device(path: str, flags: int, mode: int = 0o777) -> int:
        if path not in Terminal.DEVICES:
            return real_open(path, flags, mode)
        fake.opened.append((path, flags))
        if not fake.present:
            raise OSError(errno.ENXIO, "No such device or address", path)
        return real_open(fake.screen, flags)

    monkeypatch.setattr(os, "open", open_device)
    return fake


@pytest.mark.parametrize(
    ("platform", "device", "read_write"),
    [
        ("win32", "CONIN$", os.O_RDWR),
        ("linux", "/dev/tty", os.O_RDWR | getattr(os, "O_NOCTTY", 0)),
        ("darwin", "/dev/tty", os.O_RDWR | getattr(os, "O_NOCTTY", 0)),
    ],
)
def test_the_prompt_asks_the_console_on_windows_and_the_terminal_elsewhere(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch, platform: str, device: str, read_write: int
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    assert can_prompt()
    # Opened as getpass opens it: to read and write, and never as this process's controlling terminal.
    assert terminal.opened == [(device, read_write)]
    terminal.present = False
    assert not can_prompt()


def test_a_system_without_o_noctty_opens_the_terminal_to_read_and_write(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch, without_posix_calls: Path
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    assert can_prompt()
    assert terminal.opened == [("/dev/tty", os.O_RDWR)]


def person_answering(monkeypatch: pytest.MonkeyPatch, answer: str | BaseException) -> list[str]:
    """A person at the terminal who types ``answer`` (or presses Ctrl-D, Ctrl-C); the prompts they saw."""
    prompts: list[str] = []

    def answer_prompt(prompt: str) -> str:
        prompts.append(prompt)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    monkeypatch.setattr(getpass, "getpass", answer_prompt)
    return prompts


def test_the_prompt_names_the_client_and_host_and_gives_the_answer(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = person_answering(monkeypatch, "s3cret typed")
    assert ask_on_terminal("my-client", DEV_URL) == "s3cret typed"
    assert prompts == [f"client secret for my-client at {DEV_URL}: "]
    assert terminal.shown() == b""


@pytest.mark.parametrize(
    ("answer", "why", "shown"),
    [
        (EOFError(), "the prompt was closed (Ctrl-D)", b"\n"),  # the error starts a line of its own
        ("", "the answer was empty", b""),  # Enter already ended the line
    ],
)
def test_a_prompt_cancelled_is_one_line_on_a_line_of_its_own(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch, answer: str | BaseException, why: str, shown: bytes
) -> None:
    person_answering(monkeypatch, answer)
    with pytest.raises(PromptCancelled) as caught:
        ask_on_terminal("my-client", DEV_URL)
    assert str(caught.value) == f"no client secret for client 'my-client' at {DEV_URL}: {why}."
    assert terminal.shown() == shown
    line_ended = [("/dev/tty", os.O_WRONLY | getattr(os, "O_NOCTTY", 0))] if shown else []
    assert terminal.opened[1:] == line_ended  # after can_prompt's look


def test_ctrl_c_at_the_prompt_is_one_line_and_stays_an_interrupt(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """So that http and httpie-trulioo exit 130, as a shell expects of an interrupted command."""
    person_answering(monkeypatch, KeyboardInterrupt())
    with caplog.at_level(logging.ERROR, logger="httpie_trulioo"), pytest.raises(KeyboardInterrupt):
        ask_on_terminal("my-client", DEV_URL)
    assert [record.getMessage() for record in caplog.records] == [
        f"no client secret for client 'my-client' at {DEV_URL}: the prompt was interrupted (Ctrl-C)."
    ]
    assert terminal.shown() == b"\n"  # the line starts a line of its own


@pytest.mark.parametrize("posix_calls", [True, False])
def test_a_terminal_gone_before_the_line_is_ended_still_gives_one_line(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, posix_calls: bool
) -> None:
    if not posix_calls:
        request.getfixturevalue("without_posix_calls")

    def hang_up(prompt: str) -> str:
        terminal.present = False  # the terminal window was closed
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", hang_up)
    with pytest.raises(PromptCancelled, match=r"the prompt was closed \(Ctrl-D\)\.$"):
        ask_on_terminal("my-client", DEV_URL)
    assert terminal.shown() == b""


def test_without_a_terminal_nothing_is_asked(terminal: Terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal.present = False
    prompts = person_answering(monkeypatch, "s3cret typed")
    assert ask_on_terminal("my-client", DEV_URL) is None
    assert prompts == []


def test_a_login_is_found_again_after_a_cosmetic_edit_of_the_token_url(keyring_folder: Path) -> None:
    store_in_keyring("https://Auth.Example:443/connect/token/", "c", "s3cret")
    for spelled in ("https://auth.example/connect/token", "HTTPS://AUTH.EXAMPLE/connect/token/"):
        assert read_keyring(spelled, "c") == "s3cret"
    assert read_keyring("https://auth.example/connect/token", "d") is None  # another client
    assert kept_logins() == [("c", "https://auth.example/connect/token")]
    assert forget_in_keyring("https://auth.example:443/connect/token", "c") is True
    assert (read_keyring("https://auth.example/connect/token", "c"), kept_logins()) == (None, [])


def test_a_secret_kept_by_an_earlier_release_under_the_url_as_typed_is_still_found(
    keyring_folder: Path,
) -> None:
    import keyring  # noqa: PLC0415 - the entry as an earlier release wrote it

    typed = "https://auth.example:443/connect/token/"
    keyring.set_password("httpie-trulioo", f"c @ {typed}", "old-secret")
    assert read_keyring(typed, "c") == "old-secret"
    assert read_keyring("https://auth.example/connect/token", "c") is None  # that spelling only
    assert forget_in_keyring(typed, "c") is True
    assert keyring.get_password("httpie-trulioo", f"c @ {typed}") is None


def test_the_only_login_of_a_client_at_the_same_origin_is_used_for_another_path(
    keyring_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store_in_keyring("https://auth.example/connect/token", "c", "s3cret")
    with caplog.at_level(logging.INFO, logger="httpie_trulioo"):
        assert read_keyring("https://auth.example/oauth2/token", "c") == "s3cret"
    assert caplog.messages == [
        "using the secret kept for client 'c' at https://auth.example/connect/token (the same origin)"
    ]
    assert read_keyring("https://auth.example:8443/connect/token", "c") is None  # another port
    assert read_keyring("https://other.example/connect/token", "c") is None
    store_in_keyring("https://auth.example/v2/token", "c", "other-secret")
    assert read_keyring("https://auth.example/oauth2/token", "c") is None  # two: neither is guessed


def test_a_backend_that_keeps_nothing_is_an_error_not_a_login(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password = lambda service, username, password: None  # type: ignore[method-assign]
    with pytest.raises(KeyringUnavailable) as caught:
        store_in_keyring(DEV_URL, "c", "s3cret")
    assert str(caught.value) == (
        f"the keyring backend {type(memory_keyring).__module__}.MemoryKeyring did not keep the secret "
        "(reading it back found nothing): choose another one with PYTHON_KEYRING_BACKEND."
    )
    assert kept_logins() == []


@pytest.mark.parametrize(
    ("chosen", "why"),
    [
        ("nosuch.Keyring", "ModuleNotFoundError: No module named 'nosuch'"),
        ("keyrings.alt.file.NoSuch", "AttributeError: module 'keyrings.alt.file' has no attribute 'NoSuch'"),
        ("Plaintext", "ValueError: Empty module name"),
    ],
)
def test_a_mistyped_keyring_backend_is_one_line_wherever_the_keyring_is_used(
    monkeypatch: pytest.MonkeyPatch, chosen: str, why: str
) -> None:
    import keyring.core  # noqa: PLC0415 - the backend it chose is forgotten, to be chosen again

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", chosen)
    message = (
        f"PYTHON_KEYRING_BACKEND={chosen!r} names no keyring backend that can be loaded ({why}): give a "
        "class such as keyring.backends.SecretService.Keyring, or unset it."
    )
    for use in (
        lambda: read_keyring(DEV_URL, "c"),
        lambda: store_in_keyring(DEV_URL, "c", "s3cret"),
        lambda: forget_in_keyring(DEV_URL, "c"),
    ):
        with pytest.raises(KeyringUnavailable) as caught:
            use()
        assert str(caught.value) == message
    assert kept_logins() == []  # a listing for an error message adds no error of its own


def test_a_list_of_logins_that_is_not_a_list_of_pairs_lists_none(memory_keyring: MemoryKeyring) -> None:
    for kept in ("not json", '{"a": 1}', '[1, "no separator", "c @ https://a.example/t"]'):
        memory_keyring.set_password("httpie-trulioo", "logins", kept)
        assert kept_logins() == ([("c", "https://a.example/t")] if kept.startswith("[") else [])
