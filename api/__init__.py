"""The HTTP API: ``create_app()`` in ``api.main``."""
