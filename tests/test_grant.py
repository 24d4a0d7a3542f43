"""Unit tests for the token request's form and headers: pure, no servers."""

from __future__ import annotations

import base64
from urllib.parse import unquote_plus, urlencode

import pytest

from httpie_trulioo.echoes import SecretEcho
from httpie_trulioo.grant import client_credentials_request


def test_post_is_the_form_trulioo_documents() -> None:
    grant = client_credentials_request(
        client_id="id", client_secret="s", scope="workflow.studio.api", auth_method="client_secret_post"
    )
    assert grant.form == {
        "grant_type": "client_credentials",
        "scope": "workflow.studio.api",
        "client_id": "id",
        "client_secret": "s",
    }
    assert list(grant.form) == ["grant_type", "scope", "client_id", "client_secret"]
    assert grant.headers == {}


@pytest.mark.parametrize(
    ("client_id", "client_secret", "credentials"),
    [
        ("client", "secret", "client:secret"),
        ("demo-client", "demo-secret:with-colon", "demo-client:demo-secret%3Awith-colon"),
        ("a b", "p+q r/%é", "a+b:p%2Bq+r%2F%25%C3%A9"),
    ],
)
def test_basic_form_encodes_id_and_secret_then_base64s_them(
    client_id: str, client_secret: str, credentials: str
) -> None:
    grant = client_credentials_request(
        client_id=client_id, client_secret=client_secret, scope="s", auth_method="client_secret_basic"
    )
    scheme, _, encoded = grant.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == credentials
    decoded_id, _, decoded_secret = base64.b64decode(encoded).decode().partition(":")
    assert (unquote_plus(decoded_id), unquote_plus(decoded_secret)) == (client_id, client_secret)
    assert grant.form == {"grant_type": "client_credentials", "scope": "s"}


def test_empty_fields_are_not_sent_and_set_ones_are() -> None:
    bare = client_credentials_request(
        client_id="i", client_secret="s", scope="", auth_method="client_secret_basic"
    )
    assert bare.form == {"grant_type": "client_credentials"}
    full = client_credentials_request(
        client_id="i",
        client_secret="s",
        scope="read write",
        auth_method="client_secret_post",
        audience="https://api.example.com/",
        resource="urn:example:api",
    )
    assert full.form["audience"] == "https://api.example.com/"
    assert full.form["resource"] == "urn:example:api"
    assert full.form["scope"] == "read write"


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_every_shape_the_secret_takes_on_the_wire_is_known_to_the_masking(method: str) -> None:
    client_id, secret = "id/with:odd chars", "s3cr:et with space/é~*"
    grant = client_credentials_request(
        client_id=client_id, client_secret=secret, scope="", auth_method=method
    )
    on_the_wire = [secret, urlencode({"client_secret": secret}).partition("=")[2]]
    if method == "client_secret_basic":
        on_the_wire.append(grant.headers["Authorization"].split(" ")[1])
    hidden = SecretEcho(secret)
    for shape in on_the_wire:
        assert hidden.heard_in(f"server says {shape}!"), shape
