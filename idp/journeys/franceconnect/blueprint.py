"""The FranceConnect journey's blueprint, on its own so its view modules share it without
importing each other."""
from __future__ import annotations

from flask import Blueprint

from ...signin.gate import allow
from ...upstream import franceconnect as upstream

bp = Blueprint("franceconnect", __name__, url_prefix="/franceconnect")
bp.record_once(lambda state: upstream.init_app(state.app))
allow("franceconnect.start", "franceconnect.callback", "franceconnect.logged_out",
      "franceconnect.phone", "franceconnect.code", "franceconnect.resend",
      "franceconnect.pupils", "franceconnect.password", "franceconnect.stopped")
