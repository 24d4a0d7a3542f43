"""The one place that talks to the token endpoint: the client-credentials request, sent and read.

``client_credentials_request`` builds the form and headers with no I/O; ``fetch_token`` sends
them and reads the answer, within one deadline, which also bounds the one retry of HTTP Basic
credentials as they are.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import math
import socket
import ssl
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import quote_plus, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .errors import InvalidTokenResponse, TokenEndpointUnreachable, TokenRequestFailed
from .secret_echo import SecretEcho
from .token import Token, duration, is_token_text, token_expiry
from .urls import check_token_url, is_loopback

if TYPE_CHECKING:
    from .settings import Settings

BASIC = "client_secret_basic"
# What the hint for a refused client says of HTTP Basic credentials that form-encoding changed
# (RFC 6749 section 2.3.1 asks for it; many servers do not decode them, and curl, requests and
# Postman send them as they are): form-encoded only, or form-encoded and then as they are.
FORM_ENCODED = "form-encoded as RFC 6749 section 2.3.1 asks"
FORM_ENCODED_THEN_AS_IS = f"{FORM_ENCODED}, then as they are"

# A token answer is a few kilobytes; reading at most this much keeps a broken or hostile
# endpoint from filling memory.
MAX_BODY = 1 << 20
_CHUNK = 64 * 1024
# Asked of a loopback token URL: no proxy at all, whatever HTTP(S)_PROXY or ALL_PROXY say, so a
# plain-http request to this machine never carries the secret to a proxy in clear.
log = logging.getLogger("httpie_trulioo")
_NO_PROXY: dict[str, str | None] = {"http": None, "https": None, "all": None}

# Long enough for any real error_description, short enough to keep the error on one line.
MAX_DESCRIPTION = 200
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


class TokenRequest(NamedTuple):
    """The form and the extra headers to POST to the token endpoint."""

    form: dict[str, str]
    headers: dict[str, str]


def client_credentials_request(
    settings: Settings, client_secret: str, *, as_is: bool = False
) -> TokenRequest:
    """The request for a token: RFC 6749 section 4.4, with the client authenticated per section 2.3.1.

    ``client_secret_post`` puts the id and secret in the form, as Trulioo documents.
    ``client_secret_basic`` form-encodes each (``as_is``: leaves them as they are), joins them
    with ``:`` and sends them base64-encoded in an HTTP Basic header, and leaves them out of the
    form. An empty scope, audience or resource is not sent at all. ``secret_echo.SecretEcho``
    hears the secret in any of its shapes here.
    """
    client_id = settings.client_id or ""
    form = {"grant_type": "client_credentials"}
    if settings.scope:
        form["scope"] = settings.scope
    headers: dict[str, str] = {}
    if settings.auth_method == BASIC:
        if as_is:
            credentials = f"{client_id}:{client_secret}"
        else:
            credentials = f"{_form_encoded(client_id)}:{_form_encoded(client_secret)}"
        headers["Authorization"] = f"Basic {base64.b64encode(credentials.encode()).decode('ascii')}"
    else:
        form["client_id"] = client_id
        form["client_secret"] = client_secret
    if settings.audience:
        form["audience"] = settings.audience
    if settings.resource:
        form["resource"] = settings.resource
    return TokenRequest(form, headers)


def _form_encoded(value: str) -> str:
    """application/x-www-form-urlencoded, as RFC 6749 appendix B asks: UTF-8, ``%XX``, ``+`` for space."""
    return quote_plus(value, safe="")


def basic_encoding_matters(settings: Settings, client_secret: str) -> bool:
    """Tell whether form-encoding changes the HTTP Basic id or secret (a ``:``, ``+``, ``/``, ``=``...).

    Only then does it matter whether the server decodes them, as RFC 6749 section 2.3.1 asks.
    """
    client_id = settings.client_id or ""
    return settings.auth_method == BASIC and (
        _form_encoded(client_id) != client_id or _form_encoded(client_secret) != client_secret
    )


def client_refused(status: int, body: bytes) -> bool:
    """Tell whether the token endpoint refused the client's credentials: ``invalid_client``, or a 401.

    RFC 6749 section 5.2 says invalid_client, with a 401 after HTTP Basic; some servers answer a
    bare 401, or one with an error of their own.
    """
    return status == 401 or _oauth_error(body, None)[0] == "invalid_client"


def fetch_token(settings: Settings, client_secret: str, clock: Callable[[], float]) -> Token:
    """POST the client-credentials request to the token URL and return the token it answers with.

    Redirects are not followed, so the secret is never sent anywhere but the token URL. The
    timeout bounds the whole exchange, from connecting to the last byte of the answer.
    ``REQUESTS_CA_BUNDLE`` and the proxy variables apply, as they do for requests, except that a
    loopback URL never uses a proxy.
    """
    token_url, timeout = settings.token_url, settings.timeout
    check_token_url(token_url)
    parts = urlsplit(token_url)
    host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    grant = client_credentials_request(settings, client_secret)
    encoding_matters = basic_encoding_matters(settings, client_secret)
    # Once refused, HTTP Basic credentials that form-encoding changed are sent again as they are,
    # for a server that does not decode them; never a client id with ":", at which a server
    # that does not decode would split them (RFC 7617 section 2).
    as_is = (
        client_credentials_request(settings, client_secret, as_is=True)
        if encoding_matters and ":" not in (settings.client_id or "")
        else None
    )
    headers = {
        "Accept": "application/json",
        "Accept-Encoding": "identity",  # the size cap then holds for what is read, not what it inflates to
        "User-Agent": f"httpie-trulioo/{_version()}",
    }
    requested_at = clock()
    deadline = _Deadline()
    # requests reads a None as "no proxy for this scheme" (its stubs only allow str); a fresh
    # dict each time, since requests fills in what it is given.
    proxies = dict(_NO_PROXY) if is_loopback(parts.hostname or "") else None

    def post(session: requests.Session, request: TokenRequest) -> tuple[int, bytes]:
        with session.post(
            token_url,
            data=request.form,
            headers={**headers, **request.headers},
            timeout=timeout,
            allow_redirects=False,
            stream=True,
            auth=_no_netrc,
            proxies=proxies,  # type: ignore[arg-type]
        ) as response:
            return response.status_code, _read_body(response)

    def exchange() -> tuple[int, bytes, bool]:
        """The answer, and whether it is to the credentials as they are, sent after a refusal."""
        with requests.Session() as session:
            adapter = _WatchedAdapter(deadline)  # a new one: no pooled socket escapes the deadline
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            status, body = post(session, grant)
            if as_is is None or not client_refused(status, body):
                return status, body, False
            status, body = post(session, as_is)
            return status, body, True

    until = time.monotonic() + timeout  # the search for an echoed secret stops here too
    try:
        status, body, retried = deadline.run(exchange, timeout)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        if deadline.expired or any(_is_timeout(cause) for cause in _causes(exc)):
            raise _timed_out(host, timeout) from None
        raise TokenEndpointUnreachable(
            f"could not reach the token endpoint {host}: {_reason(exc)}. {_advice(exc)}"
        ) from None
    log.debug(
        "%s POST %s (%s%s): %d in %d ms",
        settings.context,
        token_url,
        settings.auth_method,
        ", refused form-encoded, sent again as they are" if retried else "",
        status,
        (time.monotonic() - until + timeout) * 1000,
    )
    # Error messages quote the server (error_description, a token type, an ExpiresIn); any of
    # that text that echoes the secret, in any form, is masked.
    hidden = SecretEcho(client_secret, until=until)
    raise_for_failure(
        status,
        body,
        hidden,
        auth_method=settings.auth_method,
        scope_sent=bool(settings.scope),
        resource_sent=bool(settings.resource),
        basic_encoding=FORM_ENCODED_THEN_AS_IS if retried else FORM_ENCODED if encoding_matters else "",
    )
    if retried:
        log.info(
            "%s the token endpoint refused the HTTP Basic id and secret %s, and took them as they "
            "are; each new token costs one refused request first.",
            settings.context,
            FORM_ENCODED,
        )
    token = parse_token_response(body, requested_at, hidden, default_lifetime=settings.default_lifetime)
    log.debug(
        "%s granted scope %s, %s",
        settings.context,
        "not said" if token.scope is None else repr(token.scope),
        "no expiry given"
        if token.expires_at is None
        else f"expires in {duration(token.expires_at - requested_at)}",
    )
    return token


def _version() -> str:
    """The installed version of httpie-trulioo, for the User-Agent."""
    try:
        return version("httpie-trulioo")
    except PackageNotFoundError:
        return "unknown"


_Result = TypeVar("_Result")


class _Deadline:
    """A wall-clock limit on one token request, whatever the server or the network does.

    The request runs in a thread of its own that the caller stops waiting for when time is up;
    then its sockets are shut down, which ends whatever read it is blocked in. A per-read
    timeout could not do this: a server that sends a byte now and then never trips it, and a
    host name with several unreachable addresses takes the connect timeout once for each.
    """

    def __init__(self) -> None:
        """No sockets yet."""
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def run(self, work: Callable[[], _Result], seconds: float) -> _Result:
        """``work()``'s result or exception, or TimeoutError once ``seconds`` have passed."""
        outcome: list[_Result] = []
        failure: list[BaseException] = []

        def attempt() -> None:
            try:
                outcome.append(work())
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread as it is
                failure.append(exc)

        worker = threading.Thread(target=attempt, name="httpie-trulioo token request", daemon=True)
        worker.start()
        worker.join(seconds)
        if worker.is_alive():
            self._expire()  # the worker ends soon after; what it gets is dropped
            raise TimeoutError
        if failure:
            raise failure[0]
        return outcome[0]

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when time is up (at once, if it is up already)."""
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter, whose connection pools hand every new socket to ``deadline``."""

    def __init__(self, deadline: _Deadline) -> None:
        """Build the watched pool classes, then the adapter (which builds its pool manager)."""
        self._pool_classes = {
            "http": _watched_pool(HTTPConnectionPool, deadline),
            "https": _watched_pool(HTTPSConnectionPool, deadline),
        }
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The usual pool manager, with watched pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """The usual proxy manager, with watched pools (a SOCKS proxy keeps its own)."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = self._pool_classes
        return manager


def _watched_pool(base: type[HTTPConnectionPool], deadline: _Deadline) -> type[HTTPConnectionPool]:
    """A subclass of the urllib3 pool ``base`` whose connections hand their sockets to ``deadline``."""

    class Connection(base.ConnectionCls):  # type: ignore[name-defined,misc]
        def _new_conn(self) -> socket.socket:
            sock: socket.socket = super()._new_conn()
            deadline.watch(sock)
            return sock

    return type(base.__name__, (base,), {"ConnectionCls": Connection})


def _no_netrc(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Send the request as it is: requests would otherwise add ~/.netrc credentials for the host."""
    return request


def _read_body(response: requests.Response) -> bytes:
    """The answer's bytes as sent, at most MAX_BODY of them; a compressed answer is refused."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise InvalidTokenResponse(
            f"the token endpoint answered {response.status_code} with a compressed body though none "
            "was asked for: check TRULIOO_TOKEN_URL and any proxy in between."
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.raw.stream(_CHUNK, decode_content=False):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            raise InvalidTokenResponse(
                f"the token endpoint answered {response.status_code} with a body larger than "
                f"{MAX_BODY >> 20} MiB: check TRULIOO_TOKEN_URL."
            )
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


def _reason(exc: BaseException) -> str:
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
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError)):
        return "the connection broke while the answer was read"
    return f"{type(exc).__name__}"


def _advice(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.SSLError):
        return "Check TRULIOO_TOKEN_URL, and REQUESTS_CA_BUNDLE if a proxy re-signs TLS."
    return "Check TRULIOO_TOKEN_URL and the network."


# Reading the answer: pure, no I/O. -----------------------------------------------------------


def parse_token_response(
    body: bytes,
    requested_at: float,
    hidden: SecretEcho | None = None,
    *,
    default_lifetime: float | None = None,
) -> Token:
    """Read a 200 answer of the token endpoint, in Trulioo's shape or the OAuth 2.0 one.

    Server text quoted in an error has any echo of the secret that ``hidden`` hears masked. A
    token whose answer gives no expiry lives ``default_lifetime`` seconds, if given.
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
        expires_at=token_expiry(access_token, expires_in, requested_at, default_lifetime),
        scope=_granted_scope(scope, hidden),
    )


def _granted_scope(value: object, hidden: SecretEcho | None) -> str | None:
    """The scope the server granted, for the cache and status; any echo of the secret masked."""
    if not isinstance(value, str):
        return None
    return hidden.mask(value) if hidden is not None else value


def describe_failure(
    status: int,
    body: bytes,
    hidden: SecretEcho | None = None,
    *,
    auth_method: str = "client_secret_post",
    scope_sent: bool = True,
    resource_sent: bool = False,
    basic_encoding: str = "",
) -> str:
    """One line that says why the token endpoint refused, from its status and OAuth error body.

    The hint follows what was sent: how the client authenticated (with HTTP Basic, where it
    mattered, how the id and secret went: ``FORM_ENCODED`` or ``FORM_ENCODED_THEN_AS_IS``),
    whether a scope or a resource went with it. It never contradicts the server's own
    error_description.
    """
    error, description = _oauth_error(body, hidden)
    if error:
        hint = _hint(
            error,
            description,
            _client_hint(auth_method, basic_encoding),
            scope_sent=scope_sent,
            resource_sent=resource_sent,
        )
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
        return f"the token endpoint answered 401: {_client_hint(auth_method, basic_encoding)}"
    return f"the token endpoint answered {status}: check TRULIOO_TOKEN_URL."


def raise_for_failure(
    status: int,
    body: bytes,
    hidden: SecretEcho | None = None,
    *,
    auth_method: str = "client_secret_post",
    scope_sent: bool = True,
    resource_sent: bool = False,
    basic_encoding: str = "",
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
                basic_encoding=basic_encoding,
            )
        )


def _hint(error: str, description: str, client_hint: str, *, scope_sent: bool, resource_sent: bool) -> str:
    if error == "invalid_client":
        return client_hint
    sent = {"invalid_scope": scope_sent, "invalid_target": resource_sent}.get(error, True)
    known = _HINTS.get((error, sent))
    if known:
        return known
    if description:
        return _NEUTRAL_HINT
    if error == "invalid_request":
        return "check TRULIOO_TOKEN_URL (is it an OAuth 2.0 token endpoint?) and TRULIOO_AUTH_METHOD."
    return "check the client id, secret, TRULIOO_SCOPE and TRULIOO_TOKEN_URL."


def _client_hint(auth_method: str, basic_encoding: str) -> str:
    where, other, other_way = _CLIENT_AUTH.get(auth_method, _CLIENT_AUTH["client_secret_post"])
    how = f" {basic_encoding}" if basic_encoding else ""
    return (
        f"check the client id and secret, sent {where} ({auth_method}){how}; "
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
    """A server's words fit to show: any echo of the secret masked, printable, cut short.

    The secret is looked for before anything else is changed or cut, so that no cleaned or
    partial copy of it can slip through.
    """
    text = str(value)
    if hidden is not None:
        text = hidden.mask(text)
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
