"""numba kernels of :mod:`actors.solve.anneal` (imported only when an annealer is built).

The roster is ``x[e, d]``: a shift index, or -1 for a day off. Hard rules are scored by
:func:`violation` (0 when the member's schedule is valid); the annealer minimises the
objective plus ``weight`` times the summed violations and keeps the best roster whose
violations are all 0.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def violation(row, allowed, forbid, length, unit, tmin, tmax, maxc, minc, minoff, weekend,
              maxw, caps, counts):
    """How far one member's schedule is from valid, in whole steps (shifts or days):
    0 when every hard rule holds. ``counts`` is scratch of one entry per shift type."""
    days, h, tot, wk, last_w = len(row), 0, 0, 0, -1
    counts[:] = 0
    start, working = 0, row[0] >= 0
    for d in range(days):
        s = row[d]
        if s >= 0:
            if not allowed[d, s]:
                h += 1
            counts[s] += 1
            tot += length[s]
            if d > 0 and row[d - 1] >= 0 and forbid[row[d - 1], s]:
                h += 1
            if weekend[d] >= 0 and weekend[d] != last_w:
                wk += 1
                last_w = weekend[d]
        if d > 0 and (s >= 0) != working:
            h += _run(working, d - start, start > 0, True, maxc, minc, minoff)
            start, working = d, s >= 0
    h += _run(working, days - start, start > 0, False, maxc, minc, minoff)
    for s in range(len(caps)):
        if counts[s] > caps[s]:
            h += counts[s] - caps[s]
    if tot > tmax:
        h += (tot - tmax + unit - 1) // unit
    if tot < tmin:
        h += (tmin - tot + unit - 1) // unit
    if maxw >= 0 and wk > maxw:
        h += wk - maxw
    return h


@njit(cache=True, nogil=True)
def _run(working, size, after_start, before_end, maxc, minc, minoff):
    """The violation of one maximal run (interior runs only have minimum lengths)."""
    if working:
        out = size - maxc if size > maxc else 0
        if after_start and before_end and size < minc:
            out += minc - size
        return out
    if after_start and before_end and size < minoff:
        return minoff - size
    return 0


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
def anneal(x, cnt, h, state, best, iters, t_start, t_end, weight, seed, mix,
           cellcost, row_ptr, rows, qual, req, wu, wo, choices, n_choices,
           allowed, forbid, length, unit, tmin, tmax, maxc, minc, minoff, weekend, maxw, caps):
    """``iters`` moves of simulated annealing from ``x`` (changed in place, with ``cnt`` and
    ``h``). ``state`` = [objective, summed violations, best objective]: a roster with no
    violation and an objective below ``state[2]`` is copied to ``best``. The temperature falls
    geometrically from ``t_start`` to ``t_end``. Returns how many times ``best`` improved."""
    np.random.seed(seed)
    n_staff, days = x.shape
    n_shifts = length.shape[0]
    counts = np.zeros(n_shifts, np.int64)
    old = np.empty(16, np.int64)
    cells_e = np.empty(16, np.int64)
    cells_d = np.empty(16, np.int64)
    obj, total_h, best_obj = state[0], state[1], state[2]
    ratio = (t_end / t_start) ** (1.0 / max(1, iters)) if t_start > 0 and t_end > 0 else 1.0
    temp, found = t_start, 0
    for _ in range(iters):
        temp *= ratio
        kind = np.random.random()
        m = 0
        e1 = np.random.randint(n_staff)
        e2 = e1
        d = np.random.randint(days)
        dobj = 0.0
        if kind < mix[0] or n_staff == 1:  # one cell gets another value
            v = choices[e1, np.random.randint(n_choices[e1])]
            if v == x[e1, d]:
                continue
            old[0], cells_e[0], cells_d[0] = x[e1, d], e1, d
            m = 1
            dobj += set_cell(x, cnt, e1, d, v, cellcost, row_ptr, rows, qual, req, wu, wo)
        elif kind < mix[1]:  # two members swap a block of days
            e2 = np.random.randint(n_staff - 1)
            if e2 >= e1:
                e2 += 1
            width = 1 + np.random.randint(min(7, days))
            d = np.random.randint(days - width + 1)
            same = True
            for j in range(d, d + width):
                if x[e1, j] != x[e2, j]:
                    same = False
            if same:
                continue
            for j in range(d, d + width):
                a, b = x[e1, j], x[e2, j]
                old[m], cells_e[m], cells_d[m] = a, e1, j
                old[m + 1], cells_e[m + 1], cells_d[m + 1] = b, e2, j
                m += 2
                dobj += set_cell(x, cnt, e1, j, b, cellcost, row_ptr, rows, qual, req, wu, wo)
                dobj += set_cell(x, cnt, e2, j, a, cellcost, row_ptr, rows, qual, req, wu, wo)
        elif kind < mix[2]:  # one member takes a new value, another their old one
            # (the moves write their cells inline: a shared helper, even inlined, cost 15-25 %
            # of the moves a second)
            e2 = np.random.randint(n_staff - 1)
            if e2 >= e1:
                e2 += 1
            v = choices[e1, np.random.randint(n_choices[e1])]
            a, b = x[e1, d], x[e2, d]
            if v == a or a == b:
                continue
            old[0], cells_e[0], cells_d[0] = a, e1, d
            old[1], cells_e[1], cells_d[1] = b, e2, d
            m = 2
            dobj += set_cell(x, cnt, e1, d, v, cellcost, row_ptr, rows, qual, req, wu, wo)
            dobj += set_cell(x, cnt, e2, d, a, cellcost, row_ptr, rows, qual, req, wu, wo)
        else:  # one member moves a day's value to another day nearby
            d2 = d + 1 + np.random.randint(min(7, days - 1)) if days > 1 else d
            if d2 >= days:
                d2 -= days
            a, b = x[e1, d], x[e1, d2]
            if a == b:
                continue
            old[0], cells_e[0], cells_d[0] = a, e1, d
            old[1], cells_e[1], cells_d[1] = b, e1, d2
            m = 2
            dobj += set_cell(x, cnt, e1, d, b, cellcost, row_ptr, rows, qual, req, wu, wo)
            dobj += set_cell(x, cnt, e1, d2, a, cellcost, row_ptr, rows, qual, req, wu, wo)
        h1 = violation(x[e1], allowed[e1], forbid, length, unit, tmin[e1], tmax[e1], maxc[e1],
                       minc[e1], minoff[e1], weekend, maxw[e1], caps[e1], counts)
        dh = h1 - h[e1]
        h2 = 0
        if e2 != e1:
            h2 = violation(x[e2], allowed[e2], forbid, length, unit, tmin[e2], tmax[e2],
                           maxc[e2], minc[e2], minoff[e2], weekend, maxw[e2], caps[e2], counts)
            dh += h2 - h[e2]
        delta = dobj + weight * dh
        if delta <= 0 or (temp > 0 and np.random.random() < math.exp(-delta / temp)):
            obj += dobj
            total_h += dh
            h[e1] = h1
            if e2 != e1:
                h[e2] = h2
            if total_h == 0 and obj < best_obj:
                best_obj = obj
                best[:, :] = x
                found += 1
        else:
            for i in range(m - 1, -1, -1):
                set_cell(x, cnt, cells_e[i], cells_d[i], old[i], cellcost, row_ptr, rows,
                         qual, req, wu, wo)
    state[0], state[1], state[2] = obj, total_h, best_obj
    return found
