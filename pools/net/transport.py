"""An httpx transport that resolves, validates and pins the address of every connection.

The hostname is resolved once per new connection by an injectable resolver; every answer must
pass :mod:`netguard`; the socket is then opened to the validated IP itself, while the request
keeps the hostname in its Host header and TLS uses it for SNI and certificate checks (httpcore
takes both from the URL's host). A DNS answer that changes between a check and a use
(rebinding) cannot switch the target because there is no second lookup. No proxies, HTTP/1.1.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from functools import lru_cache
from typing import Any

import httpcore
import httpx

from pools.net.netguard import AddressRefused, IPNetwork, check_address, parse_ip_literal

#: ``resolve(host, port)`` → socket addresses ``(ip, port)`` to try in order.
Resolver = Callable[[str, int], Awaitable[list[tuple[str, int]]]]

_EXC_MAP: dict[type[Exception], type[Exception]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.ProtocolError: httpx.ProtocolError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
}


def _mapped(exc: Exception) -> Exception:
    for cls in type(exc).__mro__:
        if cls in _EXC_MAP:
            return _EXC_MAP[cls](str(exc) or cls.__name__)
    return exc


async def system_resolver(host: str, port: int) -> list[tuple[str, int]]:
    """The operating system's resolver (``getaddrinfo``), TCP addresses only."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [(info[4][0], int(info[4][1])) for info in infos]


def static_resolver(table: dict[str, list[tuple[str, int]]]) -> Resolver:
    """A resolver answering from a fixed table (tests, benches); unknown names fail."""

    async def resolve(host: str, port: int) -> list[tuple[str, int]]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, f"unknown host {host}")
        return list(table[host])

    return resolve


@lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """One verifying client context per process (loading the CA bundle is not free)."""
    return ssl.create_default_context()


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Network backend whose ``connect_tcp`` only ever dials validated addresses."""

    def __init__(self, resolver: Resolver, *, allow_loopback: bool = False,
                 allowed: tuple[IPNetwork, ...] = ()) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._resolver = resolver
        self._allow_loopback = allow_loopback
        self._allowed = allowed

    async def _addresses(self, host: str, port: int, timeout: float | None) -> list[tuple]:
        literal = parse_ip_literal(host)
        if literal is not None:  # any spelling of an IP: never handed to a resolver
            return [(str(literal), port)]
        try:
            async with asyncio.timeout(timeout):
                answers = await self._resolver(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not answers:
            raise httpcore.ConnectError(f"no address for {host}")
        return answers

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        answers = await self._addresses(host, port, timeout)
        # Every answer must pass: a name that mixes public and private answers is refused.
        checked = [
            (check_address(host, ip, allow_loopback=self._allow_loopback,
                           allowed=self._allowed), p)
            for ip, p in answers
        ]
        error: Exception | None = None
        for ip, p in checked:
            try:
                return await self._inner.connect_tcp(
                    str(ip), p, timeout=timeout, local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("unix socket", "-", "unix sockets are never used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Stream(httpx.AsyncByteStream):
    def __init__(self, inner: AsyncIterator[bytes] | Any) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpcore.TimeoutException as exc:
            raise _mapped(exc) from exc
        except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
            raise _mapped(exc) from exc

    async def aclose(self) -> None:
        if hasattr(self._inner, "aclose"):
            await self._inner.aclose()


class GuardedTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 transport over :class:`GuardedBackend`; no proxies, no environment."""

    def __init__(
        self,
        *,
        resolver: Resolver | None = None,
        allow_loopback: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 4,
        allowed: tuple[IPNetwork, ...] = (),
        keepalive_expiry: float = 15.0,
    ) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or default_ssl_context(),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
            http1=True,
            http2=False,
            retries=0,
            network_backend=GuardedBackend(
                resolver or system_resolver, allow_loopback=allow_loopback, allowed=allowed
            ),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        req = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            resp = await self._pool.handle_async_request(req)
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
                httpcore.UnsupportedProtocol) as exc:
            raise _mapped(exc) from exc
        return httpx.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=_Stream(resp.stream),
            extensions=resp.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()
