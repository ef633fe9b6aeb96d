"""The one place a URL's host is judged: a WHATWG URL parser (ada-url), as browsers parse.

`urllib.parse` and browsers disagree on inputs such as `https://evil.example\\@www.test.gov.cn/`
(urllib: host www.test.gov.cn; a browser goes to evil.example), `HTTP://…` or `http:/etc/hostname`.
Every host rule (off-site links, Weibo's safe domain, feed and evidence URLs, the outbound
fetcher) reads hosts through here, so they all see what a browser would. Pure: stdlib and ada-url.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ada_url import URL

WEB_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True)
class WebUrl:
    """An http(s) URL as a browser understands it."""

    href: str
    scheme: str  # "http" | "https"
    host: str  # lower case, punycode, no trailing dot; IPv6 without brackets
    port: int
    path_and_query: str

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """The host as an address when it is one (ada already read decimal/octal/hex/short IPv4)."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    @property
    def origin_host(self) -> str:
        """The Host header: the host, bracketed when IPv6, with a non-default port."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    def without_query(self) -> str:
        """The URL for stored and shown texts: queries can carry tokens."""
        return f"{self.scheme}://{self.origin_host}{self.path_and_query.split('?', 1)[0]}"


class BadUrl(ValueError):
    """Not an absolute http(s) URL with a host."""


def parse(value: str, base: str | None = None) -> URL | None:
    """The WHATWG parse of `value` (against `base`), or None when it does not parse."""
    try:
        return URL(value.strip(), base=base) if base else URL(value.strip())
    except ValueError:
        return None


def web_url(value: str, base: str | None = None) -> WebUrl:
    """An absolute http(s) URL, or BadUrl. Never a local file, whatever the spelling."""
    url = parse(value, base)
    if url is None:
        raise BadUrl(f"not a URL: {value[:200]!r}")
    scheme = url.protocol.rstrip(":")
    host = hostname(url)
    if scheme not in WEB_SCHEMES or not host:
        raise BadUrl(f"not an http(s) URL with a host: {value[:200]!r}")
    port = int(url.port) if url.port else (443 if scheme == "https" else 80)
    return WebUrl(url.href, scheme, host, port, (url.pathname or "/") + url.search)


def hostname(url: URL) -> str:
    host = (url.hostname or "").lower().rstrip(".")
    return host[1:-1] if host.startswith("[") else host


def host_of(value: str, base: str | None = None) -> str:
    """The host a browser would go to ('' for relative links without a base, or garbage)."""
    url = parse(value, base)
    return hostname(url) if url is not None else ""


def scheme_of(value: str) -> str:
    url = parse(value)
    return url.protocol.rstrip(":") if url is not None else ""


def on_domain(host: str, domain: str) -> bool:
    """`host` is `domain` or one of its subdomains."""
    domain = domain.lower().strip().strip(".")
    host = host.lower().rstrip(".")
    return bool(domain) and (host == domain or host.endswith("." + domain))


def on_any_domain(host: str, domains: frozenset[str] | tuple[str, ...]) -> bool:
    return any(on_domain(host, domain) for domain in domains)


def site_of(value: str) -> str:
    """A portal's own domain: its host without a leading `www.` (subdomains belong to it)."""
    return host_of(value).removeprefix("www.")


def resolve(value: str, base: str) -> str:
    """`value` made absolute against `base` as a browser would; unparseable values pass unchanged
    (the safe fetcher refuses them later)."""
    url = parse(value, base or None)
    return url.href if url is not None else value


def strip_query(value: str) -> str:
    """The URL without query and fragment, for stored and shown texts; garbage passes as is."""
    try:
        return web_url(value).without_query()
    except BadUrl:
        return value.split("?", 1)[0].split("#", 1)[0]
