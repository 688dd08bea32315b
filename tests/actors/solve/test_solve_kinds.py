import random

from actors.solve.kinds import FLOOR, Tally, draw, record, shares


def simulate(pays: list[list[int]], seed: int, late: int = 0) -> tuple[list[int], float]:
    """Draw for as many steps as ``pays`` has columns; kind k gains ``pays[k][step]`` a step
    (one unit of work each). The draws per kind from step ``late`` on, and the least share any
    kind had at any step."""
    tallies, total = [Tally() for _ in pays], Tally()
    rng, counts, least = random.Random(seed), [0] * len(pays), 1.0
    for step in range(len(pays[0])):
        least = min(least, *shares(tallies, total))
        k = draw(tallies, total, rng)
        counts[k] += step >= late
        record(tallies, tallies[k], total, pays[k][step], 1.0)
    return counts, least


def test_before_any_gain_every_kind_is_drawn_alike() -> None:
    assert shares([Tally(), Tally(), Tally()], Tally()) == [1 / 3] * 3


def test_the_kind_that_gains_most_per_unit_of_work_gets_the_largest_share() -> None:
    out = shares([Tally(gain=10, work=10), Tally(gain=0, work=10), Tally(gain=50, work=10)],
                 Tally(gain=60, work=30))
    assert out[2] > out[0] > out[1] >= FLOOR and abs(sum(out) - 1) < 1e-9


def test_a_kind_that_stops_gaining_loses_its_share_to_one_that_starts() -> None:
    # kind 0 pays 100 a step for 40 steps, then nothing; kind 1 pays 50 from then on
    pays = [[100 if s < 40 else 0 for s in range(120)],
            [0 if s < 40 else 50 for s in range(120)], [0] * 120]
    for seed in range(6):
        late, least = simulate(pays, seed, late=60)
        assert late[1] >= max(late[0], late[2]) + 10, (seed, late)
        assert least >= FLOOR - 1e-9  # and every kind kept its floor throughout


def test_a_kind_not_drawn_for_a_while_drifts_back_towards_the_thread_s_rate() -> None:
    tallies, total = [Tally(gain=0, work=20), Tally(gain=200, work=20)], Tally(200, 40)
    before = shares(tallies, total)[0]
    for _ in range(20):  # only kind 1 is drawn, and it keeps paying 10 per unit of work
        record(tallies, tallies[1], total, 10, 1.0)
    assert shares(tallies, total)[0] > before


def test_when_no_kind_pays_any_more_the_draw_does_not_lock_onto_the_one_that_paid() -> None:
    pays = [[100] * 10 + [0] * 190, [0] * 200, [0] * 200]
    for seed in range(6):
        counts, _ = simulate(pays, seed, late=100)
        assert max(counts) <= 50 and min(counts) >= 20, (seed, counts)  # about 100 / 3 each
