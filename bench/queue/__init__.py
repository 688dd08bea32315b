"""bench/queue: repertory's job path side by side with Dramatiq, Celery, RQ, taskiq and Huey.

Entry point: ``bench/queue/run.py``. Worker-side modules (``tasks_*.py``, ``rep_actors.py``)
are imported by the peers' own worker commands; client-side adapters are ``sys_*.py``.
"""
