"""Trulioo OAuth 2.0 client-credentials auth for HTTPie and requests, with a token cache.

HTTPie imports this package on every ``http`` call, used or not, so importing it costs next to
nothing: ``TruliooAuth`` and the errors load on first use.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

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
    "TruliooError",
    "__version__",
]

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    """Load ``TruliooAuth`` and the errors when they are first asked for."""
    if name == "TruliooAuth":
        from .auth import TruliooAuth  # noqa: PLC0415 - lazy on purpose, see the module docstring

        return TruliooAuth
    if name in __all__:
        from . import errors  # noqa: PLC0415 - lazy on purpose, see the module docstring

        return getattr(errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def has_terminal() -> bool:
    """Tell whether a person can be prompted: this process has a terminal (or console) to ask on."""
    from ._platform import can_prompt  # noqa: PLC0415 - lazy on purpose, see the module docstring

    return can_prompt()


def keep_dependencies_importable() -> None:
    """Keep the folder this package was installed in on ``sys.path``.

    ``httpie cli plugins install`` puts a plugin and its dependencies in a folder of their own,
    which HTTPie adds to ``sys.path`` only while it loads plugins; the imports this package makes
    later, at request time, would then fail. Elsewhere the folder is on the path already.
    """
    folder = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if folder not in sys.path:
        sys.path.append(folder)
