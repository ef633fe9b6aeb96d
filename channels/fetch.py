"""The one safe way to fetch what content points at (article images, feed items, link checks).

A government network must not be made to fetch its own insides (SSRF), so every content-driven
fetch goes through `SafeFetcher`:
- http(s) only, parsed as a browser would (channels.urls); never a local file;
- the host is resolved once; any loopback, private, link-local, multicast, reserved or unspecified
  address refuses the URL (IPv4-mapped, 6to4 and Teredo IPv6 are judged by the IPv4 they carry);
- the connection goes to the address that was checked (the URL's host is replaced by the IP, the
  Host header and TLS SNI keep the name), so a DNS answer that changes in between is never used;
- redirects are followed by hand, each hop checked the same way, at most `max_redirects`;
- the body is capped while it streams; callers judge the type from the bytes (`sniff_image`).
Tests admit loopback (`allow_loopback`) to reach their local servers; the default refuses it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

import httpx

from channels import urls

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)


class FetchError(Exception):
    """A content fetch that did not get an answer. `url` has no query (safe to store and show)."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(f"{message}: {urls.strip_query(url)}")
        self.url = urls.strip_query(url)


class UnsafeUrl(FetchError):
    """Refused before any connection: not http(s), a non-public address, or a host not allowed."""


class NameNotResolved(FetchError):
    """The host name does not resolve (DNS failure)."""


class Unreachable(FetchError):
    """Connection refused, timed out or dropped: the site may be briefly down."""


class TooLarge(FetchError):
    """The answer exceeds the size cap."""


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 3
    timeout_seconds: float = 10.0
    # Hosts (and their subdomains) this fetch may reach; empty: any public host.
    allowed_hosts: tuple[str, ...] = ()
    # Test-only: admit loopback addresses so tests reach their local servers.
    allow_loopback: bool = False


@dataclass(frozen=True)
class Fetched:
    url: str  # the final URL, after redirects
    status: int
    headers: httpx.Headers
    body: bytes = b""
    redirects: tuple[str, ...] = field(default=())  # every URL redirected to, in order


def refusal(address: Address, *, allow_loopback: bool = False) -> str | None:
    """Why this address must not be fetched from, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is not None:
            return refusal(embedded, allow_loopback=allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else "loopback"
    for kind in ("unspecified", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "not public"


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class SafeFetcher:
    """Owns its own httpx client (plain httpcore transport: it honours the `sni_hostname`
    extension that pinning the address needs, which the shared aiohttp transport does not)."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        resolver: Resolver = system_resolver,
        verify: ssl.SSLContext | bool = True,  # tests pass a context that trusts their own CA
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._resolve = resolver
        # No keep-alive: connections are pooled by address, and one made with another name's SNI
        # must never carry this request. trust_env=False: no proxy from the environment.
        transport = httpx.AsyncHTTPTransport(
            retries=0, verify=verify, limits=httpx.Limits(max_keepalive_connections=0)
        )
        self._client = httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)

    async def get(
        self, url: str, *, headers: dict[str, str] | None = None, policy: FetchPolicy | None = None
    ) -> Fetched:
        return await self._follow("GET", url, headers or {}, policy or self.policy)

    async def head(self, url: str, *, policy: FetchPolicy | None = None) -> Fetched:
        return await self._follow("HEAD", url, {}, policy or self.policy)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _follow(self, method: str, url: str, headers: dict[str, str], policy: FetchPolicy) -> Fetched:
        redirects: list[str] = []
        current = url
        while True:
            answer = await self._once(method, current, headers, policy)
            location = answer.headers.get("location")
            if answer.status not in REDIRECT_STATUSES or not location:
                return replace(answer, url=current, redirects=tuple(redirects))
            if len(redirects) >= policy.max_redirects:
                raise UnsafeUrl(f"more than {policy.max_redirects} redirects", current)
            try:
                current = urls.web_url(location, base=current).href
            except urls.BadUrl as exc:
                raise UnsafeUrl("redirect to a non-http(s) location", current) from exc
            redirects.append(current)

    async def _once(self, method: str, url: str, headers: dict[str, str], policy: FetchPolicy) -> Fetched:
        target, address = await self._checked(url, policy)
        pinned = _pinned_url(target, address)
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = self._client.build_request(
            method,
            pinned,
            headers={**headers, "Host": target.origin_host},
            extensions={**extensions, "timeout": _timeouts(policy.timeout_seconds)},
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise Unreachable(f"timed out ({type(exc).__name__})", url) from exc
        except (httpx.HTTPError, OSError) as exc:
            raise Unreachable(f"no answer ({type(exc).__name__})", url) from exc
        try:
            body = b"" if method == "HEAD" else await _capped(response, policy.max_bytes, url)
        finally:
            await response.aclose()
        return Fetched(url, response.status_code, response.headers, body)

    async def _checked(self, url: str, policy: FetchPolicy) -> tuple[urls.WebUrl, Address]:
        """The URL and the one address it may be fetched from."""
        try:
            target = urls.web_url(url)
        except urls.BadUrl as exc:
            raise UnsafeUrl("not an http(s) URL", url) from exc
        if policy.allowed_hosts and not urls.on_any_domain(target.host, policy.allowed_hosts):
            raise UnsafeUrl(f"host {target.host} is not among the allowed hosts", url)
        if target.ip is not None:
            addresses = [target.ip]
        else:
            try:
                found = await self._resolve(target.host, target.port)
                addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
            except OSError as exc:
                raise NameNotResolved(f"host {target.host} does not resolve", url) from exc
            if not addresses:
                raise NameNotResolved(f"host {target.host} does not resolve", url)
        for address in addresses:
            reason = refusal(address, allow_loopback=policy.allow_loopback)
            if reason:
                raise UnsafeUrl(f"host {target.host} is a {reason} address ({address})", url)
        return target, addresses[0]

    def __repr__(self) -> str:
        return f"SafeFetcher({self.policy})"


def _pinned_url(target: urls.WebUrl, address: Address) -> str:
    host = f"[{address}]" if address.version == 6 else str(address)
    return f"{target.scheme}://{host}:{target.port}{target.path_and_query}"


def _timeouts(seconds: float) -> dict[str, float]:
    return {"connect": min(5.0, seconds), "read": seconds, "write": seconds, "pool": seconds}


async def _capped(response: httpx.Response, max_bytes: int, url: str) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"answer of {declared} bytes exceeds {max_bytes}", url)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(f"answer exceeds {max_bytes} bytes", url)
            chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise Unreachable(f"answer cut off ({type(exc).__name__})", url) from exc
    return b"".join(chunks)


def sniff_image(data: bytes) -> str | None:
    """The image type its bytes declare (magic numbers), whatever the server said."""
    for magic, content_type in IMAGE_MAGIC:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class BadAnswer(FetchError):
    """The site answered, but not with what was asked for (an error status, not an image)."""

    def __init__(self, message: str, url: str, status: int) -> None:
        super().__init__(message, url)
        self.status = status


def image_policy(base: FetchPolicy, *, hosts: tuple[str, ...], link: str, max_bytes: int) -> FetchPolicy:
    """Article images come from the account's image hosts, by default the article's own portal
    domain (and its subdomains), capped at the platform's limit."""
    site = urls.site_of(link)
    return replace(base, max_bytes=max_bytes, allowed_hosts=hosts or ((site,) if site else ()))


async def fetch_image(
    fetcher: SafeFetcher, url: str, *, policy: FetchPolicy, types: frozenset[str]
) -> tuple[str, bytes, str]:
    """An image as (file name, bytes, content type judged from the bytes), or a FetchError."""
    answer = await fetcher.get(url, policy=policy)
    if answer.status != 200:
        raise BadAnswer(f"image answered HTTP {answer.status}", url, answer.status)
    content_type = sniff_image(answer.body)
    if content_type not in types:
        wanted = "/".join(sorted(types))
        raise BadAnswer(f"not a {wanted} image ({content_type or 'unknown bytes'})", url, 200)
    name = urls.web_url(answer.url).path_and_query.split("?", 1)[0].rsplit("/", 1)[-1]
    return name or "image", answer.body, content_type
