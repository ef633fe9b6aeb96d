"""The safe outbound fetcher (issue 12 finding 3) and the address-form parser behind it."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from channels import fetch, urls
from channels.fetch import FetchPolicy, SafeFetcher
from syndicator.background_server import BackgroundServer

NON_PUBLIC_V4 = [
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "0.0.0.0/8",
    "100.64.0.0/10", "224.0.0.0/4", "240.0.0.0/4",
]  # fmt: skip


def _in(network: str) -> st.SearchStrategy[ipaddress.IPv4Address]:
    net = ipaddress.ip_network(network)
    return st.integers(int(net.network_address), int(net.broadcast_address)).map(ipaddress.IPv4Address)


def _spellings(address: ipaddress.IPv4Address) -> list[str]:
    """Every way a browser accepts to write this IPv4 address (WHATWG IPv4 parser)."""
    n = int(address)
    a, b, c, d = address.packed
    return [
        str(address),
        str(n),  # decimal
        hex(n),  # hexadecimal
        "0" + oct(n)[2:],  # octal
        ".".join(f"0{part:o}" for part in (a, b, c, d)),  # dotted octal
        ".".join(hex(part) for part in (a, b, c, d)),  # dotted hex
        f"{a}.{b}.{(c << 8) | d}",  # short forms
        f"{a}.{(b << 16) | (c << 8) | d}",
        f"[::ffff:{address}]",  # IPv4-mapped IPv6
        f"[::ffff:{(a << 8) | b:x}:{(c << 8) | d:x}]",
    ]


@settings(deadline=None)  # no timing assertions: the machine is shared
@given(st.one_of(*(_in(network) for network in NON_PUBLIC_V4)))
def test_every_spelling_of_a_non_public_ipv4_address_is_refused(address: ipaddress.IPv4Address) -> None:
    for spelling in _spellings(address):
        parsed = urls.web_url(f"http://{spelling}/x.png").ip
        assert parsed is not None, spelling
        assert fetch.refusal(parsed) is not None, spelling


@settings(deadline=None)
@given(_in("8.0.0.0/8"))
def test_public_addresses_pass_in_every_spelling(address: ipaddress.IPv4Address) -> None:
    for spelling in _spellings(address):
        parsed = urls.web_url(f"http://{spelling}/").ip
        assert parsed is not None and fetch.refusal(parsed) is None, spelling


@pytest.mark.parametrize(
    "address",
    ["::1", "::", "fe80::1", "fc00::1", "ff02::1", "2002:7f00:1::", "::ffff:10.0.0.1", "64:ff9b::a00:1"],
)
def test_non_public_ipv6_addresses_are_refused(address: str) -> None:
    assert fetch.refusal(ipaddress.ip_address(address)) is not None


def test_loopback_is_admitted_only_with_the_test_allowance() -> None:
    loopback = ipaddress.ip_address("127.0.0.1")
    assert fetch.refusal(loopback) == "loopback"
    assert fetch.refusal(loopback, allow_loopback=True) is None
    assert fetch.refusal(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) == "private"
    assert FetchPolicy().allow_loopback is False


@pytest.mark.parametrize(
    "value",
    ["file:///etc/hostname", "/etc/hostname", "etc/hostname", "ftp://example.gov.cn/a", "gopher://x/"],
)
def test_only_absolute_http_urls_are_fetchable(value: str) -> None:
    with pytest.raises(urls.BadUrl):
        urls.web_url(value)


def _site(seen: list[Request]) -> FastAPI:
    app = FastAPI()

    @app.get("/ok.png")
    async def ok(request: Request) -> Response:
        seen.append(request)
        return Response(b"\x89PNG\r\n\x1a\n" + b"\0" * 100, media_type="text/plain")

    @app.get("/to")
    async def to(target: str) -> RedirectResponse:
        return RedirectResponse(target, status_code=302)

    @app.get("/loop")
    async def loop() -> RedirectResponse:
        return RedirectResponse("/loop", status_code=302)

    @app.get("/endless")
    async def endless() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(1024):
                yield b"<html>" + b"x" * 65_536

        return StreamingResponse(body(), media_type="text/html")

    return app


@pytest.fixture
def site() -> Iterator[tuple[str, list[Request]]]:
    seen: list[Request] = []
    with BackgroundServer(_site(seen)) as server:
        yield server.url, seen


@pytest.fixture
async def fetcher() -> AsyncIterator[SafeFetcher]:
    client = SafeFetcher(FetchPolicy(allow_loopback=True, max_bytes=1024 * 1024))
    yield client
    await client.aclose()


async def test_the_default_policy_refuses_a_loopback_server(site: tuple[str, list[Request]]) -> None:
    url, seen = site
    default = SafeFetcher()
    try:
        with pytest.raises(fetch.UnsafeUrl, match="loopback"):
            await default.get(f"{url}/ok.png")
    finally:
        await default.aclose()
    assert seen == []


async def test_the_test_allowance_reaches_it_and_the_type_comes_from_the_bytes(fetcher, site) -> None:
    url, _ = site
    name, data, content_type = await fetch.fetch_image(
        fetcher, f"{url}/ok.png", policy=fetcher.policy, types=frozenset({"image/png"})
    )
    assert (name, content_type) == ("ok.png", "image/png")  # the server said text/plain


async def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(site) -> None:
    url, seen = site
    port = url.rsplit(":", 1)[1]
    lookups: list[str] = []

    async def resolver(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]  # the system resolver does not know this name: no second lookup happens

    pinned = SafeFetcher(FetchPolicy(allow_loopback=True), resolver=resolver)
    try:
        answer = await pinned.get(f"http://portal.example.gov.cn:{port}/ok.png?access_token=x")
    finally:
        await pinned.aclose()
    assert answer.status == 200 and lookups == ["portal.example.gov.cn"]
    assert seen[-1].headers["host"] == f"portal.example.gov.cn:{port}"


async def test_a_name_with_any_non_public_address_is_refused(site) -> None:
    url, seen = site

    async def resolver(host: str, _port: int) -> list[str]:
        return ["8.8.8.8", "10.1.2.3"]

    mixed = SafeFetcher(resolver=resolver)
    try:
        with pytest.raises(fetch.UnsafeUrl, match="private"):
            await mixed.get("http://rebind.example.com/ok.png")
    finally:
        await mixed.aclose()


async def test_a_name_that_does_not_resolve_is_reported_as_such() -> None:
    async def resolver(host: str, _port: int) -> list[str]:
        raise OSError("Name or service not known")

    client = SafeFetcher(resolver=resolver)
    try:
        with pytest.raises(fetch.NameNotResolved):
            await client.get("http:/etc/hostname")  # a browser reads host "etc", never a file
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "file:///etc/passwd", "http://[::ffff:10.0.0.1]/"]
)
async def test_redirects_are_checked_like_the_first_url(fetcher, site, target: str) -> None:
    url, _ = site
    with pytest.raises(fetch.UnsafeUrl):
        await fetcher.get(f"{url}/to?target={target}")


async def test_redirects_are_bounded(fetcher, site) -> None:
    url, _ = site
    with pytest.raises(fetch.UnsafeUrl, match="redirects"):
        await fetcher.get(f"{url}/loop")


async def test_the_size_is_capped_while_streaming(fetcher, site) -> None:
    url, _ = site
    with pytest.raises(fetch.TooLarge) as too_large:
        await fetcher.get(f"{url}/endless?access_token=secret-value")
    assert "access_token" not in str(too_large.value) and "?" not in too_large.value.url


def _certificate(tmp_path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A CA and a certificate for `name` (never for 127.0.0.1): (server context, client context)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


async def test_https_is_pinned_to_the_checked_address_and_verified_for_the_name(tmp_path) -> None:
    name = "portal.example.gov.cn"
    server_context, client_context = _certificate(tmp_path, name)
    seen: dict[str, str] = {}
    server_context.sni_callback = lambda _sock, server_name, _ctx: seen.update(sni=server_name or "")

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        host = next(line for line in head.split("\r\n") if line.lower().startswith("host:"))
        seen["host"] = host.split(":", 1)[1].strip()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]

    async def resolver(host: str, _port: int) -> list[str]:
        return ["127.0.0.1"]

    fetcher = SafeFetcher(FetchPolicy(allow_loopback=True), resolver=resolver, verify=client_context)
    try:
        async with server:
            fetched = await fetcher.get(f"https://{name}:{port}/a.pdf")
    finally:
        await fetcher.aclose()
    assert fetched.body == b"ok"
    assert seen == {"sni": name, "host": f"{name}:{port}"}  # the certificate was checked for the name
