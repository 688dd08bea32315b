"""The duration histogram on a real Valkey: cumulative buckets, as Prometheus reads them."""

from __future__ import annotations

from config.queues import DURATIONS_KEY
from pools import metrics


def test_durations_land_in_every_bucket_at_or_above_them_and_in_the_sum(redis_client):
    metrics.drop_buffered()  # what earlier tests in this process left (maybe for a server now gone)
    redis_client.delete(DURATIONS_KEY)
    for seconds in (0.03, 0.3, 0.5, 700.0):
        metrics.record_duration(redis_client, "diag", "succeeded", seconds)
    metrics.flush_durations()
    raw = {k.decode(): float(v) for k, v in redis_client.hgetall(DURATIONS_KEY).items()}
    counts = {f.split("|")[2]: v for f, v in raw.items() if f.startswith("diag|succeeded|")}
    assert counts["0.05"] == 1 and counts["0.25"] == 1
    assert counts["0.5"] == 3  # 0.5 itself is "≤ 0.5"
    assert counts["600"] == 3 and counts["1800"] == 4 and counts["+Inf"] == 4
    assert abs(counts["sum"] - 700.83) < 1e-9
    assert len(counts) == len(metrics.BUCKETS) + 2
