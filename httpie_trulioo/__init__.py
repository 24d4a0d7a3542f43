"""Trulioo OAuth 2.0 client-credentials auth for HTTPie and requests, with a token cache.

HTTPie imports this module on every ``http`` call, used or not, so it is the plugin's one entry
point and imports nothing that HTTPie has not: ``TruliooAuth`` and the errors load on first use.
HTTPie calls ``get_auth()`` while it parses arguments, where an exception would show as a
traceback: so ``get_auth()`` only builds the auth object, and every check happens at request time.
"""

from __future__ import annotations

from httpie.plugins import AuthPlugin

__version__ = "0.1.0"

__all__ = [
    "APIHostNotAllowed",
    "ConfigurationError",
    "InsecureAPIURL",
    "InsecureTokenURL",
    "InvalidTokenResponse",
    "KeyringUnavailable",
    "PromptCancelled",
    "SecretCommandFailed",
    "TokenEndpointUnreachable",
    "TokenRequestFailed",
    "TruliooAuth",
    "TruliooAuthPlugin",
    "TruliooError",
    "__version__",
]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a call milliseconds
if TYPE_CHECKING:
    from typing import Any

    from .auth import TruliooAuth
    from .errors import (
        APIHostNotAllowed,
        ConfigurationError,
        InsecureAPIURL,
        InsecureTokenURL,
        InvalidTokenResponse,
        KeyringUnavailable,
        PromptCancelled,
        SecretCommandFailed,
        TokenEndpointUnreachable,
        TokenRequestFailed,
        TruliooError,
    )


class TruliooAuthPlugin(AuthPlugin):  # type: ignore[misc]  # HTTPie ships no type hints
    """``--auth-type=trulioo``: Trulioo client-credentials bearer tokens, cached between calls."""

    name = "Trulioo OAuth 2.0 client credentials"
    auth_type = "trulioo"
    description = (
        "Bearer token from the Trulioo token endpoint (OAuth 2.0 client credentials), "
        "cached between calls. --auth=@PROFILE for a profile of the profiles file, "
        "--auth=CLIENT_ID (the secret from TRULIOO_CLIENT_SECRET, the keyring or a prompt), "
        "or no --auth: TRULIOO_CLIENT_ID and TRULIOO_CLIENT_SECRET."
    )
    auth_require = False  # without --auth, the credentials come from the environment
    netrc_parse = False  # a client secret is not a password for a host
    # HTTPie's own prompt asks for a password for the API host; the secret is for the token
    # endpoint, and may be in a variable, a helper or the keyring: the plugin asks by itself, at
    # request time, only when none of those has it.
    prompt_password = False

    def get_auth(self, username: str | None = None, password: str | None = None) -> TruliooAuth:
        """Build the auth object; cheap and never raises (HTTPie may call it twice)."""
        from .auth import for_httpie  # noqa: PLC0415 - only a call that uses the plugin pays

        # HTTPie saves raw_auth in --session files: keep @PROFILE or the client id, never the secret.
        self.raw_auth = username or ""
        return for_httpie(username, password)


def __getattr__(name: str) -> Any:
    """Load ``TruliooAuth`` and the errors when they are first asked for."""
    if name == "TruliooAuth":
        from .auth import TruliooAuth  # noqa: PLC0415 - lazy on purpose, see the module docstring

        return TruliooAuth
    if name in __all__:
        from . import errors  # noqa: PLC0415 - lazy on purpose, see the module docstring

        return getattr(errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
