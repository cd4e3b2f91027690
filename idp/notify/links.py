"""Absolute links for messages, built from BASE_URL (never from the request's Host)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """`url_for(endpoint, **values)` made absolute on the configured BASE_URL.

    Works without a request (the worker, the CLI) and ignores the Host header of the
    request being served, so a forged Host cannot redirect a family's link."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
