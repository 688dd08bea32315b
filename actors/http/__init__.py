"""HTTP jobs (queue ``http``): call a team's endpoint at a set time, with a timeout, retries
and an attempt history, through the same SSRF-guarded transport as the scraper.

Pure call logic in ``call.py``; the per-process loop in ``runtime.py``; the actor in
``actor.py``.
"""
