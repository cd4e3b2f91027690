"""The console's blueprint, on its own so the view modules import it without importing the
package that registers them (no cycle between console/__init__.py and its views)."""
from __future__ import annotations

from flask import Blueprint

from . import guard

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(guard.check_request)  # once, at import: several apps share the blueprint
