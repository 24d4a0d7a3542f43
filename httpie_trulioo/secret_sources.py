"""Where a client secret is read from outside the process: a helper command, the OS keyring, a terminal.

Each is slow or optional (a process to start, the keyring package and its backend, a person), so
each is imported and reached only when no earlier source had the secret.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import suppress

from .errors import KeyringUnavailable, PromptCancelled, SecretCommandFailed
from .urls import origin_of, same_endpoint

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a call milliseconds
if TYPE_CHECKING:
    from typing import Any

log = logging.getLogger("httpie_trulioo")

# The keyring service every secret is kept under; the entry's user name says whose secret it is.
KEYRING_SERVICE = "httpie-trulioo"
# The entry of that service that lists the logins (client @ token URL, no secret): keyrings
# cannot list their entries, and status and the errors name the logins there are.
LOGINS_ENTRY = "logins"
INSTALL_KEYRING = "pip install 'httpie-trulioo[keyring]'"
_MAX_SAID = 200  # of a failing secret_cmd's stderr line: enough for "vault is locked", on one line


def run_secret_command(command: str, *, timeout: float, owner: str) -> str:
    """The first line that ``command`` prints, split into words as a shell would and run without one.

    Split as this system's shell splits (``command_words``). ``owner`` names where the
    command was set, for the messages. It reads no input (a request body may be waiting on
    stdin) and may take ``timeout`` seconds. What it prints on stdout is never shown, not even
    when it fails: it may hold the secret. When it fails, the first line it printed on stderr
    ("vault is locked") is part of the error, with anything in it that echoes stdout masked.
    """
    import subprocess  # noqa: PLC0415 - only a profile with secret_cmd needs it

    try:
        argv = command_words(command)
    except ValueError as exc:
        raise SecretCommandFailed(f"{owner} cannot be split into words: {exc}.") from None
    if not argv:
        raise SecretCommandFailed(f"{owner} is empty.")
    try:
        process = subprocess.Popen(  # noqa: S603 - the user's own command, from a file only they can write
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as exc:
        reason = (
            "no such program" if isinstance(exc, FileNotFoundError) else exc.strerror or type(exc).__name__
        )
        raise SecretCommandFailed(f"{owner} cannot be run: {argv[0]!r}: {reason}.") from None
    with process:
        try:
            output, errors = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Kill it and stop reading: a program it started may hold the pipe open for longer.
            process.kill()
            process.wait()
            raise SecretCommandFailed(
                f"{owner} did not finish within {timeout:g} s (TRULIOO_TIMEOUT)."
            ) from None
    hidden = "its output is not shown: run it yourself to see why"
    first_line = output.split(b"\n", 1)[0].removesuffix(b"\r")
    if process.returncode != 0:
        how = (
            f"was stopped by signal {-process.returncode}"
            if process.returncode < 0
            else f"exited with status {process.returncode}"
        )
        said = _first_words(errors, first_line)
        raise SecretCommandFailed(f"{owner} {how}: {said}" if said else f"{owner} {how} ({hidden}).")
    try:
        secret = first_line.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretCommandFailed(f"{owner} printed a first line that is not UTF-8 ({hidden}).") from None
    if not secret:
        raise SecretCommandFailed(f"{owner} printed no secret: its first line is empty.")
    return secret


def keyring_user(token_url: str, client_id: str) -> str:
    """The keyring entry's user name for a client of a token endpoint, however its URL is spelled.

    A token URL holds no spaces (``urls.check_token_url``), so the last " @ " always splits the two.
    """
    return f"{client_id} @ {same_endpoint(token_url)}"


def _entries(token_url: str, client_id: str) -> list[str]:
    """The entries that may hold the secret: as this release keeps it, then as earlier ones did (as typed)."""
    users = [keyring_user(token_url, client_id), f"{client_id} @ {token_url}"]
    return users[:1] if users[0] == users[1] else users


def read_keyring(token_url: str, client_id: str) -> str | None:
    """The secret kept in the OS keyring for this client; None if none, or no keyring to ask.

    Kept for this endpoint however its URL is spelled, or else for the only login of this client
    at the same origin (scheme, host and port).
    """
    keyring = _keyring_module()
    if keyring is None:
        return None
    try:
        for user in _entries(token_url, client_id):
            secret: str | None = keyring.get_password(KEYRING_SERVICE, user)
            if secret:
                return secret
        nearby = [
            url for client, url in _logins(keyring) if client == client_id and _same_origin(url, token_url)
        ]
        if len(nearby) == 1:
            log.info("using the secret kept for client %r at %s (the same origin)", client_id, nearby[0])
            return keyring.get_password(KEYRING_SERVICE, keyring_user(nearby[0], client_id)) or None
    except (keyring.errors.KeyringError, OSError) as exc:
        log.info("the keyring could not be read (%s); going on without it", _why(exc))
    return None


def store_in_keyring(token_url: str, client_id: str, secret: str) -> str:
    """Keep the secret in the OS keyring; return the backend's name. KeyringUnavailable if it cannot.

    The secret is read back: a backend that takes it and keeps nothing is an error, not a login.
    """
    keyring = usable_keyring()
    user = keyring_user(token_url, client_id)
    try:
        keyring.set_password(KEYRING_SERVICE, user, secret)
        kept = keyring.get_password(KEYRING_SERVICE, user) == secret
    except (keyring.errors.KeyringError, OSError) as exc:
        raise KeyringUnavailable(f"the keyring did not store the secret: {_why(exc)}.") from None
    if not kept:
        raise KeyringUnavailable(
            f"the keyring backend {keyring_name(keyring)} did not keep the secret (reading it back found "
            "nothing): choose another one with PYTHON_KEYRING_BACKEND."
        )
    _note_login(keyring, client_id, same_endpoint(token_url), kept=True)
    return keyring_name(keyring)


def forget_in_keyring(token_url: str, client_id: str) -> bool:
    """Remove the client's secret from the OS keyring; tell whether there was one to remove."""
    keyring = _keyring_module()
    if keyring is None:
        return False
    forgotten = False
    try:
        for user in _entries(token_url, client_id):
            if keyring.get_password(KEYRING_SERVICE, user) is not None:
                with suppress(keyring.errors.PasswordDeleteError):
                    keyring.delete_password(KEYRING_SERVICE, user)
                    forgotten = True
    except (keyring.errors.KeyringError, OSError) as exc:
        raise KeyringUnavailable(f"the keyring did not remove the secret: {_why(exc)}.") from None
    _note_login(keyring, client_id, same_endpoint(token_url), kept=False)
    return forgotten


def kept_logins() -> list[tuple[str, str]]:
    """The logins kept in the OS keyring, as (client id, token URL), never a secret; [] if none are read."""
    try:
        keyring = _keyring_module()
    except KeyringUnavailable:
        return []
    if keyring is None:
        return []
    try:
        return _logins(keyring)
    except (keyring.errors.KeyringError, OSError):
        return []


def _logins(keyring: Any) -> list[tuple[str, str]]:
    """The list of logins that ``login`` keeps beside the secrets, in an entry of its own."""
    import json  # noqa: PLC0415 - only a miss that reaches the keyring needs it

    try:
        listed = json.loads(keyring.get_password(KEYRING_SERVICE, LOGINS_ENTRY) or "[]")
    except ValueError:
        return []
    if not isinstance(listed, list):
        return []
    pairs = [item.rpartition(" @ ") for item in listed if isinstance(item, str)]
    return sorted((client, url) for client, separator, url in pairs if separator)


def _note_login(keyring: Any, client_id: str, token_url: str, *, kept: bool) -> None:
    """Add a login to the list, or take it off; a list that cannot be written only loses the listing."""
    import json  # noqa: PLC0415 - only login and logout need it

    try:
        logins = {f"{client} @ {url}" for client, url in _logins(keyring)}
        (logins.add if kept else logins.discard)(f"{client_id} @ {token_url}")
        keyring.set_password(KEYRING_SERVICE, LOGINS_ENTRY, json.dumps(sorted(logins)))
    except (keyring.errors.KeyringError, OSError) as exc:
        log.info("the list of logins in the keyring could not be updated (%s)", _why(exc))


def _same_origin(one: str, other: str) -> bool:
    found = origin_of(one)
    return found is not None and found == origin_of(other)


def usable_keyring() -> Any:
    """The keyring module, with a backend that can store secrets; KeyringUnavailable otherwise."""
    keyring = _keyring_module()
    if keyring is None:
        raise KeyringUnavailable(f"the OS keyring needs the keyring package: {INSTALL_KEYRING}.")
    from keyring.backends import fail  # noqa: PLC0415 - with the package, only when it is used

    if isinstance(keyring.get_keyring(), fail.Keyring):
        raise KeyringUnavailable(
            "no OS keyring is available to this process (no keychain, Secret Service or Credential "
            "Manager found; PYTHON_KEYRING_BACKEND picks one)."
        )
    return keyring


def keyring_name(keyring: Any) -> str:
    """The name of the keyring backend in use, e.g. ``keyring.backends.macOS.Keyring``."""
    backend = type(keyring.get_keyring())
    return f"{backend.__module__}.{backend.__qualname__}"


def _keyring_module() -> Any:
    """The keyring package if it is installed (the ``keyring`` extra), else None.

    KeyringUnavailable, in one line, when PYTHON_KEYRING_BACKEND names no backend it can load.
    """
    try:
        import keyring  # noqa: PLC0415 - optional, and tens of milliseconds to import
        import keyring.errors  # noqa: PLC0415
    except ImportError:
        return None
    try:
        keyring.get_keyring()  # the backend is loaded here, once
    except (ImportError, AttributeError, ValueError, TypeError) as exc:
        chosen = os.environ.get("PYTHON_KEYRING_BACKEND", "")
        raise KeyringUnavailable(
            f"PYTHON_KEYRING_BACKEND={chosen!r} names no keyring backend that can be loaded "
            f"({_why(exc)}): give a class such as keyring.backends.SecretService.Keyring, or unset it."
        ) from None
    return keyring


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def ask_on_terminal(client_id: str, token_url: str) -> str | None:
    """Ask the person at this process's terminal for the client secret; None if there is no terminal.

    Never reads standard input, which may hold a request body: without a terminal nothing is
    asked. Ctrl-D or an empty answer is a one-line PromptCancelled; Ctrl-C is one line logged,
    and the KeyboardInterrupt goes on.
    """
    if not can_prompt():
        return None
    import getpass  # noqa: PLC0415 - only a prompt needs it

    whose = f"client {client_id!r} at {token_url}"
    try:
        secret = getpass.getpass(f"client secret for {client_id} at {token_url}: ")
    except EOFError:
        _end_the_prompt_line()
        raise PromptCancelled(f"no client secret for {whose}: the prompt was closed (Ctrl-D).") from None
    except KeyboardInterrupt:
        # Ctrl-C stays an interrupt, so that http and httpie-trulioo exit 130 as a shell expects,
        # after one line that says what was asked.
        _end_the_prompt_line()
        log.error("no client secret for %s: the prompt was interrupted (Ctrl-C).", whose)  # noqa: TRY400 - one line, no traceback
        raise
    if not secret:
        raise PromptCancelled(f"no client secret for {whose}: the answer was empty.")
    return secret


def _end_the_prompt_line() -> None:
    """Move the terminal's cursor past the prompt, so that the error starts a line of its own."""
    with suppress(OSError):
        fd = os.open("/dev/tty", os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
        try:
            os.write(fd, b"\n")
        finally:
            os.close(fd)


def _first_words(errors: bytes, first_line: bytes) -> str:
    """The first line with words that a failing command printed on stderr, fit for one line.

    Anything in it that echoes the first line of its stdout (which may be the secret) is masked;
    control characters become spaces, and it is cut short.
    """
    from .secret_echo import SecretEcho  # noqa: PLC0415 - only a failing command needs it

    line = next((line for line in errors.decode("utf-8", "replace").splitlines() if line.strip()), "")
    line = SecretEcho(first_line.decode("utf-8", "replace")).mask(line)
    line = " ".join("".join(ch if ch.isprintable() else " " for ch in line).split())
    return line if len(line) <= _MAX_SAID else line[: _MAX_SAID - 1] + "…"


def command_words(command: str, *, windows: bool = os.name == "nt") -> list[str]:
    """A command line split into words as this system's shell would; ValueError for an open quote.

    POSIX: as sh does (quotes and backslash escapes). Windows: backslashes are path separators,
    and double quotes group words, as cmd.exe reads them.
    """
    import shlex  # noqa: PLC0415 - only a profile with secret_cmd needs it

    if not windows:
        return shlex.split(command)
    words = shlex.split(command, posix=False)
    return [word[1:-1] if len(word) > 1 and word[0] == word[-1] == '"' else word for word in words]


def can_prompt() -> bool:
    """Tell whether a person can be prompted: this process has a terminal or console to ask on."""
    if sys.platform == "win32":
        device, flags = "CONIN$", os.O_RDWR  # the console getpass reads from
    else:
        device, flags = "/dev/tty", os.O_RDWR | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(device, flags)
    except OSError:
        return False
    os.close(fd)
    return True
