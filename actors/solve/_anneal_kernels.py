"""numba kernels of :mod:`actors.solve.anneal` (imported only when an annealer is built).

The roster is ``x[e, d]``: a shift index, or -1 for a day off. Hard rules are scored by
:mod:`actors.solve._anneal_rules` (0 when the member's schedule is valid), a move's change of
them from the windows and tallies it touches (not by rescanning the members' rows); the
annealer minimises the objective plus ``weight`` times the summed violations and keeps the best
roster whose violations are all 0.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from actors.solve._anneal_moves import complete, fill, holder
from actors.solve._anneal_rules import global_violation, local_violation, touch, window

ROTATE = 14  # a rotation moves at most this many days and one more (<= 15: the move's arrays)
JOURNAL = 4096  # most cell changes kept to undo back to the best roster before it is copied


@njit(cache=True, nogil=True)
def _pen(c, req, wu, wo):
    return wu * (req - c) if c < req else wo * (c - req)


@njit(cache=True, nogil=True)
def set_cell(x, cnt, e, d, n, cellcost, row_ptr, rows, qual, req, wu, wo):
    """Put ``n`` in cell (e, d), update the cover counts, return the objective's change."""
    o = x[e, d]
    if o == n:
        return 0
    n_shifts = cellcost.shape[2] - 1
    delta = cellcost[e, d, n if n >= 0 else n_shifts] - cellcost[e, d, o if o >= 0 else n_shifts]
    if o >= 0:
        k = d * n_shifts + o
        for i in range(row_ptr[k], row_ptr[k + 1]):
            r = rows[i]
            if qual[e, r]:
                delta += _pen(cnt[r] - 1, req[r], wu[r], wo[r]) - _pen(cnt[r], req[r], wu[r], wo[r])
                cnt[r] -= 1
    if n >= 0:
        k = d * n_shifts + n
        for i in range(row_ptr[k], row_ptr[k + 1]):
            r = rows[i]
            if qual[e, r]:
                delta += _pen(cnt[r] + 1, req[r], wu[r], wo[r]) - _pen(cnt[r], req[r], wu[r], wo[r])
                cnt[r] += 1
    x[e, d] = n
    return delta


@njit(cache=True, nogil=True)
def anneal(x, cnt, h, tally, state, best, iters, t_start, t_end, weight, seed, mix,
           cellcost, row_ptr, rows, qual, req, wu, wo, row_day, row_shift, choices, n_choices,
           allowed, forbid, length, unit, tmin, tmax, maxc, minc, minoff, weekend, maxw, caps,
           rq_e, rq_d, rq_s, wfirst, split=0.0, quick=True):
    """``iters`` moves of simulated annealing from ``x`` (changed in place, with ``cnt``, ``h``
    and the members' ``tally`` = (shift counts, minutes, days worked per weekend, weekends)).
    ``state`` = [objective, summed violations, best objective, moves undone unscored]: a roster
    with no violation and an objective below ``state[2]`` is copied to ``best``. The
    temperature falls geometrically from ``t_start`` to ``t_end``. ``quick`` = False scores
    every move's rules (the reference the shortcut is tested against). ``split`` > 0 adds that
    much to the cost a move is accepted on for every weekend a member works on one day only
    (``wfirst``: each weekend's Saturday, -1 where the horizon cuts it): a shaping term, not
    the objective — ``state`` and ``best`` follow the objective alone. Returns how many times
    ``best`` improved."""
    np.random.seed(seed)
    scnt, tot, wkc, wk = tally
    n_staff, days = x.shape
    old = np.empty(16, np.int64)
    cells_e = np.empty(16, np.int64)
    cells_d = np.empty(16, np.int64)
    obj, total_h, best_obj = state[0], state[1], state[2]
    # `best` is written lazily: after a new best, the cells accepted moves change are journaled
    # (their old values), and `best` is x with the journal undone: copied when it fills or at
    # the end, so a run of improvements copies the roster once, not once each
    cap = max(16, min(JOURNAL, x.size // 4))  # (a quarter of the roster: undoing stays cheap)
    jour = np.empty((3, cap + 16), np.int64)
    n_jour, tracking = 0, False
    ratio = (t_end / t_start) ** (1.0 / max(1, iters)) if t_start > 0 and t_end > 0 else 1.0
    temp, found, skipped = t_start, 0, 0
    for _ in range(iters):
        temp *= ratio
        kind = np.random.random()
        m, swap = 0, False
        e1 = np.random.randint(n_staff)
        e2 = e1
        d = np.random.randint(days)
        if kind < mix[0] or n_staff == 1:  # one cell gets another value
            v = choices[e1, np.random.randint(n_choices[e1])]
            if v == x[e1, d]:
                continue
            old[0], cells_e[0], cells_d[0] = v, e1, d
            m, lo, hi = 1, d, d
        elif kind < mix[1]:  # two members swap a block of days
            e2 = np.random.randint(n_staff - 1)
            if e2 >= e1:
                e2 += 1
            width = 1 + np.random.randint(min(7, days))
            d = np.random.randint(days - width + 1)
            lo, hi, swap = d, d + width - 1, True
        elif kind < mix[2]:  # one member takes a new value, another their old one
            e2 = np.random.randint(n_staff - 1)
            if e2 >= e1:
                e2 += 1
            v = choices[e1, np.random.randint(n_choices[e1])]
            a, b = x[e1, d], x[e2, d]
            if v == a or a == b:
                continue
            old[0], cells_e[0], cells_d[0] = v, e1, d
            old[1], cells_e[1], cells_d[1] = a, e2, d
            m, lo, hi = 2, d, d
        elif kind < mix[3]:  # one member moves a day's value to another day nearby
            d2 = d + 1 + np.random.randint(min(7, days - 1)) if days > 1 else d
            if d2 >= days:
                d2 -= days
            a, b = x[e1, d], x[e1, d2]
            if a == b:
                continue
            old[0], cells_e[0], cells_d[0] = b, e1, d
            old[1], cells_e[1], cells_d[1] = a, e1, d2
            m, lo, hi = 2, min(d, d2), max(d, d2)
        elif kind < mix[4]:  # a member's days lo..hi rotate by one: their pattern shifts a day
            if days < 2:
                continue
            width = 1 + np.random.randint(min(ROTATE, days - 1))
            lo = np.random.randint(days - width)
            hi = lo + width
            m = _rotate(x[e1], lo, hi, np.random.random() < 0.5, e1, old, cells_e, cells_d)
            if m == 0:
                continue
        elif kind < mix[5]:  # a member swaps a block of days with the same days whole weeks
            # away (a weekend's work moves to another weekend, its weekdays with it)
            if days < 8:
                continue
            width = 1 + np.random.randint(min(7, days - 7))
            k = 7 * (1 + np.random.randint((days - width) // 7))
            lo = np.random.randint(days - width - k + 1)
            hi = lo + k + width - 1
            for j in range(lo, lo + width):
                if x[e1, j] != x[e1, j + k]:
                    old[m], cells_e[m], cells_d[m] = x[e1, j + k], e1, j
                    old[m + 1], cells_e[m + 1], cells_d[m + 1] = x[e1, j], e1, j + k
                    m += 2
            if m == 0:
                continue
        elif kind < mix[6]:  # a member takes a short row's shift; a day off for it nearby
            m, e1, d, lo, hi = fill(x, cnt, req, qual, allowed, row_ptr, rows, row_day,
                                    row_shift, old, cells_e, cells_d)
            e2 = e1
            if m == 0:
                continue
        elif kind < mix[7]:  # a member who works one day of a weekend works the other too
            m, e1, d, lo, hi = complete(x, cnt, req, qual, allowed, forbid, row_ptr, rows,
                                        wfirst, old, cells_e, cells_d)
            e2 = e1
            if m == 0:
                continue
        else:  # a member asked for a shift they do not work: they swap a block of days
            # around it with a member who works it (cover unchanged)
            if len(rq_e) == 0:  # (the shares' float sum may leave this a sliver of draws)
                continue
            q = np.random.randint(len(rq_e))
            e1, d = rq_e[q], rq_d[q]
            e2 = holder(x, e1, d, rq_s[q], np.random.randint(n_staff))
            if e2 < 0:
                continue
            width = 1 + np.random.randint(min(7, days))
            lo = max(0, d - np.random.randint(width))
            hi, swap = min(days - 1, lo + width - 1), True
        if swap:  # e1 and e2 swap days lo..hi (written here, not in a helper: a helper call
            # cost a fifth of the moves a second)
            for j in range(lo, hi + 1):
                if x[e1, j] != x[e2, j]:
                    old[m], cells_e[m], cells_d[m] = x[e2, j], e1, j
                    old[m + 1], cells_e[m + 1], cells_d[m + 1] = x[e1, j], e2, j
                    m += 2
            if m == 0:
                continue
        # the rules' change: the windows' local violation and the tallies' global one, before
        # and after; `old` holds the new values until the cells are written, then the old ones
        # (the calls are written out: a helper taking the tallies' tuple cost 10-20 % of the
        # moves a second). When both members are valid before the move (`clean`: most moves
        # at low temperature), their violation cannot fall, so the "before" is 0 and a move
        # whose objective change alone fails the acceptance draw is undone unscored: the same
        # decisions, from the same random draws, as scoring it whole
        clean = quick and h[e1] == 0 and h[e2] == 0
        l1, r1, l2, r2, dh1, dh2 = lo, hi, lo, hi, 0, 0
        if not clean:  # (a window depends only on the cells outside lo..hi: the same after)
            l1, r1 = window(x[e1], lo, hi)
            dh1 = -local_violation(x[e1], allowed[e1], forbid, l1, r1, maxc[e1], minc[e1],
                                   minoff[e1])
            dh1 -= global_violation(scnt[e1], tot[e1], wk[e1], unit, tmin[e1], tmax[e1],
                                    maxw[e1], caps[e1])
            if e2 != e1:
                l2, r2 = window(x[e2], lo, hi)
                dh2 = -local_violation(x[e2], allowed[e2], forbid, l2, r2, maxc[e2], minc[e2],
                                       minoff[e2])
                dh2 -= global_violation(scnt[e2], tot[e2], wk[e2], unit, tmin[e2], tmax[e2],
                                        maxw[e2], caps[e2])
        split_before = _one_day(x, cells_e, cells_d, m, weekend, wfirst) if split > 0 else 0
        dobj = 0.0
        for i in range(m):  # (the tallies only once the rules are scored)
            e, j, v = cells_e[i], cells_d[i], old[i]
            old[i] = x[e, j]
            dobj += set_cell(x, cnt, e, j, v, cellcost, row_ptr, rows, qual, req, wu, wo)
        dcost = dobj  # what the move is accepted on: the objective, and the shaping term
        if split > 0:
            dcost += split * (_one_day(x, cells_e, cells_d, m, weekend, wfirst) - split_before)
        u, accept = 2.0, True  # (u: the acceptance draw, taken only for a rising move)
        if clean and dcost > 0:
            u = np.random.random() if temp > 0 else 2.0
            accept = u < math.exp(-dcost / temp) if temp > 0 else False
            skipped += not accept
        touched = accept
        if accept:
            for i in range(m):
                e, j = cells_e[i], cells_d[i]
                touch(e, j, old[i], x[e, j], scnt, tot, wkc, wk, length, weekend)
            if clean:
                l1, r1 = window(x[e1], lo, hi)
                if e2 != e1:
                    l2, r2 = window(x[e2], lo, hi)
            dh1 += local_violation(x[e1], allowed[e1], forbid, l1, r1, maxc[e1], minc[e1],
                                   minoff[e1])
            dh1 += global_violation(scnt[e1], tot[e1], wk[e1], unit, tmin[e1], tmax[e1],
                                    maxw[e1], caps[e1])
            if e2 != e1:
                dh2 += local_violation(x[e2], allowed[e2], forbid, l2, r2, maxc[e2], minc[e2],
                                       minoff[e2])
                dh2 += global_violation(scnt[e2], tot[e2], wk[e2], unit, tmin[e2], tmax[e2],
                                        maxw[e2], caps[e2])
            delta = dcost + weight * (dh1 + dh2)
            if delta > 0:
                if u > 1.0 and temp > 0:  # not drawn yet
                    u = np.random.random()
                accept = temp > 0 and u < math.exp(-delta / temp)
        if accept:
            obj += dobj
            total_h += dh1 + dh2
            h[e1] += dh1
            h[e2] += dh2
            if total_h == 0 and obj < best_obj:
                best_obj, tracking, n_jour = obj, True, 0
                found += 1
            elif tracking:
                for i in range(m):
                    jour[0, n_jour], jour[1, n_jour] = cells_e[i], cells_d[i]
                    jour[2, n_jour] = old[i]
                    n_jour += 1
                if n_jour >= cap:
                    _settle(best, x, jour, n_jour)
                    tracking = False
        else:
            for i in range(m - 1, -1, -1):
                e, j = cells_e[i], cells_d[i]
                if touched:
                    touch(e, j, x[e, j], old[i], scnt, tot, wkc, wk, length, weekend)
                set_cell(x, cnt, e, j, old[i], cellcost, row_ptr, rows, qual, req, wu, wo)
    if tracking:
        _settle(best, x, jour, n_jour)
    state[0], state[1], state[2] = obj, total_h, best_obj
    state[3] += skipped
    return found


@njit(cache=True, nogil=True)
def _one_day(x, cells_e, cells_d, m, weekend, wfirst):
    """How many of the (member, weekend) pairs the move's ``m`` cells touch are worked on one
    day only (each pair once; weekends the horizon cuts are not counted)."""
    n = 0
    for i in range(m):
        w = weekend[cells_d[i]]
        if w < 0 or wfirst[w] < 0:
            continue
        e, seen = cells_e[i], False
        for k in range(i):
            if cells_e[k] == e and weekend[cells_d[k]] == w:
                seen = True
                break
        if not seen and (x[e, wfirst[w]] >= 0) != (x[e, wfirst[w] + 1] >= 0):
            n += 1
    return n


@njit(cache=True, nogil=True)
def _rotate(row, lo, hi, right, e, new, cells_e, cells_d):
    """Writes the cells of member ``e`` whose value changes when days ``lo..hi`` of ``row``
    rotate one day (``right``: each day takes the day before's value and ``lo`` takes
    ``hi``'s; else the other way). Returns how many."""
    m = 0
    step = -1 if right else 1
    for j in range(lo, hi + 1):
        src = j + step
        if src < lo or src > hi:  # (the block's end wraps round to its other end)
            src = hi if right else lo
        v = row[src]
        if v != row[j]:
            new[m], cells_e[m], cells_d[m] = v, e, j
            m += 1
    return m


@njit(cache=True, nogil=True)
def _settle(best, x, jour, n_jour):
    """``best`` = ``x`` with the journal's ``n_jour`` changes undone (newest first)."""
    best[:, :] = x
    for i in range(n_jour - 1, -1, -1):
        best[jour[0, i], jour[1, i]] = jour[2, i]
