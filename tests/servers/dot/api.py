"""The URLs, views and middleware of the django-oauth-toolkit test server (see serve.py).

- ``POST /o/token/``, ``POST /o/revoke_token/``: django-oauth-toolkit's own views.
- ``/api/...``: a protected view that answers 401 with a Bearer challenge to a missing, unknown,
  expired or revoked token (DOT's opt-in ProtectedResourceMetadataMixin, RFC 6750).
- ``/stock-api/...``: DOT's stock ProtectedResourceView, which answers such a token with 403.
- ``GET /_stats``: how many token requests came in (a middleware counts them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, re_path
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.views import ProtectedResourceView, RevokeTokenView, TokenView
from oauth2_provider.views.mixins import ProtectedResourceMetadataMixin
from settings import CLIENTS, SCOPES

_ALLOWED = {client["client_id"]: client.get("scopes", list(SCOPES)) for client in CLIENTS}
_STATS = {"token_requests": 0}
_STATS_LOCK = threading.Lock()


class PerClientScopes(BaseScopes):
    """The scopes each client may ask for, from DOT_TEST_CLIENTS; by default it gets them all."""

    def get_all_scopes(self) -> dict[str, str]:
        return SCOPES

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return list(_ALLOWED.get(getattr(application, "client_id", ""), []))

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return self.get_available_scopes(application, request)


def count_token_requests(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Middleware: count every request to the token endpoint, answered or refused."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path == "/o/token/" and request.method == "POST":
            with _STATS_LOCK:
                _STATS["token_requests"] += 1
        return get_response(request)

    return middleware


class Api(ProtectedResourceMetadataMixin, ProtectedResourceView):
    """The API as RFC 6750 wants it: 401 and WWW-Authenticate to a token it does not accept."""

    def verify_request(self, request: HttpRequest) -> tuple[bool, Any]:
        valid, oauthlib_request = super().verify_request(request)
        request.access_token = getattr(oauthlib_request, "access_token", None)  # type: ignore[attr-defined]
        return valid, oauthlib_request

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = request.access_token  # type: ignore[attr-defined]  # DOT's AccessToken, set above
        return JsonResponse(
            {"path": request.path, "client_id": token.application.client_id, "scope": token.scope}
        )

    post = get


class StockApi(ProtectedResourceView):
    """DOT's default: a bare 403 to a token it does not accept."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return JsonResponse({"path": request.path})

    post = get


def stats(request: HttpRequest) -> HttpResponse:
    with _STATS_LOCK:
        return JsonResponse(dict(_STATS))


urlpatterns = [
    path("o/token/", TokenView.as_view()),
    path("o/revoke_token/", RevokeTokenView.as_view()),
    path("_stats", stats),
    re_path(r"^api(/.*)?$", Api.as_view()),
    re_path(r"^stock-api(/.*)?$", StockApi.as_view()),
]
