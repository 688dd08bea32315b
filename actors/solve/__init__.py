"""Staff rostering on OR-tools CP-SAT (queue ``solve``).

Pure modules, callable without a broker:

* :mod:`actors.solve.schema` — the problem, options, progress and result models (pydantic).
* :mod:`actors.solve.reader` — the Shift Scheduling Benchmark text format (Curtois & Qu).
* :mod:`actors.solve.limits` — problem size and the limits from settings.
* :mod:`actors.solve.model` — the CP-SAT model and :func:`actors.solve.model.solve`.
* :mod:`actors.solve.checker` — an independent checker of rosters and objectives.

Nothing here imports OR-tools at package import time.
"""
