"""The ebill portal: server-rendered pages for payers, issuing units and finance.

It reaches the chain only through the ebill service's HTTP API, with the API key of the
signed-in portal user's API client (``ebill_portal.api``).
"""
