"""Extraction runs in killable processes: a stuck call is killed, the pool keeps working."""

from __future__ import annotations

import asyncio
import time

import pytest

from actors.scrape.extract import extract_page
from actors.scrape.pool import ExtractionTimeout, ProcessPool


def test_a_call_past_its_limit_is_killed_and_the_pool_recovers() -> None:
    async def go() -> tuple[float, object, int]:
        async with ProcessPool(size=1) as pool:
            started = time.monotonic()
            with pytest.raises(ExtractionTimeout):
                await pool.run(time.sleep, 30, timeout_s=0.5)
            elapsed = time.monotonic() - started
            page = await pool.run(extract_page, "<title>Back</title>", "http://a.com/",
                                  timeout_s=30)
            return elapsed, page, pool.killed

    elapsed, page, killed = asyncio.run(go())
    assert elapsed < 5
    assert killed == 1
    assert page.title == "Back"
