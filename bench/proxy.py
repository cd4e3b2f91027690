"""nginx in front of `idp serve`, as in production: scripts/reverse_proxy.py, shared with
`make cluster` (scripts/cluster.py) and its tests. The benches run as scripts with bench/
on sys.path and `import proxy`; this module gives them the shared one.

It is loaded from its file, not by putting the checkout first on sys.path: that would
hide the `idp` that side_by_side.py hands a bench through PYTHONPATH (the before tree).

Used by oidc_bench.py and saml_bench.py with `--proxy` (Debian package `nginx-light`,
which `make bench` installs)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_FILE = Path(__file__).resolve().parent.parent / "scripts" / "reverse_proxy.py"
_spec = importlib.util.spec_from_file_location("reverse_proxy", _FILE)
reverse_proxy = importlib.util.module_from_spec(_spec)
sys.modules["reverse_proxy"] = reverse_proxy
_spec.loader.exec_module(reverse_proxy)

Nginx, available, free_port = reverse_proxy.Nginx, reverse_proxy.available, reverse_proxy.free_port

__all__ = ["Nginx", "available", "free_port"]
