"""Which endpoint promptls talks to, and the identity cached answers are bound to.

The base URL comes from `ANTHROPIC_BASE_URL`, else the user config's `base_url` (never a repository's:
config.USER_ONLY), else the API's own. Counts, model limits and the estimator's calibration learned
from one endpoint are never used for another: a fake or hostile endpoint cannot poison other projects.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

DEFAULT_BASE_URL = "https://api.anthropic.com"


def resolve_base_url(user_base_url: str | None = None) -> str | None:
    """`ANTHROPIC_BASE_URL`, else the user config's `base_url`, else None (the SDK's default)."""
    return (os.environ.get("ANTHROPIC_BASE_URL") or "").strip() or user_base_url or None


def endpoint_id(base_url: str | None) -> str:
    """A normalised `scheme://host:port/path` for `base_url` (None: the API's own)."""
    url = (base_url or DEFAULT_BASE_URL).strip()
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        scheme = parts.scheme.lower()
        port = parts.port or {"https": 443, "http": 80}.get(scheme, 0)
        host = (parts.hostname or "").lower()
    except ValueError:  # an unparsable URL is its own identity
        return url
    return f"{scheme}://{host}:{port}{parts.path.rstrip('/')}"
