"""The one binding mechanism: a step form carries a digest of what it was shown for
(the pending request and account, or the sign-up transaction). A form replayed, forged,
kept open across a sign-out or from an older transaction does not carry the current
one, and is refused before anything is written."""
from __future__ import annotations

import hashlib
import hmac

from flask import request

BINDING_FIELD = "flow"


def bind(*parts: str) -> str:
    """A digest of `parts`, never the raw values (they name server-side state)."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def binding_matches(expected: str) -> bool:
    """Whether this POST carries `expected` in its binding field (constant time)."""
    sent = request.form.get(BINDING_FIELD, "")
    return hmac.compare_digest(sent.encode(), expected.encode())
