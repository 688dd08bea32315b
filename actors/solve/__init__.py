"""Staff rostering on OR-tools CP-SAT (queue ``solve``).

Pure modules, callable without a broker:

* :mod:`actors.solve.schema` — the problem, options, progress and result models (pydantic).
* :mod:`actors.solve.reader` — the Shift Scheduling Benchmark text format (Curtois & Qu).
* :mod:`actors.solve.limits` — problem size and the limits from settings.
* :mod:`actors.solve.constraints` — the CP-SAT model; :mod:`actors.solve.flow` — its per-staff
  network-flow encoding of the run/weekend rules; :mod:`actors.solve.windows` — window cuts.
* :mod:`actors.solve.model` — :func:`actors.solve.model.solve`: CP-SAT's exact search beside
  a primal thread (a first roster, column generation and dives, then the staff/day LNS of
  :mod:`actors.solve.lns`), sharing one checked incumbent and one bound (a stalled exact
  search with a wide gap hands its core to a second LNS).
* :mod:`actors.solve.colgen` — column generation over whole schedules: a Lagrangian bound far
  tighter than CP-SAT's on large instances, and reduced costs that guide the LNS;
  :mod:`actors.solve.pricing` prices by dynamic programming (numba kernels in
  :mod:`actors.solve._pricing_kernels`); :mod:`actors.solve.dive` turns the LP into rosters.
* :mod:`actors.solve.checker` — an independent checker of rosters and objectives.

Nothing here imports OR-tools at package import time.
"""
