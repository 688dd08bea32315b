"""The ``repertory`` command."""
