"""The client-credentials token request: its form fields and headers, built with no I/O."""

from __future__ import annotations

import base64
from typing import NamedTuple
from urllib.parse import quote_plus

BASIC = "client_secret_basic"


class TokenRequest(NamedTuple):
    """The form and the extra headers to POST to the token endpoint."""

    form: dict[str, str]
    headers: dict[str, str]


def client_credentials_request(
    *,
    client_id: str,
    client_secret: str,
    scope: str,
    auth_method: str,
    audience: str = "",
    resource: str = "",
) -> TokenRequest:
    """The request for a token: RFC 6749 section 4.4, with the client authenticated per section 2.3.1.

    ``client_secret_post`` puts the id and secret in the form, as Trulioo documents.
    ``client_secret_basic`` form-encodes each, joins them with ``:`` and sends them base64-encoded
    in an HTTP Basic header, and leaves them out of the form. An empty ``scope``, ``audience`` or
    ``resource`` is not sent at all. ``echoes.SecretEcho`` hears the secret in any of its shapes here.
    """
    form = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    headers: dict[str, str] = {}
    if auth_method == BASIC:
        credentials = f"{_form_encoded(client_id)}:{_form_encoded(client_secret)}"
        headers["Authorization"] = f"Basic {base64.b64encode(credentials.encode()).decode('ascii')}"
    else:
        form["client_id"] = client_id
        form["client_secret"] = client_secret
    if audience:
        form["audience"] = audience
    if resource:
        form["resource"] = resource
    return TokenRequest(form, headers)


def _form_encoded(value: str) -> str:
    """application/x-www-form-urlencoded, as RFC 6749 appendix B asks: UTF-8, ``%XX``, ``+`` for space."""
    return quote_plus(value, safe="")
