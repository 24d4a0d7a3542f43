"""The other hosts a token or the secret must never reach, played on loopback, recording all.

- ``Recorder``: any host (another loopback address, another port) that answers every request
  with one status and keeps each request's method, path and headers.
- ``ConnectProxy``: a forward proxy that records every request line; a CONNECT tunnel always
  leads to one local server, whatever host was asked for, so no name is ever looked up.
- ``Dripper``: a token endpoint that sends its status line, then its headers or its body, one
  byte at a time, as a broken or hostile server can.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple


class Seen(NamedTuple):
    """One request as a peer received it."""

    method: str
    path: str
    headers: dict[str, str]


class Recorder:
    """A server on ``host`` (any loopback address) that answers ``status`` to everything."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        status: int = 401,
        body: bytes = b"{}",
        *,
        port: int = 0,
        headers: dict[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """Bind now (port 0: a free one), over TLS if given a context; serve once entered."""
        self.seen: list[Seen] = []
        self.status = status
        self.body = body
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                recorder.seen.append(Seen(self.command, self.path, dict(self.headers.items())))
                self.send_response(recorder.status)
                self.send_header("Content-Type", "application/json")
                if recorder.status == 401:
                    self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(recorder.body)))
                self.end_headers()
                self.wfile.write(recorder.body)

            do_GET = do_POST = do_PUT = do_DELETE = handle_one  # noqa: N815 - http.server names them

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def authorizations(self) -> list[str]:
        """The Authorization header of each request received ("" where there was none)."""
        return [seen.headers.get("Authorization", "") for seen in self.seen]

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _SocketServer:
    """A listener on 127.0.0.1 that hands each connection to ``_handle`` in a thread of its own."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._listener.close()


class ConnectProxy(_SocketServer):
    """A proxy on 127.0.0.1 that records request lines; CONNECT always tunnels to ``upstream``."""

    def __init__(self, upstream: tuple[str, int] | None = None) -> None:
        """Listen now on a free port; serve once entered."""
        super().__init__()
        self.request_lines: list[str] = []
        self.upstream = upstream
        self.url = f"http://{self.address}"

    def _handle(self, client: socket.socket) -> None:
        with client:
            client.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode(errors="replace")
            self.request_lines.append(line)
            if not line.startswith("CONNECT ") or self.upstream is None:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            with socket.create_connection(self.upstream, timeout=10) as server:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                _pipe(client, server, self._stop)


def _pipe(one: socket.socket, other: socket.socket, stop: threading.Event) -> None:
    """Copy bytes both ways until either side closes."""
    ends = {one: other, other: one}
    while not stop.is_set():
        ready, _, _ = select.select(list(ends), [], [], 0.1)
        for sock in ready:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            ends[sock].sendall(data)


class Dripper(_SocketServer):
    """A token endpoint on 127.0.0.1 that drips its headers or its body, one byte per ``interval``.

    It stops by itself after ``limit`` bytes (a bound on how long a test can be held), or when
    the client goes away.
    """

    def __init__(self, part: str, interval: float = 0.2, limit: int = 300) -> None:
        """``part`` is "headers" or "body"."""
        super().__init__()
        self.part = part
        self.interval = interval
        self.limit = limit
        self.token_url = f"http://{self.address}/connect/token"

    def _handle(self, client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            client.recv(65536)  # the request; its body may follow, and is not needed
            if self.part == "headers":
                client.sendall(b"HTTP/1.1 200 OK\r\n")
                drip = b"X-Drip: " + b"a" * self.limit
            else:
                client.sendall(
                    f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {self.limit}\r\n\r\n".encode()
                )
                drip = b" " * self.limit
            for byte in drip:
                if self._stop.wait(self.interval):
                    return
                client.sendall(bytes([byte]))
