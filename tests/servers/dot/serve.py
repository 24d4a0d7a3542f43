"""Start the django-oauth-toolkit test server on 127.0.0.1 (api.py says what it serves).

    DOT_TEST_DATABASE=db.sqlite3 DOT_TEST_CLIENTS='[{"client_id": "c", "client_secret": "s"}]' \
        python serve.py

creates the sqlite database and the confidential client-credentials applications that
DOT_TEST_CLIENTS lists (with "scopes" and "lifetime" when not the defaults of settings.py), then
serves on a free port of 127.0.0.1, printing ``ready PORT`` once it accepts connections. It runs
until it is killed.
"""

from __future__ import annotations

import os
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.core.management import call_command


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
    django.setup()
    call_command("migrate", verbosity=0)

    from django.core.wsgi import get_wsgi_application  # noqa: PLC0415 - needs django.setup() first
    from oauth2_provider.models import Application  # noqa: PLC0415 - same
    from settings import CLIENTS  # noqa: PLC0415 - same

    for client in CLIENTS:
        Application.objects.create(
            name=client["client_id"],
            client_id=client["client_id"],
            client_secret=client["client_secret"],  # hashed on save
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        )
    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), server_class=_Server, handler_class=_QuietHandler
    )
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
