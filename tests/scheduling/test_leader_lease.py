"""The leader lease and the fenced ledger, on a real Valkey."""

from __future__ import annotations

from stack_support import wait_until

from pools.scheduling.lease import LEADER_KEY, LeaderLease
from pools.scheduling.ledger import FENCED_KEY, Ledger, decode_runs, new_run, state_key


def claim(ledger: Ledger, token: int, planned_s: float, name: str = "code-one") -> int:
    return int(ledger.claim(name, token, new_run(planned_s, "tick"), user=False))


def test_one_scheduler_leads_and_a_standby_gets_a_higher_token_only_when_the_lease_expires(
        redis_client):
    a, b = LeaderLease(redis_client, 300, "a"), LeaderLease(redis_client, 300, "b")
    first = a.hold()
    assert first.leading and not b.hold().leading
    assert a.hold().token == first.token  # renewing keeps the token
    wait_until(lambda: not redis_client.exists(LEADER_KEY), 10, 0.05, "the lease to expire")
    taken = b.hold()
    assert taken.leading and taken.token > first.token
    assert not a.hold().leading


def test_a_deposed_leaders_late_send_is_refused_by_its_fencing_token(redis_client):
    ledger = Ledger(redis_client, keep=10)
    old, new = LeaderLease(redis_client, 300, "old"), LeaderLease(redis_client, 10_000, "new")
    stale = old.hold().token
    assert claim(ledger, stale, 100.0) == 1
    wait_until(lambda: new.hold().leading, 10, 0.05, "the standby to take the lease")
    # The old leader woke up believing it still leads: its send is refused, even for a tick
    # nobody has sent, and the refusal is counted.
    assert claim(ledger, stale, 101.0) == -1
    assert int(redis_client.get(FENCED_KEY)) == 1
    assert claim(ledger, new.hold().token, 101.0) == 1
    runs = decode_runs(ledger.runs("code-one", 10))
    assert [r["planned"] for r in runs] == [101.0, 100.0]


def test_a_tick_is_recorded_once_and_never_behind_the_last_one(redis_client):
    ledger = Ledger(redis_client, keep=3)
    token = LeaderLease(redis_client, 10_000, "only").hold().token
    assert claim(ledger, token, 50.0) == 1
    assert claim(ledger, token, 50.0) == 0  # the same tick again: already handled
    assert claim(ledger, token, 49.0) == 0  # an older one: already handled
    for planned in (51.0, 52.0, 53.0):
        assert claim(ledger, token, planned) == 1
    runs = decode_runs(ledger.runs("code-one", 10))
    assert [r["planned"] for r in runs] == [53.0, 52.0, 51.0]  # bounded to the newest 3
    assert redis_client.hlen("repertory:sched:run:code-one") == 3
    assert int(redis_client.hget(state_key("code-one"), "last_planned_ms")) == 53_000


def test_a_deleted_remade_or_paused_schedule_is_not_sent(redis_client):
    ledger = Ledger(redis_client, keep=3)
    token = LeaderLease(redis_client, 10_000, "only").hold().token
    assert int(ledger.claim("gone", token, new_run(1.0, "tick"), user=True)) == -2
    redis_client.hset(state_key("held"), "paused", "1")
    assert int(ledger.claim("held", token, new_run(1.0, "tick"), user=False)) == -3
    redis_client.hset(state_key("again"), "anchor_ms", "2000")  # deleted, made again
    assert int(ledger.claim("again", token, new_run(3.0, "tick"), user=False,
                            anchor_ms=1000)) == -2
    assert not redis_client.exists("repertory:sched:runs:gone", "repertory:sched:runs:held",
                                   "repertory:sched:runs:again")


def test_a_clean_stop_hands_the_lease_over_at_once(redis_client):
    a, b = LeaderLease(redis_client, 60_000, "a"), LeaderLease(redis_client, 60_000, "b")
    token = a.hold().token
    assert not b.hold().leading
    assert not LeaderLease(redis_client, 60_000, "a").release(token + 1)  # not its token
    assert a.release(token)
    assert b.hold().leading


def test_scripts_survive_a_script_cache_flush(redis_client):
    lease = LeaderLease(redis_client, 10_000, "a")
    lease.hold()
    redis_client.script_flush()
    assert lease.hold().leading  # redis-py loads the script again (NOSCRIPT)
