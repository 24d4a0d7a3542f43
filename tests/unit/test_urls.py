"""The URL rules, alone: which URLs may receive the secret or a token (no I/O)."""

from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpie_trulioo import APIHostNotAllowed, ConfigurationError, InsecureAPIURL, InsecureTokenURL
from httpie_trulioo.urls import (
    DEFAULT_API_HOSTS,
    DEFAULT_TOKEN_URL,
    Origin,
    _address,
    _strict_parts,
    check_api_url,
    check_token_url,
    default_api_hosts,
    has_userinfo,
    host_allowed,
    is_loopback,
    origin_of,
    parse_api_hosts,
    shown_url,
    without_userinfo,
)

# The grammar the plain string checks implement, written as the regular expressions they replace
# (compiling these cost every call more than the rest of its work): the tests hold the checks to it.
STRICT_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?"
    r"|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<rest>[/?][!\"$-\[\]-~]*)?",  # visible ASCII but for # and backslash
    re.ASCII,
)
# A host whose last label is a number as inet_aton reads one (decimal, octal, 0x hexadecimal) is
# an IPv4 address to URL parsers and resolvers: the grammar takes it only as a dotted quad.
NUMERIC_LABEL = re.compile(r"0[xX][0-9A-Fa-f]*|[0-9]+", re.ASCII)
USERINFO = re.compile(r"(?<=://)[^/?#]*@")


def grammar_parts(url: str) -> tuple[str, str, str | None] | None:
    """The scheme (lower case), host and port of ``url`` as the grammar reads it; None if it does not."""
    match = STRICT_URL.fullmatch(url)
    if match is None:
        return None
    host = match["host"]
    bare = host.removesuffix(".")
    if not host.startswith("[") and NUMERIC_LABEL.fullmatch(bare.rsplit(".", 1)[-1]):
        try:
            ipaddress.IPv4Address(bare)
        except ValueError:
            return None
    return match["scheme"].lower(), host, match["port"]


# Text made mostly of the characters where URL parsers differ, so that near misses are common.
URL_PARTS = st.lists(
    st.sampled_from(
        [
            "https",
            "http",
            "HTTP",
            "h+1",
            "1x",
            "://",
            ":",
            "/",
            "?",
            "#",
            "@",
            "[",
            "]",
            "\\",
            ".",
            "-",
            "..",
            "a",
            "Z",
            "9",
            "::1",
            "127.0.0.1",
            "example.com",
            "8080",
            "99999",
            "123456",
            " ",
            "%20",
            "\x00",
            "\x7f",
            "é",
            "\uff53",
            "x-",
            "-x",
            "_",
            "~",
            "!",
            '"',
            "$",
        ]
    ),
    max_size=12,
).map("".join)


@pytest.mark.parametrize(
    "url",
    [
        "https://auth-api.trulioo.com/connect/token",
        "https://auth-api-primary.dev.trulioo.com/connect/token",
        "HTTPS://Auth-API.trulioo.com:443/connect/token?x=1",
        "http://127.0.0.1:8765/connect/token",
        "http://localhost/connect/token",
        "http://[::1]:8080/connect/token",
        "https://10.0.0.5/token",
        "http://127.0.0.1:1/connect/token",
        "http://127.0.0.1:65535/connect/token",
        "https://[2001:db8::]/connect/token",
        "https://auth-api.trulioo.com/connect/token?next=https://elsewhere.test/",
    ],
)
def test_token_urls_that_are_accepted(url: str) -> None:
    assert check_token_url(url) == url


@pytest.mark.parametrize(
    ("url", "error", "says"),
    [
        ("https://user:pw@auth-api.trulioo.com/connect/token", ConfigurationError, "user name or password"),
        ("https://user@auth-api.trulioo.com/connect/token", ConfigurationError, "user name or password"),
        ("http://127.0.0.1\\@evil.test/", ConfigurationError, "user name or password"),
        ("http://127.0.0.1\\.evil.test/", ConfigurationError, "backslashes"),
        ("https://auth-api.trulioo.com/a\\b", ConfigurationError, "backslashes"),
        ("https://auth-api.trulioo.com/connect/token#frag", ConfigurationError, "fragment"),
        ("https://auth-api.trulioo.com /connect/token", ConfigurationError, "spaces"),
        ("https://auth-api.trulioo.com/connect/token\n", ConfigurationError, "spaces"),
        ("https://auth-api.trulioo.com\x00.evil.test/", ConfigurationError, "spaces"),
        ("https://tr\u00fclioo.com/connect/token", ConfigurationError, "non-ASCII"),
        ("https://auth-api.trulioo.com:99999/connect/token", ConfigurationError, "valid port"),
        ("https://auth-api.trulioo.com:0/connect/token", ConfigurationError, "valid port"),
        ("https://auth-api.trulioo.com:65536/connect/token", ConfigurationError, "valid port"),
        # Characters no host name holds, which some parsers decode or cut at.
        ("https://auth_api.trulioo.com/connect/token", ConfigurationError, "https://"),
        ("https://auth-api%2etrulioo.com/connect/token", ConfigurationError, "https://"),
        # A zone id: ipaddress reads ::1%25lo as loopback, but it names an interface, not a host.
        ("http://[::1%25lo]:8080/connect/token", ConfigurationError, "https://"),
        ("https://[fe80::1%25eth0]/connect/token", ConfigurationError, "https://"),
        ("https://[::1/connect/token", ConfigurationError, "https://"),
        ("https://[1:2:3]/connect/token", ConfigurationError, "IPv6"),
        ("ftp://auth-api.trulioo.com/connect/token", ConfigurationError, "https://"),
        ("auth-api.trulioo.com/connect/token", ConfigurationError, "https://"),
        ("http://auth-api.trulioo.com/connect/token", InsecureTokenURL, "over plain http"),
        ("http://127.0.0.1.evil.test/connect/token", InsecureTokenURL, "over plain http"),
        # Digits and dots that are not a.b.c.d: the resolver reads them as an address, any address.
        ("http://127.1/connect/token", ConfigurationError, "https://"),
        ("https://2130706433/connect/token", ConfigurationError, "https://"),
        ("https://1.2.3/connect/token", ConfigurationError, "https://"),
        ("https://auth.0x7f/connect/token", ConfigurationError, "https://"),
        # With a trailing dot the resolver skips /etc/hosts and asks DNS: not this machine.
        ("http://localhost.:8765/connect/token", InsecureTokenURL, "over plain http"),
        ("http://127.0.0.1.:8765/connect/token", InsecureTokenURL, "over plain http"),
    ],
)
def test_token_urls_that_are_refused(url: str, error: type[Exception], says: str) -> None:
    with pytest.raises(error) as caught:
        check_token_url(url)
    assert says in str(caught.value)
    assert "pw@" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_shown_url_masks_user_info_and_escapes() -> None:
    assert shown_url("https://u:p@host/x\n") == "'https://***@host/x\\n'"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://client:secret@auth-api.trulioo.com/connect/token",
            (
                "TRULIOO_TOKEN_URL holds a user name or password (the part before @); remove it: the "
                "client id and secret go in --auth or TRULIOO_CLIENT_ID and TRULIOO_CLIENT_SECRET."
            ),
        ),
        (
            "https://auth_api.trulioo.com/connect/token",
            (
                "TRULIOO_TOKEN_URL must be a plain https:// URL such as "
                "https://auth-api.trulioo.com/connect/token, with no spaces, backslashes, fragment or "
                "non-ASCII characters; it is 'https://auth_api.trulioo.com/connect/token'."
            ),
        ),
        (
            "https://auth-api.trulioo.com:0/connect/token",
            (
                "TRULIOO_TOKEN_URL must be an https:// URL with a valid port, such as "
                "https://auth-api.trulioo.com/connect/token; it is 'https://auth-api.trulioo.com:0/connect/token'."
            ),
        ),
        (
            "https://[1]/connect/token",
            "TRULIOO_TOKEN_URL has a bad IPv6 address; it is 'https://[1]/connect/token'.",
        ),
        (
            "http://auth-api.trulioo.com/connect/token",
            (
                "refusing to send the client secret over plain http to auth-api.trulioo.com: use an "
                "https:// token URL (plain http is allowed only for 127.0.0.1, ::1 and localhost)."
            ),
        ),
    ],
)
def test_a_refused_token_url_is_one_whole_sentence(url: str, message: str) -> None:
    with pytest.raises((ConfigurationError, InsecureTokenURL)) as caught:
        check_token_url(url)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("url", "found", "masked"),
    [
        ("https://user:pw@host/x", True, "https://***@host/x"),
        ("https://a@b@host/x", True, "https://***@host/x"),
        ("https://@host/", True, "https://***@host/"),
        ("https://XAVIER@host/", True, "https://***@host/"),
        ("://user@host/", True, "://***@host/"),
        ("https://://user@host/", True, "https://://***@host/"),
        ("https://u:p@h/?next=http://h2/", True, "https://***@h/?next=http://h2/"),
        # User info after a later :// (a URL in the query) is found and masked too.
        ("https://h/?next=http://u:p@evil.test/", True, "https://h/?next=http://***@evil.test/"),
        ("https://h/?a=http://u@h2/&b=http://h3/", True, "https://h/?a=http://***@h2/&b=http://h3/"),
        ("https://u:p@h/?next=http://v:q@h2/", True, "https://***@h/?next=http://***@h2/"),
        ("https://host/p@th", False, "https://host/p@th"),
        ("https://host?q=a@b", False, "https://host?q=a@b"),
        ("https://host#a@b", False, "https://host#a@b"),
        ("mailto:someone@example.com", False, "mailto:someone@example.com"),
    ],
)
def test_user_info_is_found_and_masked_wherever_a_url_holds_it(url: str, found: bool, masked: str) -> None:
    assert has_userinfo(url) is found is (USERINFO.search(url) is not None)
    assert without_userinfo(url) == masked == USERINFO.sub("***@", url)


def test_a_long_url_is_cut_short_in_messages() -> None:
    fits = "https://h/" + "a" * 190
    assert shown_url(fits) == repr(fits)
    too_long = fits + "b"
    assert shown_url(too_long) == repr(fits[:199] + "…")
    assert shown_url("https://user:pw@h/" + "a" * 300) == repr(("https://***@h/" + "a" * 300)[:199] + "…")


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://API.trulioo.com/x", ("https", "api.trulioo.com", 443)),
        ("https://api.trulioo.com.:443/x", ("https", "api.trulioo.com.", 443)),
        ("http://127.0.0.1:8765/", ("http", "127.0.0.1", 8765)),
        ("http://[0:0::1]/", ("http", "::1", 80)),
        ("ftp://host/", None),
        ("https://host:bad/", None),
    ],
)
def test_origin_of(url: str, origin: Origin | None) -> None:
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("api.trulioo.com", True),
        ("API.Trulioo.COM.", True),
        ("a.b.trulioo.com", True),
        ("trulioo.com", False),  # *.domain is for subdomains only
        ("eviltrulioo.com", False),
        ("api.trulioo.com.evil.test", False),
        ("localhost", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_default_api_hosts_with_a_loopback_token_url(host: str, allowed: bool) -> None:
    assert host_allowed(host, default_api_hosts("http://127.0.0.1:8765/connect/token")) is allowed


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1"])
def test_loopback_gets_real_trulioo_tokens_only_when_listed(host: str) -> None:
    # Another user's process may listen on a loopback port: a token from Trulioo goes there only
    # when TRULIOO_API_HOSTS says so.
    assert default_api_hosts(DEFAULT_TOKEN_URL) == DEFAULT_API_HOSTS == ("*.trulioo.com",)
    assert not host_allowed(host, default_api_hosts(DEFAULT_TOKEN_URL))
    assert host_allowed(host, parse_api_hosts("*.trulioo.com,loopback", "TRULIOO_API_HOSTS"))


@pytest.mark.parametrize("host", ["localhost.", "127.0.0.1.", "LOCALHOST.", "localhost.localdomain"])
def test_names_the_resolver_may_send_to_dns_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["[localhost.", "[127.0.0.1.", "x::1]", "[::1"])
def test_a_host_with_one_bracket_is_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_wildcards_match_names_never_addresses() -> None:
    assert not host_allowed("fe80::1%x.trulioo.com", DEFAULT_API_HOSTS)
    with pytest.raises(APIHostNotAllowed):
        check_api_url("https://[fe80::1%25x.trulioo.com]/x", DEFAULT_API_HOSTS)
    # An address that happens to end like a pattern is still an address.
    assert not host_allowed("127.0.0.1", ("*.0.0.1",))
    assert not host_allowed("10.1.2.3", ("*.2.3",))
    assert host_allowed("a.b.example", ("*.b.example",))


@pytest.mark.parametrize("pattern", ["*.0.0.1", "*.2.3", "1.2.3", "2130706433", "*.0x7f"])
def test_api_hosts_that_only_an_address_could_match_are_refused(pattern: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_api_hosts(pattern, "TRULIOO_API_HOSTS")
    assert str(caught.value) == (
        "TRULIOO_API_HOSTS must list host names, *.domain patterns or 'loopback', separated by commas; "
        f"{pattern!r} is not one."
    )


@pytest.mark.parametrize("host", ["127.1", "2130706433", "1.2.3", "0x7f.1", "api.trulioo.0x7f"])
def test_an_api_host_of_digits_and_dots_is_an_ipv4_address_or_refused(host: str) -> None:
    with pytest.raises(APIHostNotAllowed) as caught:
        check_api_url(f"https://{host}/x", (host, "loopback", "*.trulioo.com"))
    assert str(caught.value) == (
        f"refusing to send the Trulioo token to {host}: a number that is not an IPv4 address as "
        "written (a.b.c.d), which the resolver could read as any address."
    )
    assert check_api_url("https://127.0.0.1/x", ("loopback",)) == ("https", "127.0.0.1", 443)


def test_api_urls_with_user_info_are_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_api_url("https://alice:hunter2@api.trulioo.com/x", DEFAULT_API_HOSTS)
    assert str(caught.value) == (
        "the URL holds a user name or password (the part before @); with --auth-type=trulioo the "
        "credentials go in --auth: remove them from the URL."
    )


def test_api_hosts_patterns() -> None:
    hosts = parse_api_hosts(" api.example.com, *.gw.example.net ,[::1], 10.1.2.3 ", "TRULIOO_API_HOSTS")
    assert hosts == ("api.example.com", "*.gw.example.net", "::1", "10.1.2.3")
    assert host_allowed("api.example.com", hosts)
    assert host_allowed("eu.gw.example.net", hosts)
    assert host_allowed("0:0::1", hosts)
    assert not host_allowed("localhost", hosts)
    assert not host_allowed("other.example.com", hosts)
    assert parse_api_hosts(["loopback"], "api_hosts") == ("loopback",)


@pytest.mark.parametrize(
    "bad",
    [
        "*",
        "https://api.example.com",
        "api.example.com:443",
        "a*.example.com",
        "",
        " , ",
        "[api.example.com",
        "api.example.com]",
        "api_x.example.com",
        "*.api%2eexample.com",
    ],
)
def test_bad_api_hosts_are_one_line(bad: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^TRULIOO_API_HOSTS must list host names"):
        parse_api_hosts(bad, "TRULIOO_API_HOSTS")


def test_a_bad_api_host_is_named_with_its_source() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_api_hosts("api.example.com, api example.com", "TRULIOO_API_HOSTS")
    assert str(caught.value) == (
        "TRULIOO_API_HOSTS must list host names, *.domain patterns or 'loopback', separated by commas; "
        "'api example.com' is not one."
    )
    with pytest.raises(ConfigurationError) as caught:
        parse_api_hosts(["api.example.com", 443], "the profile's api_hosts")
    assert str(caught.value) == (
        "the profile's api_hosts must list host names, *.domain patterns or 'loopback', separated by "
        "commas; '443' is not one."
    )


def test_check_api_url() -> None:
    assert check_api_url("https://api.trulioo.com/x", DEFAULT_API_HOSTS) == ("https", "api.trulioo.com", 443)
    local = default_api_hosts("http://localhost:8765/connect/token")
    assert check_api_url("http://localhost:8765/x", local) == ("http", "localhost", 8765)
    with pytest.raises(InsecureAPIURL, match=r"over plain http to api\.trulioo\.com"):
        check_api_url("http://api.trulioo.com/x", DEFAULT_API_HOSTS)
    with pytest.raises(InsecureAPIURL, match=r"over plain http to localhost\."):
        check_api_url("http://localhost.:8765/x", local)
    with pytest.raises(APIHostNotAllowed, match=r"to example\.com: it is not an allowed API host"):
        check_api_url("https://example.com/x", DEFAULT_API_HOSTS)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "ftp://files.example.com/x",
            "refusing to send the Trulioo token to 'ftp://files.example.com/x': not an http(s) URL.",
        ),
        (
            "http://api.trulioo.com/x",
            (
                "refusing to send the Trulioo token over plain http to api.trulioo.com: bearer tokens go "
                "only over https (plain http only to 127.0.0.1, ::1 and localhost); use https://."
            ),
        ),
        (
            "https://example.com/x",
            (
                "refusing to send the Trulioo token to example.com: it is not an allowed API host; "
                "TRULIOO_API_HOSTS (or the profile's api_hosts) lists them, now: *.trulioo.com, loopback."
            ),
        ),
    ],
)
def test_a_refused_api_url_is_one_whole_sentence(url: str, message: str) -> None:
    with pytest.raises((InsecureAPIURL, APIHostNotAllowed)) as caught:
        check_api_url(url, ("*.trulioo.com", "loopback"))
    assert str(caught.value) == message


@given(URL_PARTS)
def test_the_strict_url_check_reads_urls_as_its_grammar_does(url: str) -> None:
    assert _strict_parts(url) == grammar_parts(url)


@given(URL_PARTS)
def test_user_info_is_found_and_masked_as_its_grammar_says(url: str) -> None:
    assert has_userinfo(url) == (USERINFO.search(url) is not None)
    assert without_userinfo(url) == USERINFO.sub("***@", url)


@pytest.mark.parametrize(
    "url",
    [
        "https://[::1]:443/x",
        "https://a.b.:8443/token",
        "https://host:/x",
        "https://host:99999/x",
        "https://host:123456/x",
        "https://-a.com/x",
        "https://a-.com/x",
        "https://a..b/x",
        "https://[1::2]x/",
        "https://[]/x",
        "https://[::1/x",
        "https://h/#fragment",
        "https://h/a\\b",
        "https://h?q=1",
        "https://h",
        "https://h/",
        "https://user@h/",
        "1https://h/",
        "https//h/",
        "https://h\u0661/x",  # an Arabic-Indic digit: a digit to str.isdigit, not to the grammar
        "https://h:\u0661\u0662/x",
        "https://xn--bcher-kva.example/x",
        "https://h/x y",
        "https://h/a?next=https://x/",
        "https://EXAMPLE.com/",
        "https://[1]/",
        "https://[g::1]/",
        "https://[::1g]/",
        "https://[fe80::1%25eth0]/",
        "https://a_b.example.com/",
        "https://a%2eb.example.com/",
        "https://8080",  # a number for a host: an IPv4 address, not a dotted quad
        "https://127.0.0.1./x",
        "https://1.2.3/x",
        "https://a.0x7f/x",
    ],
)
def test_near_misses_are_read_as_the_grammar_reads_them(url: str) -> None:
    assert _strict_parts(url) == grammar_parts(url)


@given(st.text(alphabet="0123456789abcdefABCDEFxyz.:%[]-", max_size=45))
def test_addresses_are_read_as_ipaddress_reads_them(text: str) -> None:
    """The shortcut that skips ipaddress for plain host names never misses an address."""
    try:
        expected: object = ipaddress.ip_address(text)
    except ValueError:
        expected = None
    assert _address(text) == expected
