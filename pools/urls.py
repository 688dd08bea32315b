"""Checks on URLs that users hand us (webhook targets)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pools.errors import PermanentError

_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


def validate_callback_url(url: str, *, allow_private: bool) -> str:
    """An http(s) URL whose host is not obviously internal, else a ``PermanentError``.

    Literal addresses must be globally routable; names like ``localhost`` or ``*.internal``
    are refused. (Names are resolved and checked again when the webhook is delivered.)
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise PermanentError(f"callback_url must be http or https, not {parts.scheme!r}",
                             kind="bad_input")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise PermanentError("callback_url has no host", kind="bad_input")
    if allow_private:
        return url
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        raise PermanentError(f"callback_url host {host!r} is internal", kind="bad_input")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    if not address.is_global:
        raise PermanentError(f"callback_url address {host} is not publicly routable",
                             kind="bad_input")
    return url
