"""``TruliooAuth``: a requests auth that sends a client-credentials bearer token and answers a 401.

The token comes from ``provider.Provider``, the one path to a token. This module adapts it to
requests: it checks where the request goes before any token is had, sets the header, keeps the
token from following a redirect elsewhere, and resends a request once when the API refuses a
cached token. ``for_httpie`` is what the HTTPie plugin builds.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urljoin, urlsplit

import requests

from .credentials import Choice, Credentials, SecretPrompt, choose
from .provider import Provider
from .settings import log_to_stderr
from .token import fingerprint
from .urls import Origin, check_api_url, origin_of

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a call milliseconds
if TYPE_CHECKING:
    from typing import Any

    from .token import Token

log = logging.getLogger("httpie_trulioo")

PROFILE_MARK = "@"  # http --auth=@dev chooses profile dev; a client id never starts with it

# A multipart upload up to this size is held in memory so that a 401 can be answered by sending
# it again; identity documents and selfies are a few megabytes.
MAX_BUFFERED_UPLOAD = 64 << 20


class TruliooAuth(requests.auth.AuthBase):
    """Bearer auth for the Trulioo API: gets a client-credentials token, caches it, retries a 401.

    Arguments left as None come from the profile and the ``TRULIOO_*`` variables, then defaults,
    as ``credentials`` says; ``profile`` chooses a profile by name, whose values then beat the
    variables; ``scope=""`` asks for no scope. Nothing is checked or read until the first request,
    so building one never raises; the first request raises a ``TruliooError`` if a setting is
    wrong, or if its URL is not one a token may go to. One object may be shared by threads: they
    share one token request per need.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        profile: str | None = None,
        token_url: str | None = None,
        scope: str | None = None,
        token_buffer: float | None = None,
        timeout: float | None = None,
        cache_dir: str | None = None,
        cache: bool | None = None,
        api_hosts: tuple[str, ...] | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        offline: bool = False,
        secret_prompt: SecretPrompt | None = None,
        proxies: Mapping[str, str] | None = None,
        auth_method: str | None = None,
        audience: str | None = None,
        resource: str | None = None,
    ) -> None:
        """Keep the arguments; the environment is read at the first request.

        ``offline=True`` never asks the token endpoint (``http --offline``): requests carry the
        cached token if it is fresh, else ``provider.OFFLINE_PLACEHOLDER``. ``secret_prompt(client_id,
        token_url)``, when given, is asked for a secret that no other source has; it returns
        None when no one can be asked (``secret_sources.ask_on_terminal`` is the plugin's).
        ``proxies`` are those the request goes through besides the environment's (HTTPie's
        ``--proxy``): a token is never sent through one over plain http.
        """
        self._client_secret = client_secret
        self._profile = profile
        self._arguments: dict[str, Any] = {
            "client_id": client_id,
            "token_url": token_url,
            "scope": scope,
            "token_buffer": token_buffer,
            "timeout": timeout,
            "cache_dir": cache_dir,
            "cache_enabled": cache,
            "api_hosts": api_hosts,
            "auth_method": auth_method,
            "audience": audience,
            "resource": resource,
        }
        self._environ = environ
        self._clock = clock
        self._offline = offline
        self._secret_prompt = secret_prompt
        self._proxies = dict(proxies or {})
        self._choice: Choice | None = None
        self._provider: Provider | None = None
        # Set by for_httpie for --verify=no: HTTPie silences urllib3's own warning about it.
        self.unverified_tls = False
        self._lock = threading.Lock()  # so that threads sharing this object read the settings once

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set ``Authorization: Bearer …`` and a hook that keeps the token home and answers a 401.

        The request's URL is checked first (https, an allowed host), before any secret is looked for.
        """
        url = request.url or ""
        origin = check_api_url(url, self.choice().settings.api_hosts)
        if origin[0] == "http":
            _refuse_a_proxy(url, origin[1], self._proxies)
        provider = self.provider()
        if self._offline:
            request.headers["Authorization"] = f"Bearer {provider.offline_token()}"
            return request
        token, from_cache = provider.token()
        if self.unverified_tls and origin[0] == "https":
            log.warning(
                "%s TLS verification is off (--verify=no): anyone between here and %s can read "
                "the token; use --verify=CA.pem to trust a private CA instead.",
                provider.context,
                origin[1],
            )
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        if from_cache:
            _buffer_multipart(request)
        retry = from_cache and provider.credentials.settings.retry_401
        hook = _TokenGuard(self, origin, token.access_token, request.body, retry=retry)
        request.register_hook("response", hook)  # type: ignore[no-untyped-call]
        return request

    def token(self, *, min_ttl: float = 0.0, renew: bool = False) -> Token:
        """A token that may be sent now: the cached one, or a new one (and cache it).

        ``min_ttl``: the cached one only if it lives at least that many seconds more.
        ``renew``: a new one whatever is cached, which it replaces.
        """
        return self.provider().token(min_ttl=min_ttl, renew=renew)[0]

    def describe(self) -> dict[str, Any]:
        """The token URL, scope, client id and profile in use, and where each came from; never the secret."""
        return self.provider().credentials.describe()

    def choice(self) -> Choice:
        """The profile and the settings, read once from the environment as it was at the first request."""
        if self._choice is None:
            with self._lock:
                if self._choice is None:
                    self._choice = choose(
                        self._environ if self._environ is not None else dict(os.environ),
                        profile=self._profile,
                        arguments=self._arguments,
                        secret_given=self._client_secret is not None,
                    )
        return self._choice

    def provider(self) -> Provider:
        """The provider of this object's tokens, made once (one prompt, whatever the threads)."""
        if self._provider is None:
            choice = self.choice()
            with self._lock:
                if self._provider is None:
                    credentials = Credentials(
                        choice, client_secret=self._client_secret, prompt=self._secret_prompt
                    )
                    self._provider = Provider(credentials, self._clock)
        return self._provider


def for_httpie(username: str | None, password: str | None) -> TruliooAuth:
    """The auth object for ``http --auth-type=trulioo --auth=USERNAME:PASSWORD`` (or ``--auth=@PROFILE``).

    HTTPie parses its arguments before it calls this: ``--offline`` and ``--proxy`` are read from
    them, and the plugin asks for a missing secret on the terminal by itself.
    """
    keep_dependencies_importable()
    log_to_stderr()
    profile = None
    if username and username.startswith(PROFILE_MARK):
        profile, username = username[len(PROFILE_MARK) :], None
    parsed = _httpie_arguments()
    offline = getattr(parsed, "offline", None)
    auth = TruliooAuth(
        username or None,
        password or None,
        profile=profile,
        offline=offline if isinstance(offline, bool) else "--offline" in sys.argv,
        secret_prompt=_ask_on_terminal,
        proxies={item.key: item.value for item in getattr(parsed, "proxy", None) or ()},
    )
    verify = getattr(parsed, "verify", None)
    auth.unverified_tls = isinstance(verify, str) and verify.lower() in ("no", "false")
    return auth


def keep_dependencies_importable() -> None:
    """Keep the folder this package was installed in on ``sys.path``.

    ``httpie cli plugins install`` puts a plugin and its dependencies in a folder of their own,
    which HTTPie adds to ``sys.path`` only while it loads plugins; the imports this package makes
    later, at request time, would then fail. Elsewhere the folder is on the path already.
    """
    folder = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if folder not in sys.path:
        sys.path.append(folder)


def _ask_on_terminal(client_id: str, token_url: str) -> str | None:
    """The plugin's own prompt, loaded only when no other source has the secret."""
    from .secret_sources import ask_on_terminal  # noqa: PLC0415 - most calls never prompt

    return ask_on_terminal(client_id, token_url)


def _httpie_arguments() -> object:
    """The parsed arguments of this http call (``--offline``, ``--proxy``), or None.

    HTTPie does not pass its arguments to plugins; its parser keeps the parsed ones, which are
    read here. Without them, ``--offline`` is looked for on the command line.
    """
    definition = sys.modules.get("httpie.cli.definition")
    return getattr(getattr(definition, "parser", None), "args", None)


def _refuse_a_proxy(url: str, host: str, given: Mapping[str, str]) -> None:
    """Refuse a plain-http request that a proxy would carry: the token would cross it in clear."""
    from requests.utils import get_environ_proxies, select_proxy  # noqa: PLC0415 - plain http only

    if select_proxy(url, {**get_environ_proxies(url), **given}):
        from .errors import InsecureAPIURL  # noqa: PLC0415 - loaded only when raised

        raise InsecureAPIURL(
            f"refusing to send the Trulioo token over plain http to {host} through a proxy "
            f"(HTTP_PROXY, ALL_PROXY or --proxy): add {host} to NO_PROXY, or use https://."
        )


class _TokenGuard:
    """A response hook that keeps the token at its origin and, for a cached one, answers a 401.

    requests copies hooks and headers onto redirected requests. It drops the token when a
    redirect leaves the host, but not on an http to https upgrade of the same host; so a
    redirect to another origin has the token taken off here first. Only a 401 to the request the
    token was attached to counts: from the same origin, to a request that carried that token; a
    401 from anywhere else must not bring a new one. Then the cached token is replaced once, and
    the request sent again, by ``_answer_401``.
    """

    def __init__(self, auth: TruliooAuth, origin: Origin, sent: str, body: object, *, retry: bool) -> None:
        """Remember where the token went, which it was, where the body starts, and if a 401 is ours."""
        self.auth = auth
        self.origin = origin
        self.rejected = sent
        self.body = body
        self.start = _start_of(body)
        self.used = not retry

    def __call__(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """Keep the token home on a redirect; answer the first 401 to it, from its origin."""
        if response.is_redirect:
            self.keep_home(response, response.request)
            return response
        if response.status_code != 401 or self.used or not self._answers_our_request(response):
            return response
        self.used = True
        return _answer_401(self, response, kwargs)

    def keep_home(self, response: requests.Response, copied: requests.PreparedRequest) -> None:
        """Take the token off ``copied``, which requests copies to follow a redirect elsewhere."""
        target = origin_of(urljoin(response.url, response.headers["Location"]))
        if target != self.origin:
            copied.headers.pop("Authorization", None)

    def _answers_our_request(self, response: requests.Response) -> bool:
        sent = response.request
        return (
            origin_of(sent.url or "") == self.origin
            and sent.headers.get("Authorization") == f"Bearer {self.rejected}"
        )


def _start_of(body: object) -> int | None:
    """Where a file body starts, to rewind it to; None for anything that cannot be rewound."""
    if not hasattr(body, "read"):
        return None  # bytes need no rewinding; a generator or another iterable is read once
    stream: Any = body
    try:
        return int(stream.tell())
    except (AttributeError, OSError, ValueError):
        return None  # a pipe, or a stream with no position


def _answer_401(guard: _TokenGuard, response: requests.Response, kwargs: dict[str, Any]) -> requests.Response:
    """Replace the token the API refused, once, and send the request again with the new one.

    The body is resent whole: bytes as they are (a multipart upload was read into bytes before
    the first send), a file rewound to where it started. A stream that cannot be read twice is
    never resent, so it is never sent empty or cut short; the 401 is shown and the new token is
    kept for the next run.
    """
    provider = guard.auth.provider()
    access_token = provider.token(rejected=guard.rejected)[0].access_token
    request = response.request
    body = _rewound(guard, request.body)
    if body is _CANNOT_REPLAY:
        log.warning(
            "%s the API answered 401 to the cached token; a new token was fetched, but this "
            "request's body is a stream that cannot be sent twice: run the command again.",
            provider.context,
        )
        return response
    response.content  # noqa: B018 - drain the first answer so its connection can be reused
    response.close()
    retry = request.copy()
    retry.body = body  # type: ignore[assignment]  # requests accepts any body it prepared
    retry.headers["Authorization"] = f"Bearer {access_token}"
    from requests.cookies import extract_cookies_to_jar  # noqa: PLC0415 - only a 401 needs it

    extract_cookies_to_jar(retry._cookies, request, response.raw)  # type: ignore[attr-defined,no-untyped-call]
    retry.prepare_cookies(retry._cookies)  # type: ignore[attr-defined]
    assert response.connection is not None  # noqa: S101 - requests sets it on every response
    # Said by default: a tester who sees a 200 should know a 401 came first (TRULIOO_RETRY_401=off
    # shows that 401 instead). The path only, never the query: it may hold personal data.
    log.warning(
        "%s token …%s was refused (401); got a new one (…%s) and resent %s %s",
        provider.context,
        fingerprint(guard.rejected),
        fingerprint(access_token),
        retry.method,
        urlsplit(retry.url or "").path or "/",
    )
    second = response.connection.send(retry, **kwargs)
    second.history.append(response)
    second.request = retry
    # requests builds a redirect from the request it was first given, not from this one.
    request.headers["Authorization"] = retry.headers["Authorization"]
    if second.is_redirect:
        guard.keep_home(second, request)
    return second


def _rewound(guard: _TokenGuard, body: object) -> object:
    """The body to send again, rewound to where it started; _CANNOT_REPLAY when it cannot be."""
    if body is None or isinstance(body, (bytes, str)):
        return body
    if body is not guard.body or guard.start is None:
        return _CANNOT_REPLAY
    stream: Any = body
    try:
        stream.seek(guard.start)
    except (OSError, ValueError):
        return _CANNOT_REPLAY
    if "read" in vars(stream):
        # HTTPie wraps a file body's read() to echo what is sent (http -v); the resend reads
        # through the file's own read(), so the body is not shown a second time.
        return _PlainReader(stream)
    return body


_CANNOT_REPLAY = object()


class _PlainReader:
    """A file read through its class's own ``read()``, past any wrapper set on the instance."""

    def __init__(self, stream: Any) -> None:
        """Wrap ``stream``, already rewound."""
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        """Read as the file itself would."""
        data: bytes = type(self._stream).read(self._stream, size)
        return data


def _buffer_multipart(request: requests.PreparedRequest) -> None:
    """Read a multipart upload (requests-toolbelt's encoder) into bytes, so that it can be resent.

    The encoder can be read only once and its fields may have come from a one-shot iterator (they
    do in HTTPie), so it cannot be rebuilt after a 401. An upload larger than the cap is left as a
    stream; a 401 to it is answered by asking to run the command again.
    """
    body: Any = request.body
    if type(body).__name__ == "MultipartEncoder" and 0 <= getattr(body, "len", -1) <= MAX_BUFFERED_UPLOAD:
        request.body = body.read()
