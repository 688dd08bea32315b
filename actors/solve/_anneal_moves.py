"""The annealer's targeted moves (numba, called by :func:`actors.solve._anneal_kernels.anneal`):
each finds its cells from where the roster falls short — a cover row below its requirement, a
weekend worked on one day only, a member working a shift another asked for — and writes the
move's new values into ``new`` / ``cells_e`` / ``cells_d`` as the kernel's own moves do."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def holder(x, e, d, s, start):
    """A member other than ``e`` working shift ``s`` on day ``d`` (the first from ``start``
    on), or -1: none, or ``e`` works it already."""
    n_staff = x.shape[0]
    if x[e, d] == s:
        return -1
    for k in range(n_staff):
        c = (start + k) % n_staff
        if c != e and x[c, d] == s:
            return c
    return -1


@njit(cache=True, nogil=True)
def fill(x, cnt, req, qual, allowed, row_ptr, rows, row_day, row_shift, new, cells_e,
         cells_d):
    """A targeted move: a cover row below its requirement (found by a few random draws), a
    qualified member who may work its shift that day and does not, and that cell set to it;
    when the member was off that day, one of their worked days up to a week away becomes a
    day off (their total stays; the annealer weighs the rest). Writes the move's cells and
    returns (cells, member, day, window lo, window hi); 0 cells when no move was found."""
    n_staff, days = x.shape
    r = -1
    if len(req) == 0:
        return 0, 0, 0, 0, 0
    for _ in range(32):
        k = np.random.randint(len(req))
        if cnt[k] < req[k]:
            r = k
            break
    if r < 0:
        return 0, 0, 0, 0, 0
    d, t = row_day[r], row_shift[r]
    e = -1
    for _ in range(8):
        k = np.random.randint(n_staff)
        if qual[k, r] and allowed[k, d, t] and x[k, d] != t:
            e = k
            break
    if e < 0:
        return 0, 0, 0, 0, 0
    new[0], cells_e[0], cells_d[0] = t, e, d
    if x[e, d] >= 0 or days == 1:
        return 1, e, d, d, d
    m, lo, hi = day_off_near(x, cnt, req, qual, row_ptr, rows, e, d, d, d, new, cells_e,
                             cells_d)
    return m, e, d, lo, hi


@njit(cache=True, nogil=True)
def surplus_day(x, cnt, req, qual, row_ptr, rows, e, d, skip_lo, skip_hi):
    """A day up to a week from ``d``, outside ``skip_lo..skip_hi``, on which ``e`` works:
    drawn among those whose every row of e's shift is above its requirement when there is
    one, else among them all; -1 if none."""
    n_shifts = (row_ptr.shape[0] - 1) // x.shape[1]  # (row_ptr: one entry per day and shift)
    worked, over = 0, 0
    pick_any, pick_over = -1, -1
    for d2 in range(max(0, d - 7), min(x.shape[1], d + 8)):
        u = x[e, d2]
        if skip_lo <= d2 <= skip_hi or u < 0:
            continue
        worked += 1
        if np.random.randint(worked) == 0:
            pick_any = d2
        k = d2 * n_shifts + u
        surplus = True
        for i in range(row_ptr[k], row_ptr[k + 1]):
            if qual[e, rows[i]] and cnt[rows[i]] <= req[rows[i]]:
                surplus = False
                break
        if surplus:
            over += 1
            if np.random.randint(over) == 0:
                pick_over = d2
    return pick_over if pick_over >= 0 else pick_any


@njit(cache=True, nogil=True)
def day_off_near(x, cnt, req, qual, row_ptr, rows, e, d, skip_lo, skip_hi, new, cells_e,
                 cells_d):
    """After the move's first cell (member ``e`` on day ``d``), a second: one of e's worked
    days up to a week away, outside ``skip_lo..skip_hi``, made a day off (``surplus_day``).
    Returns (cells, window lo, window hi): 1 cell and ``d`` alone when there is none."""
    d2 = surplus_day(x, cnt, req, qual, row_ptr, rows, e, d, skip_lo, skip_hi)
    if d2 < 0:
        return 1, d, d
    new[1], cells_e[1], cells_d[1] = -1, e, d2
    return 2, min(d, d2), max(d, d2)


@njit(cache=True, nogil=True)
def complete(x, cnt, req, qual, allowed, forbid, row_ptr, rows, wfirst, new, cells_e,
             cells_d):
    """A targeted move: a member who works one day of a whole weekend (found by a few random
    draws) works the other day too, in a shift type that follows and precedes their
    neighbouring days' (one with a row below its requirement first); half the time one of
    their worked weekdays up to a week away (an above-requirement one first) becomes a day off
    (their minutes kept). Returns (cells, member, day, window lo, window hi); 0 cells when no
    move was found."""
    n_staff, days = x.shape
    n_shifts = (row_ptr.shape[0] - 1) // days
    n_w = len(wfirst)
    if n_w == 0:
        return 0, 0, 0, 0, 0
    e, d, sat = -1, -1, -1
    for _ in range(16):
        k = np.random.randint(n_staff)
        sat = wfirst[np.random.randint(n_w)]
        if sat < 0:
            continue
        if (x[k, sat] >= 0) != (x[k, sat + 1] >= 0):
            e, d = k, sat + 1 if x[k, sat] >= 0 else sat
            break
    if e < 0:
        return 0, 0, 0, 0, 0
    prev = x[e, d - 1] if d > 0 else -1
    nxt = x[e, d + 1] if d + 1 < days else -1
    pick, pick_short, n_ok, n_short = -1, -1, 0, 0
    for t in range(n_shifts):
        if not allowed[e, d, t] or (prev >= 0 and forbid[prev, t]) or (
                nxt >= 0 and forbid[t, nxt]):
            continue
        n_ok += 1
        if np.random.randint(n_ok) == 0:
            pick = t
        k = d * n_shifts + t
        for i in range(row_ptr[k], row_ptr[k + 1]):
            if qual[e, rows[i]] and cnt[rows[i]] < req[rows[i]]:
                n_short += 1
                if np.random.randint(n_short) == 0:
                    pick_short = t
                break
    t = pick_short if pick_short >= 0 else pick
    if t < 0:
        return 0, 0, 0, 0, 0
    new[0], cells_e[0], cells_d[0] = t, e, d
    if np.random.random() < 0.5:
        return 1, e, d, d, d
    m, lo, hi = day_off_near(x, cnt, req, qual, row_ptr, rows, e, d, sat, sat + 1, new,
                             cells_e, cells_d)
    return m, e, d, lo, hi
