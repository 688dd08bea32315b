"""Outbound HTTP that cannot be aimed inside the network: the address rules (``netguard``) and
the httpx transport that resolves, checks and pins every connection (``transport``).

Used by the scraper, completion webhooks and HTTP jobs.
"""
