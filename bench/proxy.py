"""nginx in front of `idp serve`, as in production: scripts/reverse_proxy.py, shared with
`make cluster` (scripts/cluster.py) and its tests. The benches run as scripts with bench/
on sys.path and `import proxy`; this module gives them the shared one.

Used by oidc_bench.py and saml_bench.py with `--proxy` (Debian package `nginx-light`,
which `make bench` installs)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.reverse_proxy import Nginx, available, free_port  # noqa: E402

__all__ = ["Nginx", "available", "free_port"]
