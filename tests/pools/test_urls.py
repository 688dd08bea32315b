"""Webhook target checks."""

from __future__ import annotations

import pytest

from pools.errors import PermanentError
from pools.urls import validate_callback_url


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8080/x", "http://10.1.2.3/x",
    "http://100.64.0.1/x", "http://[::1]/x", "http://metadata.internal/x",
    "http://169.254.169.254/latest", "gopher://example.com/", "http:///nohost",
])
def test_internal_or_odd_callback_urls_are_refused(url):
    with pytest.raises(PermanentError):
        validate_callback_url(url, allow_private=False)


def test_a_public_callback_url_is_accepted_and_private_ones_only_when_allowed():
    assert validate_callback_url("https://hooks.example.com/a", allow_private=False)
    assert validate_callback_url("http://127.0.0.1:9/x", allow_private=True)
