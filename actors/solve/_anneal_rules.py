"""numba kernels that score one member's hard rules for :mod:`actors.solve._anneal_kernels`.

A member's violation counts the whole steps (shifts or days) by which each rule is broken; it is
0 exactly when the checker finds the schedule valid (tested against it). It splits in two:

- **local** (:func:`local_violation`): a day's shift is not allowed, a change of shift is
  forbidden, a run of shifts or days off is too long or too short. These see only nearby days,
  so a move that changes days ``lo..hi`` changes only the maximal runs around them: the window
  :func:`window` returns starts and ends at run boundaries that the move cannot shift (the cells
  just outside it are unchanged), and the window's local violation before and after the move
  gives the change.
- **global** (:func:`global_violation`): caps per shift type, total minutes, weekends worked,
  scored from per-member tallies that :func:`touch` keeps up to date cell by cell.

:func:`violation` is the whole-row sum of both, from scratch: the annealer's starting point and
the recount its tracked values are tested against.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True)
def violation(row, allowed, forbid, length, unit, tmin, tmax, maxc, minc, minoff, weekend,
              maxw, caps, counts):
    """How far one member's schedule is from valid: 0 when every hard rule holds. ``counts``
    is scratch of one entry per shift type."""
    tot, wk, last_w = 0, 0, -1
    counts[:] = 0
    for d in range(len(row)):
        s = row[d]
        if s >= 0:
            counts[s] += 1
            tot += length[s]
            if weekend[d] >= 0 and weekend[d] != last_w:
                wk += 1
                last_w = weekend[d]
    return (local_violation(row, allowed, forbid, 0, len(row) - 1, maxc, minc, minoff)
            + global_violation(counts, tot, wk, unit, tmin, tmax, maxw, caps))


@njit(cache=True, nogil=True)
def local_violation(row, allowed, forbid, lo, hi, maxc, minc, minoff):
    """The local rules' violation on days ``lo..hi``, which must start and end maximal runs
    (a run cut by the horizon's edge has no minimum length)."""
    h, start, working = 0, lo, row[lo] >= 0
    for d in range(lo, hi + 1):
        s = row[d]
        if s >= 0:
            if not allowed[d, s]:
                h += 1
            if d > lo and row[d - 1] >= 0 and forbid[row[d - 1], s]:
                h += 1
        if d > lo and (s >= 0) != working:
            h += _run(working, d - start, start > 0, True, maxc, minc, minoff)
            start, working = d, s >= 0
    return h + _run(working, hi + 1 - start, start > 0, hi + 1 < len(row), maxc, minc, minoff)


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
def window(row, lo, hi):
    """The days around ``lo..hi`` whose local violation a change there can alter: from the
    start of the run holding ``lo - 1`` to the end of the run holding ``hi + 1``."""
    days, left, right = len(row), lo, hi
    if lo > 0:
        left, w = lo - 1, row[lo - 1] >= 0
        while left > 0 and (row[left - 1] >= 0) == w:
            left -= 1
    if hi < days - 1:
        right, w = hi + 1, row[hi + 1] >= 0
        while right < days - 1 and (row[right + 1] >= 0) == w:
            right += 1
    return left, right


@njit(cache=True, nogil=True)
def global_violation(counts, tot, wk, unit, tmin, tmax, maxw, caps):
    """The violation of the rules over the whole horizon, from a member's tallies."""
    h = 0
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
def touch(e, d, o, n, scnt, tot, wkc, wk, length, weekend):
    """Member ``e``'s tallies after cell (e, d) goes from ``o`` to ``n`` (-1: off)."""
    w = weekend[d]
    if o >= 0:
        scnt[e, o] -= 1
        tot[e] -= length[o]
        if w >= 0:
            wkc[e, w] -= 1
            if wkc[e, w] == 0:
                wk[e] -= 1
    if n >= 0:
        scnt[e, n] += 1
        tot[e] += length[n]
        if w >= 0:
            if wkc[e, w] == 0:
                wk[e] += 1
            wkc[e, w] += 1
