"""Unit tests for the secret sources outside the process: a helper command and the OS keyring.

The helper commands are real processes; the keyring is the real file keyring that the tests
install (keyrings.alt), kept in a temp folder.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import pytest
from helpers import DEV_URL, PROD_URL, PYTHON, command, posix_only

from httpie_trulioo.errors import SecretCommandFailed
from httpie_trulioo.secret_sources import (
    can_prompt,
    command_words,
    read_keyring,
    run_secret_command,
    store_in_keyring,
)


def test_the_keyring_entry_is_per_token_url_and_client(keyring_folder: Path) -> None:
    store_in_keyring(DEV_URL, "c", "dev-secret")
    store_in_keyring(PROD_URL, "c", "prod-secret")
    assert (read_keyring(DEV_URL, "c"), read_keyring(PROD_URL, "c"), read_keyring(DEV_URL, "d")) == (
        "dev-secret",
        "prod-secret",
        None,
    )
    import keyring  # noqa: PLC0415 - the real package, as another tool would read the entry

    assert keyring.get_password("httpie-trulioo", f"c @ {DEV_URL}") == "dev-secret"
    assert (keyring_folder / "python_keyring" / "keyring_pass.cfg").is_file()


def secret_from(code: str, timeout: float = 30) -> str:
    return run_secret_command(command(code), timeout=timeout, owner="the secret_cmd of profile 'p'")


@posix_only("a secret_cmd quoted for a POSIX shell")
def test_secret_cmd_gives_its_first_line_and_runs_without_a_shell_or_stdin() -> None:
    assert secret_from("print('s3cr:et with spaces'); print('second line')") == "s3cr:et with spaces"
    assert secret_from("import sys; sys.stdout.write('crlf\\r\\n')") == "crlf"
    assert secret_from("import sys; print(repr(sys.stdin.read()))") == "''"  # nothing to read
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
def test_a_failing_secret_cmd_is_one_line_without_its_output(code: str, expected: str) -> None:
    with pytest.raises(SecretCommandFailed) as caught:
        secret_from(code)
    message = str(caught.value)
    assert expected in message
    assert "LEAKED" not in message
    assert "\n" not in message


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


@pytest.mark.parametrize(
    ("platform", "device"), [("win32", "CONIN$"), ("linux", "/dev/tty"), ("darwin", "/dev/tty")]
)
def test_the_prompt_asks_the_console_on_windows_and_the_terminal_elsewhere(
    monkeypatch: pytest.MonkeyPatch, platform: str, device: str
) -> None:
    opened: list[str] = []
    real_open = os.open

    def record(path: str, flags: int) -> int:
        opened.append(path)
        return real_open(os.devnull, os.O_RDONLY)

    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(os, "open", record)
    assert can_prompt()
    assert opened == [device]

    def refuse(path: str, flags: int) -> int:
        raise OSError(errno.ENXIO, "no such device")

    monkeypatch.setattr(os, "open", refuse)
    assert not can_prompt()
