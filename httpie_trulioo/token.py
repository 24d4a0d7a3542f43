"""Pure token rules: ``Token``, when it expires, and whether it may still be sent.

Nothing here does I/O or reads a clock: times are POSIX seconds passed in by the caller.
``freshness`` is the one rule for whether a token may be sent, used by every caller.
"""

from __future__ import annotations

import hashlib
import math

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a call milliseconds
if TYPE_CHECKING:
    from typing import Any, TypeGuard

# A lifetime the server claims beyond a day is taken as a day, so that a wrong or hostile
# ExpiresIn cannot pin one token in the cache for ever; a revoked token is still caught by the
# 401 retry.
MAX_LIFETIME = 86_400.0
# Longer than any real bearer token (JWTs with many claims stay well under 4 KiB) and short
# enough to keep a broken answer out of the Authorization header.
MAX_TOKEN_LENGTH = 16_384
VALID = "valid"  # what ``freshness`` says of a token that may be sent


class Token:
    """A bearer token, when it was asked for, and when it stops being valid (None: unknown).

    A plain class rather than a NamedTuple, whose making costs a warm call more than its work.
    """

    __slots__ = ("access_token", "expires_at", "obtained_at", "scope")

    def __init__(
        self, access_token: str, obtained_at: float, expires_at: float | None, scope: str | None = None
    ) -> None:
        """Keep the values: ``scope`` is the scope the server granted, None if it did not say."""
        self.access_token = access_token
        self.obtained_at = obtained_at
        self.expires_at = expires_at
        self.scope = scope

    def _fields(self) -> tuple[str, float, float | None, str | None]:
        return (self.access_token, self.obtained_at, self.expires_at, self.scope)

    def __eq__(self, other: object) -> bool:
        """Equal to a token with the same values."""
        return isinstance(other, Token) and self._fields() == other._fields()

    def __hash__(self) -> int:
        """Hashed by its values."""
        return hash(self._fields())

    def __repr__(self) -> str:
        """The values, the token itself as its fingerprint only: a repr ends up in logs."""
        return (
            f"Token(…{fingerprint(self.access_token)}, obtained_at={self.obtained_at!r}, "
            f"expires_at={self.expires_at!r}, scope={self.scope!r})"
        )


def refresh_margin(expires_at: float, obtained_at: float, token_buffer: float) -> float:
    """Seconds before expiry at which a token stops being reused.

    The buffer, but never more than half the token's lifetime: a token that lives 60 seconds is
    still reused for 30 of them instead of being fetched again on every call.
    """
    lifetime = max(expires_at - obtained_at, 0.0)
    return min(max(token_buffer, 0.0), lifetime / 2)


def freshness(token: Token, now: float, token_buffer: float, min_ttl: float = 0.0) -> str:
    """``VALID`` if ``token`` may be sent at ``now``, else why not: the one freshness rule.

    Why not: "no expiry", "expired", "refresh due" (inside the refresh margin), or, when it
    would live less than ``min_ttl`` seconds more, "expires in 5 min, sooner than the 600 s asked for".
    """
    expires_at = token.expires_at
    if expires_at is None:
        return "no expiry"
    if now >= expires_at:
        return "expired"
    if now >= expires_at - refresh_margin(expires_at, token.obtained_at, token_buffer):
        return "refresh due"
    if expires_at - now < min_ttl:
        return f"expires in {duration(expires_at - now)}, sooner than the {min_ttl:g} s asked for"
    return VALID


def duration(seconds: float) -> str:
    """A span of time for people: ``45 s``, ``12 min`` from 90 seconds, ``1.5 h`` from 90 minutes."""
    if abs(seconds) < 90:
        return f"{seconds:.0f} s"
    if abs(seconds) < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def fingerprint(access_token: str) -> str:
    """Six hex digits that tell tokens apart in logs and listings without revealing them."""
    return hashlib.sha256(access_token.encode()).hexdigest()[-6:]


def is_token_text(value: object) -> TypeGuard[str]:
    """Tell whether ``value`` can go in an Authorization header: visible ASCII, not too long."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_TOKEN_LENGTH
        and value.isascii()
        and value.isprintable()  # in ASCII: space to ~
        and " " not in value
    )


def token_expiry(
    access_token: str, expires_in: float | None, requested_at: float, default_lifetime: float | None = None
) -> float | None:
    """The earlier of the JWT ``exp`` and ``requested_at + expires_in``; None if neither is known.

    When neither is known, ``default_lifetime`` (TRULIOO_DEFAULT_LIFETIME) stands in for
    ``expires_in``, if given: RFC 6749 section 5.1 lets a server leave ``expires_in`` out. The
    request's start time is used, not the answer's, so that time spent on the wire counts
    against the token and not in its favour.
    """
    candidates = [expires_in] if expires_in is not None else []
    exp = jwt_expiry(access_token)
    if exp is not None:
        candidates.append(exp - requested_at)
    if not candidates and default_lifetime is not None:
        candidates.append(default_lifetime)
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
