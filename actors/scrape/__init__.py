"""Scrape pool: SSRF-safe polite fetching and company-data extraction.

Pure modules only; the Dramatiq actor lives in ``actor.py``. Entry points: ``crawl.scrape_domain``,
``crawl.scrape_many`` and ``domains.normalise_domains``.
"""
