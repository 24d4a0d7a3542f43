"""Pure token logic: read a token endpoint's answer and work out the expiry; ``Token``.

Nothing here does I/O or reads a clock: times are POSIX seconds passed in by the caller. The
freshness rule that ``Token.is_fresh`` applies is in ``entries``, which every call loads.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import TYPE_CHECKING, Any, NamedTuple

from .entries import MAX_LIFETIME, is_fresh, is_token_text
from .errors import InvalidTokenResponse, TokenRequestFailed

if TYPE_CHECKING:
    from .echoes import SecretEcho

# Long enough for any real error_description, short enough to keep the error on one line.
MAX_DESCRIPTION = 200
# What stands in an error message for server text that echoes the client secret.
WITHHELD = "<withheld: it quotes the client secret>"
# Far past MAX_LIFETIME: a larger integer ExpiresIn is clamped here before float() sees it.
_HUGE = 10**12

# Hints for OAuth 2.0 errors (RFC 6749 section 5.2, RFC 8707 section 2), by the error and by
# whether the field it is about (the scope, the resource) was sent.
_HINTS = {
    ("invalid_scope", True): (
        "check TRULIOO_SCOPE: this client may not be allowed the scope asked for "
        "(an empty TRULIOO_SCOPE asks for none)."
    ),
    ("invalid_scope", False): (
        "no scope was asked for (TRULIOO_SCOPE is empty): set TRULIOO_SCOPE to one this client is allowed."
    ),
    ("invalid_target", True): "check TRULIOO_RESOURCE: this server does not accept it for this client.",
    ("invalid_target", False): "this server may want a resource indicator: set TRULIOO_RESOURCE.",
    ("unsupported_grant_type", True): "this server or client does not allow the client_credentials grant.",
    ("unauthorized_client", True): "this client is not allowed the client_credentials grant.",
}
# When the server says why in its own words, a guess of ours could contradict it: this hint only
# names what shapes the request.
_NEUTRAL_HINT = (
    "see the server's reason; what is sent is set by TRULIOO_TOKEN_URL, TRULIOO_AUTH_METHOD, "
    "TRULIOO_SCOPE, TRULIOO_AUDIENCE and TRULIOO_RESOURCE."
)
# How the client authenticated, where that put the credentials, and the other method to try.
_CLIENT_AUTH = {
    "client_secret_post": ("in the form", "client_secret_basic", "HTTP Basic"),
    "client_secret_basic": ("as HTTP Basic", "client_secret_post", "them in the form"),
}


class Token(NamedTuple):
    """A bearer token, when it was asked for, and when it stops being valid (None: unknown)."""

    access_token: str
    obtained_at: float
    expires_at: float | None
    scope: str | None = None

    def is_fresh(self, now: float, token_buffer: float) -> bool:
        """Tell whether the token may still be sent at ``now``."""
        if self.expires_at is None:
            return False
        return is_fresh(self.expires_at, self.obtained_at, now, token_buffer)


def parse_token_response(body: bytes, requested_at: float, hidden: SecretEcho | None = None) -> Token:
    """Read a 200 answer of the token endpoint, in Trulioo's shape or the OAuth 2.0 one.

    Server text quoted in an error is withheld if ``hidden`` hears the secret in it.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidTokenResponse(
            "the token endpoint answered 200, but the body is not JSON: check TRULIOO_TOKEN_URL."
        ) from None
    if not isinstance(document, dict):
        raise InvalidTokenResponse(
            "the token endpoint answered 200, but the body is not a JSON object: check TRULIOO_TOKEN_URL."
        )
    fields = {str(key).lower(): value for key, value in document.items()}
    access_token = fields.get("access_token", fields.get("token"))
    if access_token is None:
        raise InvalidTokenResponse(
            "the token endpoint answered 200 without a token (no access_token or Token field): "
            "check TRULIOO_TOKEN_URL."
        )
    if not is_token_text(access_token):
        raise InvalidTokenResponse(
            "the token endpoint answered 200, but its token is not a string of visible ASCII "
            "characters (at most 16 KiB)."
        )
    token_type = fields.get("token_type", fields.get("tokentype", "bearer"))
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise InvalidTokenResponse(
            f"the token endpoint gave a token of type '{_clean(token_type, hidden)}'; only bearer tokens "
            "are supported."
        )
    expires_in = _expires_in(fields.get("expires_in", fields.get("expiresin")), hidden)
    scope = fields.get("scope")
    return Token(
        access_token=access_token,
        obtained_at=requested_at,
        expires_at=token_expiry(access_token, expires_in, requested_at),
        scope=_granted_scope(scope, hidden),
    )


def _granted_scope(value: object, hidden: SecretEcho | None) -> str | None:
    """The scope the server granted, for the cache and status; withheld if it echoes the secret."""
    if not isinstance(value, str):
        return None
    return WITHHELD if hidden is not None and hidden.heard_in(value) else value


def token_expiry(access_token: str, expires_in: float | None, requested_at: float) -> float | None:
    """The earlier of the JWT ``exp`` and ``requested_at + expires_in``; None if neither is known.

    The request's start time is used, not the answer's, so that time spent on the wire counts
    against the token and not in its favour.
    """
    candidates = [expires_in] if expires_in is not None else []
    exp = jwt_expiry(access_token)
    if exp is not None:
        candidates.append(exp - requested_at)
    if not candidates:
        return None
    # Within a day either way: a day at most, as above, and no more than a day in the past, so
    # that a wild value still makes a time that can be written and shown.
    return requested_at + max(min(*candidates, MAX_LIFETIME), -MAX_LIFETIME)


def jwt_claims(access_token: str) -> dict[str, Any] | None:
    """The claims of a JWT, read without checking its signature or times; None for opaque tokens."""
    if access_token.count(".") != 2:
        return None
    import jwt  # noqa: PLC0415 - costs milliseconds; only a fresh token or --claims needs it

    try:
        claims: dict[str, Any] = jwt.decode(
            access_token,
            options={
                "verify_signature": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    return claims


def jwt_expiry(access_token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without checking its signature; None for opaque tokens."""
    claims = jwt_claims(access_token)
    if claims is None:
        return None
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not math.isfinite(exp):
        return None
    return float(exp)


def describe_failure(
    status: int,
    body: bytes,
    hidden: SecretEcho | None = None,
    *,
    auth_method: str = "client_secret_post",
    scope_sent: bool = True,
    resource_sent: bool = False,
) -> str:
    """One line that says why the token endpoint refused, from its status and OAuth error body.

    The hint follows what was sent (how the client authenticated, whether a scope or a resource
    went with it) and never contradicts the server's own error_description.
    """
    error, description = _oauth_error(body, hidden)
    if error:
        hint = _hint(error, description, auth_method, scope_sent=scope_sent, resource_sent=resource_sent)
        detail = f" ({description})" if description else ""
        return f"the token endpoint answered {status} {error}{detail}: {hint}"
    if status >= 500:
        return f"the token endpoint answered {status}: the token service has a problem, try again later."
    if 300 <= status < 400:
        return (
            f"the token endpoint answered {status}, a redirect; it is not followed so that the "
            "secret goes nowhere else: set TRULIOO_TOKEN_URL to the final address."
        )
    if status == 401:
        return f"the token endpoint answered 401: {_client_hint(auth_method)}"
    return f"the token endpoint answered {status}: check TRULIOO_TOKEN_URL."


def raise_for_failure(
    status: int,
    body: bytes,
    hidden: SecretEcho | None = None,
    *,
    auth_method: str = "client_secret_post",
    scope_sent: bool = True,
    resource_sent: bool = False,
) -> None:
    """Raise TokenRequestFailed unless ``status`` is 200."""
    if status != 200:
        raise TokenRequestFailed(
            describe_failure(
                status,
                body,
                hidden,
                auth_method=auth_method,
                scope_sent=scope_sent,
                resource_sent=resource_sent,
            )
        )


def _hint(error: str, description: str, auth_method: str, *, scope_sent: bool, resource_sent: bool) -> str:
    if error == "invalid_client":
        return _client_hint(auth_method)
    sent = {"invalid_scope": scope_sent, "invalid_target": resource_sent}.get(error, True)
    known = _HINTS.get((error, sent))
    if known:
        return known
    if description:
        return _NEUTRAL_HINT
    if error == "invalid_request":
        return "check TRULIOO_TOKEN_URL (is it an OAuth 2.0 token endpoint?) and TRULIOO_AUTH_METHOD."
    return "check the client id, secret, TRULIOO_SCOPE and TRULIOO_TOKEN_URL."


def _client_hint(auth_method: str) -> str:
    where, other, other_way = _CLIENT_AUTH.get(auth_method, _CLIENT_AUTH["client_secret_post"])
    return (
        f"check the client id and secret, sent {where} ({auth_method}); "
        f"if the server wants {other_way}, set TRULIOO_AUTH_METHOD={other}."
    )


def _oauth_error(body: bytes, hidden: SecretEcho | None) -> tuple[str, str]:
    try:
        document: Any = json.loads(body)
    except (ValueError, RecursionError):
        return "", ""
    if not isinstance(document, dict):
        return "", ""
    error = document.get("error")
    description = document.get("error_description")
    return (
        _clean(error, hidden) if isinstance(error, str) else "",
        _clean(description, hidden) if isinstance(description, str) else "",
    )


def _clean(value: object, hidden: SecretEcho | None = None) -> str:
    """A server's words fit to show: withheld if they echo the secret, printable, cut short.

    The secret is looked for before anything is changed or cut, so that no cleaned or partial
    copy of it can slip through.
    """
    text = str(value)
    if hidden is not None and hidden.heard_in(text):
        return WITHHELD
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def _expires_in(value: object, hidden: SecretEcho | None) -> float | None:
    if value is None:
        return None
    seconds = math.nan
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = float(max(min(value, _HUGE), -_HUGE))  # float() of a huge int overflows
    elif isinstance(value, float):
        seconds = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            seconds = float(value.strip())
    if not math.isfinite(seconds):
        raise InvalidTokenResponse(
            "the token endpoint gave an ExpiresIn that is not a number of seconds: "
            f"'{_clean(value, hidden)}'."
        )
    return seconds
