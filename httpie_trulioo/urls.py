"""Which URLs may receive the client secret or a token: pure checks, no I/O.

The secret goes only to the token URL, the token only to allowed API hosts, and both only over
TLS except to this machine (RFC 6750 §5.3). A URL is read strictly, so that no part of it can
mean one host here and another to the HTTP stack that sends the request.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_TOKEN_URL = "https://auth-api.trulioo.com/connect/token"  # noqa: S105 - a URL, not a secret
# Where a Trulioo token may go unless TRULIOO_API_HOSTS says otherwise: Trulioo's own hosts, and
# this machine only when the token came from this machine too (a local fake, a test server):
# another user's process on a loopback port must not receive real Trulioo tokens.
DEFAULT_API_HOSTS = ("*.trulioo.com",)
LOOPBACK = "loopback"  # an api_hosts entry meaning localhost, 127.0.0.0/8 and ::1

# Scheme, host and port: what a credential is bound to (RFC 6454).
Origin = tuple[str, str, int]

_DEFAULT_PORTS = {"http": 80, "https": 443}
# The checks below read URLs and host names with plain string tests, not regular expressions:
# every call checks a URL, and compiling a pattern would cost it more than the rest of its work.
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_LABEL_CHARACTERS = _LETTERS | _DIGITS | {"-"}
_SCHEME_CHARACTERS = _LETTERS | _DIGITS | {"+", ".", "-"}
_IPV4_CHARACTERS = _DIGITS | {"."}
_HEX_DIGITS = _DIGITS | frozenset("abcdefABCDEF")
_IPV6_CHARACTERS = _DIGITS | frozenset("abcdefABCDEF:.")
# The path and query may hold visible ASCII but # (a fragment) and backslash (read as / by some).
_PATH_CHARACTERS = frozenset(map(chr, range(0x21, 0x7F))) - {"#", "\\"}
# User info in a URL: text after :// and before @ that holds no / ? or #; masked in messages.
_USERINFO = r"(?<=://)[^/?#]*@"


def origin_of(url: str) -> Origin | None:
    """The origin of an http(s) URL that requests prepared; None if it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, _normal_ip(parts.hostname.lower()), port or _DEFAULT_PORTS[scheme]


def same_endpoint(url: str) -> str:
    """One spelling of a checked token URL, to find what was kept for it after a cosmetic edit.

    The scheme and host in lower case, no default port, no trailing slash: ``HTTPS://Auth.Example:443/t/``
    and ``https://auth.example/t`` are one endpoint.
    """
    origin = origin_of(url)
    if origin is None:
        return url
    scheme, host, port = origin
    rest = url.partition("://")[2]
    slash = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    path, query_mark, query = rest[slash:].partition("?")
    shown_host = f"[{host}]" if ":" in host else host
    shown_port = "" if port == _DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{shown_host}{shown_port}{path.rstrip('/')}{query_mark}{query}"


def check_token_url(url: str, where: str = "TRULIOO_TOKEN_URL") -> str:
    """Return ``url`` if the secret may be sent to it: https anywhere, plain http only to loopback.

    ``where`` names what set it, for the messages: a variable, or a profile's file and line.

    The URL is read as requests and urllib3 will read it: a scheme, a host name or bracketed IPv6
    address, an optional port, then a path and query of visible ASCII. Anything else (user info,
    a backslash, a fragment, spaces, control or non-ASCII characters) is refused rather than
    guessed at, because parsers disagree on exactly those.
    """
    if has_userinfo(url):
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(
            f"{where} holds a user name or password (the part before @); remove it: the "
            "client id and secret go in --auth or TRULIOO_CLIENT_ID and TRULIOO_CLIENT_SECRET."
        )
    parts = _strict_parts(url)
    if parts is None:
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(
            f"{where} must be a plain https:// URL such as {DEFAULT_TOKEN_URL}, with no "
            f"spaces, backslashes, fragment or non-ASCII characters; it is {shown_url(url)}."
        )
    scheme, host, port = parts
    if scheme not in _DEFAULT_PORTS or (port is not None and not 0 < int(port) < 65536):
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(
            f"{where} must be an https:// URL with a valid port, such as {DEFAULT_TOKEN_URL}; "
            f"it is {shown_url(url)}."
        )
    if host.startswith("[") and not _is_ip(host[1:-1]):
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(f"{where} has a bad IPv6 address; it is {shown_url(url)}.")
    if scheme == "http" and not is_loopback(host):
        from .errors import InsecureTokenURL  # noqa: PLC0415 - loaded only when raised

        raise InsecureTokenURL(
            f"refusing to send the client secret over plain http to {host}: use an https:// token "
            "URL (plain http is allowed only for 127.0.0.1, ::1 and localhost)."
        )
    return url


def _strict_parts(url: str) -> tuple[str, str, str | None] | None:
    """The lower-case scheme, the host and the port of a URL of the strict form; None if it is not."""
    scheme, separator, after = url.partition("://")
    if not (separator and scheme and scheme[0] in _LETTERS and _SCHEME_CHARACTERS.issuperset(scheme)):
        return None
    end = len(after)
    for mark in "/?":
        found = after.find(mark)
        if 0 <= found < end:
            end = found
    authority, rest = after[:end], after[end + 1 :]
    if not _PATH_CHARACTERS.issuperset(rest):
        return None
    if authority.startswith("["):
        closing = authority.find("]") + 1
        host, port_part = authority[:closing], authority[closing:]
        if closing < 3 or not _IPV6_CHARACTERS.issuperset(host[1:-1]):
            return None
    else:
        colon = authority.find(":")
        host, port_part = (authority, "") if colon < 0 else (authority[:colon], authority[colon:])
        bare = host.removesuffix(".")
        if not (is_dns_name(bare) or _is_ipv4(bare)):
            return None
    port = None
    if port_part:
        port = port_part[1:]
        if not (port_part[0] == ":" and 1 <= len(port) <= 5 and _DIGITS.issuperset(port)):
            return None
    return scheme.lower(), host, port


def is_dns_name(name: str) -> bool:
    """Tell whether ``name`` is a host name of ASCII letters, digits and inner hyphens, in dotted labels.

    Its last label is not a number: a URL parser (WHATWG) and the system resolver (inet_aton)
    read ``127.0.0.1``, ``1.2.3``, ``2130706433`` or ``0x7f.1`` as an IPv4 address, never a name.
    """
    labels = name.split(".")
    return not _is_number(labels[-1]) and all(
        label and label[0] != "-" and label[-1] != "-" and _LABEL_CHARACTERS.issuperset(label)
        for label in labels
    )


def _is_number(label: str) -> bool:
    """Tell whether a label is a number as inet_aton reads one: decimal, octal, or 0x hexadecimal."""
    digits = label[2:] if label[:2].lower() == "0x" else label
    allowed = _HEX_DIGITS if digits is not label else _DIGITS
    return bool(label) and allowed.issuperset(digits)


def has_userinfo(url: str) -> bool:
    """Tell whether ``url`` holds user info: an @ after a ``://`` and before the next / ? or #."""
    start = url.find("://")
    while start >= 0:
        for character in url[start + 3 :]:
            if character in "/?#":
                break
            if character == "@":
                return True
        start = url.find("://", start + 3)
    return False


def default_api_hosts(token_url: str) -> tuple[str, ...]:
    """Trulioo's hosts, and loopback too when the token URL is on loopback."""
    origin = origin_of(token_url)
    local = origin is not None and is_loopback(origin[1])
    return (*DEFAULT_API_HOSTS, LOOPBACK) if local else DEFAULT_API_HOSTS


def check_api_url(url: str, api_hosts: Iterable[str]) -> Origin:
    """The origin of ``url`` if a token may be sent there; else the error that says why not."""
    if has_userinfo(url):
        from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

        raise ConfigurationError(
            "the URL holds a user name or password (the part before @); with --auth-type=trulioo "
            "the credentials go in --auth: remove them from the URL."
        )
    origin = origin_of(url)
    if origin is None:
        from .errors import InsecureAPIURL  # noqa: PLC0415 - loaded only when raised

        raise InsecureAPIURL(f"refusing to send the Trulioo token to {shown_url(url)}: not an http(s) URL.")
    scheme, host, _ = origin
    if not (_is_ip(host) or is_dns_name(host.removesuffix("."))) and _is_number(host.rsplit(".", 1)[-1]):
        from .errors import APIHostNotAllowed  # noqa: PLC0415 - loaded only when raised

        raise APIHostNotAllowed(
            f"refusing to send the Trulioo token to {host}: a number that is not an IPv4 address as "
            "written (a.b.c.d), which the resolver could read as any address."
        )
    if scheme == "http" and not is_loopback(host):
        from .errors import InsecureAPIURL  # noqa: PLC0415 - loaded only when raised

        raise InsecureAPIURL(
            f"refusing to send the Trulioo token over plain http to {host}: bearer tokens go "
            "only over https (plain http only to 127.0.0.1, ::1 and localhost); use https://."
        )
    if not host_allowed(host, api_hosts):
        from .errors import APIHostNotAllowed  # noqa: PLC0415 - loaded only when raised

        raise APIHostNotAllowed(
            f"refusing to send the Trulioo token to {host}: it is not an allowed API host; "
            f"TRULIOO_API_HOSTS (or the profile's api_hosts) lists them, now: {', '.join(api_hosts)}."
        )
    return origin


def host_allowed(host: str, api_hosts: Iterable[str]) -> bool:
    """Tell whether ``host`` matches an entry: a name, ``*.domain`` (subdomains only), or ``loopback``.

    A wildcard matches DNS names only, never an address (``[fe80::1%25x.trulioo.com]`` is one).
    """
    name = _normal_host(host)
    is_name = is_dns_name(name)
    for pattern in api_hosts:
        if pattern == LOOPBACK:
            if is_loopback(host):
                return True
        elif pattern.startswith("*."):
            if is_name and name.endswith(pattern[1:]) and len(name) > len(pattern) - 1:
                return True
        elif name == pattern:
            return True
    return False


def parse_api_hosts(value: str | Iterable[object], source: str) -> tuple[str, ...]:
    """Host patterns from a comma-separated string or a list; one line naming ``source`` if bad."""
    items = value.split(",") if isinstance(value, str) else list(value)
    patterns = []
    for item in items:
        pattern = _normal_host(item.strip()) if isinstance(item, str) else ""
        if not (pattern == LOOPBACK or _is_ip(pattern) or is_dns_name(pattern.removeprefix("*."))):
            from .errors import ConfigurationError  # noqa: PLC0415 - loaded only when raised

            raise ConfigurationError(
                f"{source} must list host names, *.domain patterns or 'loopback', separated by "
                f"commas; {str(item).strip()!r} is not one."
            )
        patterns.append(pattern)
    return tuple(patterns)


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` names this machine: localhost, 127.0.0.0/8 or ::1, exactly as written.

    ``localhost.`` and ``127.0.0.1.`` are not: the system resolver does not find a name with a
    trailing dot in /etc/hosts and asks DNS, which may answer with any address.
    """
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost":
        return True
    address = _address(host)
    return address is not None and address.is_loopback


def shown_url(url: str) -> str:
    """``url`` fit to quote in a message: user info masked, control characters escaped, cut short."""
    masked = without_userinfo(url)
    return repr(masked if len(masked) <= 200 else masked[:199] + "…")


def without_userinfo(url: str) -> str:
    """``url`` with any user name and password replaced by ``***``."""
    return re.sub(_USERINFO, "***@", url)


def _normal_host(host: str) -> str:
    """One spelling per host for matching: lower case, no trailing dot or brackets, IPs compressed."""
    host = host.lower().removesuffix(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return _normal_ip(host)


def _normal_ip(host: str) -> str:
    address = _address(host)
    return host if address is None else address.compressed


def _is_ip(text: str) -> bool:
    return _address(text) is not None


def _is_ipv4(text: str) -> bool:
    return isinstance(_address(text), ipaddress.IPv4Address)


@functools.lru_cache(maxsize=256)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``text`` read as an IP address, or None; remembered, since one call reads the same host often."""
    if ":" not in text and not _IPV4_CHARACTERS.issuperset(text):
        return None  # a host name, plainly: ipaddress would raise twice to say so
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
