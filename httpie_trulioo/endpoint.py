"""The one place that talks to the token endpoint."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import __version__
from .echoes import SecretEcho
from .errors import InvalidTokenResponse, TokenEndpointUnreachable
from .grant import client_credentials_request
from .settings import DEFAULT_AUTH_METHOD
from .token import Token, parse_token_response, raise_for_failure
from .urls import check_token_url, is_loopback

# A token answer is a few kilobytes; reading at most this much keeps a broken or hostile
# endpoint from filling memory.
MAX_BODY = 1 << 20
_CHUNK = 64 * 1024
# Asked of a loopback token URL: no proxy at all, whatever HTTP(S)_PROXY or ALL_PROXY say, so a
# plain-http request to this machine never carries the secret to a proxy in clear.
_NO_PROXY: dict[str, str | None] = {"http": None, "https": None, "all": None}


def fetch_token(
    *,
    token_url: str,
    scope: str,
    client_id: str,
    client_secret: str,
    timeout: float,
    clock: Callable[[], float] = time.time,
    auth_method: str = DEFAULT_AUTH_METHOD,
    audience: str = "",
    resource: str = "",
) -> Token:
    """POST the client-credentials form to ``token_url`` and return the token it answers with.

    By default the form is the one Trulioo documents (client_secret_post); see
    ``grant.client_credentials_request``. Redirects are not followed, so the secret is never sent
    anywhere but ``token_url``. ``timeout`` bounds the whole exchange,
    from connecting to the last byte of the answer. ``REQUESTS_CA_BUNDLE`` and the proxy
    variables apply, as they do for requests, except that a loopback URL never uses a proxy.
    """
    check_token_url(token_url)
    parts = urlsplit(token_url)
    host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    grant = client_credentials_request(
        client_id=client_id,
        client_secret=client_secret,
        scope=scope,
        auth_method=auth_method,
        audience=audience,
        resource=resource,
    )
    headers = {
        "Accept": "application/json",
        "Accept-Encoding": "identity",  # the size cap then holds for what is read, not what it inflates to
        "User-Agent": f"httpie-trulioo/{__version__}",
        **grant.headers,
    }
    requested_at = clock()
    deadline = _Deadline()
    # requests reads a None as "no proxy for this scheme" (its stubs only allow str); a fresh
    # dict each time, since requests fills in what it is given.
    proxies = dict(_NO_PROXY) if is_loopback(parts.hostname or "") else None

    def exchange() -> tuple[int, bytes]:
        with requests.Session() as session:
            adapter = _WatchedAdapter(deadline)  # a new one: no pooled socket escapes the deadline
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            with session.post(
                token_url,
                data=grant.form,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
                auth=_no_netrc,
                proxies=proxies,  # type: ignore[arg-type]
            ) as response:
                return response.status_code, _read_body(response)

    try:
        status, body = deadline.run(exchange, timeout)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        if deadline.expired or any(_is_timeout(cause) for cause in _causes(exc)):
            raise _timed_out(host, timeout) from None
        raise TokenEndpointUnreachable(
            f"could not reach the token endpoint {host}: {_reason(exc)}. {_advice(exc)}"
        ) from None
    # Error messages quote the server (error_description, a token type, an ExpiresIn); any of
    # that text that echoes the secret, in any form, is left out.
    hidden = SecretEcho(client_secret)
    raise_for_failure(
        status, body, hidden, auth_method=auth_method, scope_sent=bool(scope), resource_sent=bool(resource)
    )
    return parse_token_response(body, requested_at, hidden)


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
