"""Django settings of the django-oauth-toolkit test server (see serve.py and api.py).

The tests say which clients exist, with which secrets, scopes and token lifetimes, in the
DOT_TEST_CLIENTS variable (JSON); DOT_TEST_DATABASE names the sqlite file.
"""

from __future__ import annotations

import json
import os
from typing import Any

CLIENTS: list[dict[str, Any]] = json.loads(os.environ.get("DOT_TEST_CLIENTS", "[]"))
SCOPES = {"read": "read the API", "write": "change things through the API"}
# DOT's own default lifetime: ten hours, the "stays cached for hours" of a 403 API.
DEFAULT_LIFETIME = 36_000
_LIFETIMES = {client["client_id"]: client.get("lifetime", DEFAULT_LIFETIME) for client in CLIENTS}


def token_lifetime(request: Any) -> int:
    """Seconds a new access token lives, per client (oauthlib accepts a callable here)."""
    return int(_LIFETIMES.get(getattr(request.client, "client_id", ""), DEFAULT_LIFETIME))


DEBUG = False
SECRET_KEY = "test-only, never deployed"
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "api"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "oauth2_provider"]
MIDDLEWARE = ["api.count_token_requests"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DOT_TEST_DATABASE", ":memory:"),
        # A wait for the write lock, not an error, when requests come in together; no fsync, since
        # the database lives as long as one test session.
        "OPTIONS": {"timeout": 30, "init_command": "PRAGMA synchronous=OFF"},
    }
}
USE_TZ = True
# DOT hashes client secrets with Django's password hasher; the default one costs about a second
# of CPU per check on a small machine, and the protocol does not depend on it.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
OAUTH2_PROVIDER = {
    "SCOPES": SCOPES,
    "SCOPES_BACKEND_CLASS": "api.PerClientScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": token_lifetime,
}
