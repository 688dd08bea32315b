"""Schedules: code-defined and user-defined, sent by one leader among any number of schedulers.

``model`` (what a schedule is), ``timing`` (its ticks, pure), ``lease`` (the leader lease and
its fencing token), ``ledger`` (the fenced record of each send, and the runs kept per
schedule), ``store`` (definitions and state in Redis), ``runner`` (the loop ``repertory
scheduler`` runs), ``code`` (the schedules fixed in code).
"""
