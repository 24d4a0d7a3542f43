"""The one place that talks to the token endpoint."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from . import __version__
from .errors import InvalidTokenResponse, TokenEndpointUnreachable, TokenRequestFailed
from .settings import check_token_url
from .token import Token, parse_token_response, raise_for_failure

# A token answer is a few kilobytes; reading at most this much keeps a broken or hostile
# endpoint from filling memory.
MAX_BODY = 1 << 20
_CHUNK = 64 * 1024


def fetch_token(
    *,
    token_url: str,
    scope: str,
    client_id: str,
    client_secret: str,
    timeout: float,
    clock: Callable[[], float] = time.time,
) -> Token:
    """POST the client-credentials form to ``token_url`` and return the token it answers with.

    The form is the one Trulioo documents (client_secret_post). Redirects are not followed, so
    the secret is never sent anywhere but ``token_url``. ``REQUESTS_CA_BUNDLE`` and the proxy
    variables apply, as they do for requests.
    """
    check_token_url(token_url)
    parts = urlsplit(token_url)
    host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    form = {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    requested_at = clock()
    deadline = time.monotonic() + timeout
    try:
        with requests.post(
            token_url,
            data=form,
            headers={"Accept": "application/json", "User-Agent": f"httpie-trulioo/{__version__}"},
            timeout=timeout,
            allow_redirects=False,
            stream=True,
            auth=_no_netrc,
        ) as response:
            body = _read_body(response, deadline, host, timeout)
            status = response.status_code
    except requests.Timeout:
        raise _timed_out(host, timeout) from None
    except requests.RequestException as exc:
        if any(_is_timeout(cause) for cause in _causes(exc)):
            raise _timed_out(host, timeout) from None
        raise TokenEndpointUnreachable(
            f"could not reach the token endpoint {host}: {_reason(exc)}. {_advice(exc)}"
        ) from None
    try:
        raise_for_failure(status, body)
        return parse_token_response(body, requested_at)
    except (TokenRequestFailed, InvalidTokenResponse) as exc:
        # Messages quote the server (error_description, a token type, an ExpiresIn): a careless
        # or hostile server must not get the secret echoed onto the terminal.
        raise type(exc)(_redact(str(exc), client_secret)) from None


def _no_netrc(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Send the request as it is: requests would otherwise add ~/.netrc credentials for the host."""
    return request


def _read_body(response: requests.Response, deadline: float, host: str | None, timeout: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(_CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            raise InvalidTokenResponse(
                f"the token endpoint answered {response.status_code} with a body larger than "
                f"{MAX_BODY >> 20} MiB: check TRULIOO_TOKEN_URL."
            )
        if time.monotonic() > deadline:
            raise _timed_out(host, timeout)
    return b"".join(chunks)


def _timed_out(host: str | None, timeout: float) -> TokenEndpointUnreachable:
    return TokenEndpointUnreachable(
        f"the token endpoint {host} did not answer within {timeout:g} s: try again, or raise TRULIOO_TIMEOUT."
    )


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps, through urllib3's ``reason`` and Python's chaining."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found and len(found) < 12:
        found.append(current)
        reason = getattr(current, "reason", None)
        current = (
            reason
            if isinstance(reason, BaseException)
            else current.__cause__ or current.__context__ or _first_exception_arg(current)
        )
    return found


def _first_exception_arg(exc: BaseException) -> BaseException | None:
    return next((arg for arg in exc.args if isinstance(arg, BaseException)), None)


def _is_timeout(exc: BaseException) -> bool:
    # A read timeout inside the body arrives as a ConnectionError wrapping urllib3's error.
    return isinstance(exc, (requests.Timeout, TimeoutError)) or type(exc).__name__.endswith("TimeoutError")


def _reason(exc: requests.RequestException) -> str:
    causes = _causes(exc)
    name_resolution = any(
        isinstance(cause, socket.gaierror) or type(cause).__name__ == "NameResolutionError"
        for cause in causes
    )
    if name_resolution:
        return "its host name could not be resolved"
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return "the connection was refused"
    if isinstance(exc, requests.exceptions.SSLError) or any(
        isinstance(cause, ssl.SSLError) for cause in causes
    ):
        return "the TLS handshake failed (certificate not trusted, or not a TLS server)"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke while the answer was read"
    return f"{type(exc).__name__}"


def _advice(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.exceptions.SSLError):
        return "Check TRULIOO_TOKEN_URL, and REQUESTS_CA_BUNDLE if a proxy re-signs TLS."
    return "Check TRULIOO_TOKEN_URL and the network."


def _redact(message: str, secret: str) -> str:
    return message.replace(secret, "***") if secret else message
