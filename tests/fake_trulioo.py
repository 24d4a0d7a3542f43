"""A Trulioo-like token endpoint and protected API on 127.0.0.1, for the tests and the demo.

Run it alone with ``python tests/fake_trulioo.py`` (see the README); the tests start it in a
thread and change its behaviour through the attributes of ``FakeTrulioo``.

- ``POST /connect/token``: the client-credentials grant, answered in Trulioo's shape
  (``Token``/``TokenType``/``ExpiresIn``) or the OAuth 2.0 one (``access_token``/...), with a JWT
  or an opaque token, and HTTP 400 ``invalid_client``/``invalid_scope``/``unsupported_grant_type``.
  The client may authenticate in the form or with HTTP Basic (RFC 6749 section 2.3.1), whose id
  and secret it form-decodes, as that section asks, unless told to take them as they come, as
  many servers do (``basic_decodes = False``).
- ``POST /_revoke`` makes the API refuse every token issued so far; ``GET /_stats`` counts the
  token and API requests; ``/_redirect?to=URL`` answers 307 to ``URL``, token or not (with
  ``&auth=1``, only to a good token, else 401).
- Anything else is the API: it needs a bearer token that this server issued, has not revoked and
  that has not expired, or it answers 401. It answers 200 with a JSON summary of the request,
  including the SHA-256 and length of the body it received.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret:with-colon"
SCOPES = ("workflow.studio.api", "napi.api")
_SIGNING_KEY = secrets.token_bytes(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict[str, Any]) -> str:
    """An HS256 JWT signed with this server's key (the plugin never checks the signature)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(_SIGNING_KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


@dataclass
class FakeTrulioo:
    """What the server does; tests change these fields between calls."""

    clients: dict[str, str] = field(default_factory=lambda: {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET})
    shape: str = "trulioo"  # or "oauth"
    token_kind: str = "jwt"  # or "opaque"
    expires_in: Any = 3599  # what the answer says; None leaves the field out
    lifetime: float = 3599.0  # how long the API accepts a token, and its JWT exp
    jwt_exp_offset: float | None = None  # JWT exp = now + this, when set (clock skew, expired)
    token_delay: float = 0.0  # seconds the token endpoint waits before answering
    token_override: Callable[[], tuple[int, dict[str, str], bytes]] | None = None
    basic_decodes: bool = True  # False: HTTP Basic credentials are compared as they come, not form-decoded
    clock: Callable[[], float] = time.time
    token_requests: int = 0
    api_requests: int = 0
    issued: dict[str, tuple[float, str]] = field(default_factory=dict)  # token -> (expiry, client)
    revoked: set[str] = field(default_factory=set)
    token_forms: list[dict[str, str]] = field(default_factory=list)
    token_authorizations: list[str] = field(default_factory=list)  # Authorization headers seen
    token_headers: list[dict[str, str]] = field(default_factory=list)  # every token request's headers
    proxied: list[str] = field(default_factory=list)  # URLs asked for as a forward proxy
    lock: threading.Lock = field(default_factory=threading.Lock)

    def revoke_all(self) -> None:
        """Make the API refuse every token issued so far, as a revocation or expiry would."""
        with self.lock:
            self.revoked.update(self.issued)

    def answer_token(
        self, form: dict[str, str], authorization: str = ""
    ) -> tuple[int, dict[str, str], bytes]:
        """The token endpoint: status, headers, body."""
        with self.lock:
            self.token_requests += 1
            self.token_forms.append(form)
        if self.token_delay:
            time.sleep(self.token_delay)
        if self.token_override is not None:
            return self.token_override()
        if form.get("grant_type") != "client_credentials":
            return _oauth_error("unsupported_grant_type")
        client_id, client_secret = _basic_credentials(authorization, decode=self.basic_decodes) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        if client_id not in self.clients or not hmac.compare_digest(self.clients[client_id], client_secret):
            return _oauth_error("invalid_client")
        scope = form.get("scope", "")
        if scope not in SCOPES:
            return _oauth_error("invalid_scope")
        now = self.clock()
        if self.token_kind == "jwt":
            exp = now + (self.jwt_exp_offset if self.jwt_exp_offset is not None else self.lifetime)
            claims = {
                "iss": "fake-trulioo",
                "client_id": client_id,
                "scope": scope,
                "aud": "trulioo-api",
                "iat": int(now),
                "exp": int(exp),
                "jti": secrets.token_hex(8),
            }
            token = make_jwt(claims)
        else:
            token = secrets.token_urlsafe(32)
        with self.lock:
            self.issued[token] = (now + self.lifetime, client_id)
        if self.shape == "trulioo":
            document: dict[str, Any] = {"Token": token, "TokenType": "bearer", "scope": scope}
            if self.expires_in is not None:
                document["ExpiresIn"] = self.expires_in
        else:
            document = {"access_token": token, "token_type": "Bearer", "scope": scope}
            if self.expires_in is not None:
                document["expires_in"] = self.expires_in
        return 200, {"Content-Type": "application/json"}, json.dumps(document).encode()

    def check_bearer(self, authorization: str) -> bool:
        """Tell whether the API accepts this Authorization header."""
        scheme, _, token = authorization.partition(" ")
        with self.lock:
            self.api_requests += 1
            known = self.issued.get(token)
            return (
                scheme.lower() == "bearer"
                and known is not None
                and token not in self.revoked
                and self.clock() < known[0]
            )


def _basic_credentials(authorization: str, *, decode: bool) -> tuple[str, str] | None:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
    if not decode:
        return client_id, client_secret
    return unquote_plus(client_id), unquote_plus(client_secret)


def _oauth_error(error: str) -> tuple[int, dict[str, str], bytes]:
    body = {"error": error, "error_description": f"fake-trulioo: {error}"}
    return 400, {"Content-Type": "application/json"}, json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if self.server.verbose:
            sys.stderr.write("fake-trulioo: " + (format % args) + "\n")

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        body = self._body()
        fake = self.server.fake
        path = urlsplit(self.path).path  # a proxy is sent the whole URL
        if self.path.startswith("http"):
            fake.proxied.append(self.path)
        if path == "/connect/token":
            if self.command != "POST":
                self._send(405, {"Allow": "POST"}, b"")
                return
            form = {key: values[0] for key, values in parse_qs(body.decode(), keep_blank_values=True).items()}
            authorization = self.headers.get("Authorization", "")
            fake.token_authorizations.append(authorization)
            fake.token_headers.append(dict(self.headers.items()))
            self._send(*fake.answer_token(form, authorization))
            return
        if path == "/_revoke" and self.command == "POST":
            fake.revoke_all()
            self._send(200, {"Content-Type": "application/json"}, b'{"revoked": "all tokens issued so far"}')
            return
        if path == "/_redirect":
            self._redirect()
            return
        if path == "/_stats":
            stats = {"token_requests": fake.token_requests, "api_requests": fake.api_requests}
            self._send(200, {"Content-Type": "application/json"}, json.dumps(stats).encode())
            return
        if not fake.check_bearer(self.headers.get("Authorization", "")):
            self._send(
                401,
                {"WWW-Authenticate": 'Bearer error="invalid_token"', "Content-Type": "application/json"},
                b'{"message": "Unauthorized"}',
            )
            return
        summary = {
            "method": self.command,
            "path": path,
            "content_type": self.headers.get("Content-Type", ""),
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
        self._send(200, {"Content-Type": "application/json"}, json.dumps(summary).encode())

    def _redirect(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        if "auth" in query and not self.server.fake.check_bearer(self.headers.get("Authorization", "")):
            self._send(401, {"WWW-Authenticate": "Bearer"}, b"")
        else:
            self._send(307, {"Location": query.get("to", ["/"])[0]}, b"")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815 - http.server names them


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Tests open dozens of connections at once (64 processes, 32 threads); the default backlog
    # of 5 could overflow and make a client fail for reasons that are not the plugin's.
    request_queue_size = 128

    def __init__(self, port: int, fake: FakeTrulioo, verbose: bool) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.fake = fake
        self.verbose = verbose

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gives up early (a timeout test, a cut-off body) is expected here.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class RunningServer:
    """A FakeTrulioo served from a thread; ``with RunningServer() as server: server.url``."""

    def __init__(
        self,
        fake: FakeTrulioo | None = None,
        port: int = 0,
        verbose: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """Bind 127.0.0.1 now (port 0: any free port), over TLS if given a context; serve once entered."""
        self.fake = fake or FakeTrulioo()
        self._server = _Server(port, self.fake, verbose)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self.token_url = self.url + "/connect/token"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> RunningServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def demo(server: RunningServer, cache_dir: str) -> None:
    """Show a token fetched, reused, then refreshed after a 401, with the plugin's log on.

    The tokens go to ``cache_dir``, a throwaway folder, never the user's own cache; and the
    user's own TRULIOO_* variables are left out, so that the demo shows the same every time.
    """
    from harness import find_http  # noqa: PLC0415 - only the demo runs http

    http = find_http()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRULIOO_")}
    env.update(TRULIOO_TOKEN_URL=server.token_url, TRULIOO_LOG="info", TRULIOO_CACHE_DIR=cache_dir)
    call = ["http", "-b", "--auth-type=trulioo", f"--auth={DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}"]
    flow = f"{server.url}/wfs/interpreter-v2/flow/demo-flow"
    steps = [
        ("a first call fetches a token", [*call, "GET", flow]),
        ("the next call reuses it", [*call, "GET", flow]),
        ("revoke every token (the API will answer 401)", ["http", "-b", "POST", f"{server.url}/_revoke"]),
        (
            "a 401 is answered with a new token and the request is sent again",
            [*call, "POST", f"{server.url}/wfs/interpreter-v2/submit/demo-flow", "name=Ada"],
        ),
        ("what is cached", ["httpie-trulioo", "status"]),
    ]
    for title, command in steps:
        print(f"\n# {title}\n$ {' '.join(command)}", flush=True)
        program = str(Path(http).with_name(command[0]))
        extra = ["--ignore-stdin"] if command[0] == "http" else []
        subprocess.run([program, *extra, *command[1:]], env=env, check=True, stderr=subprocess.STDOUT)
        print(flush=True)


def main() -> None:
    """Serve until interrupted, printing how to point the plugin at it."""
    parser = argparse.ArgumentParser(description="A Trulioo-like token endpoint and API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (8765; 0: any free one)")
    parser.add_argument("--lifetime", type=float, default=3599, help="token lifetime in seconds")
    parser.add_argument("--demo", action="store_true", help="first run a short demo of the plugin against it")
    parser.add_argument("--exit", action="store_true", help="stop after the demo instead of serving on")
    args = parser.parse_args()
    fake = FakeTrulioo(expires_in=int(args.lifetime), lifetime=args.lifetime)
    # A throwaway token cache, removed when the server stops: a second run starts cold again.
    with (
        tempfile.TemporaryDirectory(prefix="httpie-trulioo-demo-") as scratch,
        RunningServer(fake, port=args.port, verbose=not args.demo) as server,
    ):
        cache_dir = os.path.join(scratch, "cache")
        print(f"fake Trulioo on {server.url}", flush=True)
        if args.demo:
            demo(server, cache_dir)
            if args.exit:
                return
        print(
            f"""
Try it yourself, in another terminal (after: . .venv/bin/activate); the second command makes
the API answer 401 to every token issued so far:
  export TRULIOO_TOKEN_URL={server.token_url} TRULIOO_LOG=info TRULIOO_CACHE_DIR={cache_dir}
  http -A trulioo -a '{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}' GET {server.url}/wfs/interpreter-v2/flow/f1
  http POST {server.url}/_revoke
  httpie-trulioo status
Ctrl-C stops the server and removes that cache folder.""",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
