"""numba kernels of :mod:`actors.solve.pricing` (imported only when a DP pricer is built)."""

from __future__ import annotations

import numpy as np
from numba import njit

NONE = -2
OFF = -1


@njit(cache=True, nogil=True)
def extend(d, last, run, start, tot, wk, cnt, cost, w, allowed, allow_off, forbid, units,
           tmin, tmax, rest, maxc, minc, minoff, weekend, maxw, track, caps, klass, ahead,
           umin, below):
    """Every valid one-day extension of every label: the candidates' fields, their parent
    label and the action taken (shift index, or OFF). A label's ``last`` is ``klass`` of the
    shift worked: shifts with the same successors share one (their labels then compete).
    A candidate whose cost plus ``ahead[r]`` (the most the days after ``d`` can lower it with
    at most ``r`` more shifts, ``r`` from its minutes left over ``umin``) is not below
    ``below`` is dropped: none of its schedules can cost less."""
    n, n_shifts = len(cost), len(units)
    size = n * (n_shifts + 1)
    o_last = np.empty(size, np.int64)
    o_run = np.empty(size, np.int64)
    o_start = np.empty(size, np.int64)
    o_tot = np.empty(size, np.int64)
    o_wk = np.empty(size, np.int64)
    o_cnt = np.empty((size, cnt.shape[1]), np.int64)
    o_cost = np.empty(size)
    o_parent = np.empty(size, np.int64)
    o_act = np.empty(size, np.int64)
    m = 0
    for i in range(n):
        li, ri, si, ti = last[i], run[i], start[i], tot[i]
        if allow_off and (li < 0 or si == 1 or ri >= minc) and ti + rest >= tmin and (
                cost[i] + ahead[min((tmax - ti) // umin, len(ahead) - 1)] < below):
            o_last[m] = OFF
            if li == OFF:
                o_run[m] = min(ri + 1, minoff)
                o_start[m] = si
            else:
                o_run[m] = 1
                o_start[m] = 1 if li == NONE else 0
            o_tot[m], o_wk[m], o_cost[m] = ti, wk[i], cost[i]
            o_cnt[m, :] = cnt[i, :]
            o_parent[m], o_act[m] = i, OFF
            m += 1
        for s in range(n_shifts):
            if not allowed[s]:
                continue
            t2 = ti + units[s]
            if t2 > tmax or t2 + rest < tmin:
                continue
            if li >= 0:
                if forbid[li, s] or ri + 1 > maxc:
                    continue
                r2, s2 = ri + 1, si
            elif li == OFF:
                if si == 0 and ri < minoff:
                    continue
                r2, s2 = 1, 0
            else:
                r2, s2 = 1, 1
            w2 = wk[i]
            if maxw >= 0 and weekend[d] >= 0 and not (
                    li >= 0 and d > 0 and weekend[d - 1] == weekend[d]):
                w2 += 1
                if w2 > maxw:
                    continue
            k = track[s]
            if k >= 0 and cnt[i, k] + 1 > caps[k]:
                continue
            if cost[i] + w[s] + ahead[min((tmax - t2) // umin, len(ahead) - 1)] >= below:
                continue
            o_last[m], o_run[m], o_start[m], o_tot[m], o_wk[m] = klass[s], r2, s2, t2, w2
            o_cnt[m, :] = cnt[i, :]
            if k >= 0:
                o_cnt[m, k] += 1
            o_cost[m] = cost[i] + w[s]
            o_parent[m], o_act[m] = i, s
            m += 1
    return (o_last[:m], o_run[:m], o_start[:m], o_tot[:m], o_wk[:m], o_cnt[:m], o_cost[:m],
            o_parent[:m], o_act[:m])


@njit(cache=True, nogil=True)
def prune(last, run, start, tot, wk, cnt, cost, n_shifts, runcap, minoff, tmax, beam):
    """Indexes of the candidates no other candidate dominates: same last shift, run, start
    flag and minutes (the key, by counting sort), and no more cost, weekends or count of any
    tracked type (ties: the first one stays). ``beam`` > 0 keeps at most that many of a key's
    undominated labels, the cheapest (a heuristic DP: every schedule it returns is valid, but
    it may miss the optimum or, rarely, every schedule)."""
    n = len(cost)
    span_run = max(runcap, minoff) + 1
    n_keys = (n_shifts + 2) * span_run * 2 * (tmax + 1)
    key = np.empty(n, np.int64)
    head = np.zeros(n_keys + 1, np.int64)
    for i in range(n):
        key[i] = (((last[i] + 2) * span_run + run[i]) * 2 + start[i]) * (tmax + 1) + tot[i]
        head[key[i] + 1] += 1
    for b in range(n_keys):
        head[b + 1] += head[b]
    fill = head[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        order[fill[key[i]]] = i
        fill[key[i]] += 1
    keep = np.empty(n, np.int64)
    m = 0
    n_track = cnt.shape[1]
    simple = n_track == 0 and (n == 0 or wk.max() == wk.min())
    for b in range(n_keys):
        lo, hi = head[b], head[b + 1]
        if hi - lo == 0:
            continue
        if simple or hi - lo == 1:
            best = order[lo]
            for q in range(lo + 1, hi):
                if cost[order[q]] < cost[best]:
                    best = order[q]
            keep[m] = best
            m += 1
            continue
        members = order[lo:hi]
        members = members[np.argsort(cost[members], kind="mergesort")]
        first = m
        for i in members:  # cheapest first: only a kept label can dominate
            dominated = False
            for q in range(first, m):
                j = keep[q]
                if wk[j] > wk[i]:
                    continue
                better = True
                for c in range(n_track):
                    if cnt[j, c] > cnt[i, c]:
                        better = False
                        break
                if better:
                    dominated = True
                    break
            if not dominated:
                keep[m] = i
                m += 1
                if beam > 0 and m - first >= beam:
                    break
    return np.sort(keep[:m])


@njit(cache=True, nogil=True)
def lookahead(w, allowed):
    """``out[d, r]``: the sum of the ``r`` most negative day values after day ``d`` (a day's
    value: its cheapest allowed shift's weight, or 0), a lower bound on what at most ``r``
    more shifts can add to a label's cost once day ``d`` is set (days off add nothing)."""
    days, n_shifts = allowed.shape
    value = np.zeros(days)
    for d in range(days):
        for s in range(n_shifts):
            if allowed[d, s] and w[d, s] < value[d]:
                value[d] = w[d, s]
    out = np.zeros((days, days + 1))
    for d in range(days):
        after = np.sort(value[d + 1:])
        for r in range(1, days + 1):
            out[d, r] = out[d, r - 1] + (after[r - 1] if r - 1 < len(after) else 0.0)
    return out


@njit(cache=True, nogil=True)
def run_dp(w, allowed, allow_off, forbid, units, tmin, tmax, rest, maxc, minc, minoff, weekend,
           maxw, track, caps, k, beam, klass, below):
    """The whole label-setting DP: up to ``k`` cheapest schedules costing less than ``below``
    as rows of ``paths`` (shift index per day, OFF for a day off) and their costs; empty when
    no schedule is valid (or none costs less). ``klass[s]``: the shift whose successors ``s``
    has (see :func:`extend`)."""
    days, n_shifts = allowed.shape
    ahead = (lookahead(w, allowed) if below < np.inf
             else np.full((days, 2), -np.inf))  # (no bound: nothing is dropped)
    umin = tmax + 1
    for s in range(n_shifts):
        if units[s] > 0 and units[s] < umin:
            umin = units[s]
    n_track = len(caps)
    last = np.full(1, NONE, np.int64)
    run = np.zeros(1, np.int64)
    start = np.ones(1, np.int64)
    tot = np.zeros(1, np.int64)
    wk = np.zeros(1, np.int64)
    cnt = np.zeros((1, n_track), np.int64)
    cost = np.zeros(1)
    parents = []
    acts = []
    runcap = max(maxc, minc)
    for d in range(days):
        c = extend(d, last, run, start, tot, wk, cnt, cost, w[d], allowed[d], allow_off[d],
                   forbid, units, tmin, tmax, rest[d], maxc, minc, minoff, weekend, maxw,
                   track, caps, klass, ahead[d], umin, below)
        keep = prune(c[0], c[1], c[2], c[3], c[4], c[5], c[6], n_shifts, runcap,
                     minoff, tmax, beam)
        last, run, start, tot, wk = c[0][keep], c[1][keep], c[2][keep], c[3][keep], c[4][keep]
        cnt, cost = c[5][keep], c[6][keep]
        parents.append(c[7][keep])
        acts.append(c[8][keep])
        if len(cost) == 0:
            return np.empty((0, days), np.int64), np.empty(0)
    order = np.argsort(cost, kind="mergesort")[:k]
    paths = np.empty((len(order), days), np.int64)
    for r in range(len(order)):
        i = order[r]
        for d in range(days - 1, -1, -1):
            paths[r, d] = acts[d][i]
            i = parents[d][i]
    return paths, cost[order]
