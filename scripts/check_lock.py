"""requirements.lock against pyproject.toml: the lock records a digest of what
pyproject.toml asks for ([project] dependencies, optional dependencies, requires-python);
`make test` and `make run` stop with one line when they differ (`make lock` refreshes).

    python scripts/check_lock.py           # exit 1 with one line when out of date
    python scripts/check_lock.py --stamp   # after `uv pip compile`: write the digest
"""
from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PREFIX = "# pyproject-sha256: "


def wanted_digest(pyproject: Path = ROOT / "pyproject.toml") -> str:
    project = tomllib.loads(pyproject.read_text())["project"]
    asked = {"dependencies": sorted(project.get("dependencies", [])),
             "optional": {k: sorted(v) for k, v in
                          project.get("optional-dependencies", {}).items()},
             "python": project.get("requires-python")}
    return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()


def recorded_digest(lock: Path = LOCK) -> str | None:
    if not lock.exists():
        return None
    for line in lock.read_text().splitlines():
        if line.startswith(PREFIX):
            return line[len(PREFIX):].strip()
    return None


def problem(lock: Path = LOCK, pyproject: Path = ROOT / "pyproject.toml") -> str | None:
    if not lock.exists():
        return f"{lock.name} is missing: run `make lock`"
    recorded = recorded_digest(lock)
    if recorded is None:
        return f"{lock.name} has no pyproject digest: run `make lock`"
    if recorded != wanted_digest(pyproject):
        return (f"{lock.name} is out of date with pyproject.toml (its dependencies "
                "changed): run `make lock`")
    return None


def stamp(lock: Path = LOCK) -> None:
    lines = [l for l in lock.read_text().splitlines() if not l.startswith(PREFIX)]
    lines.insert(0, PREFIX + wanted_digest())
    lock.write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    if "--stamp" in argv:
        stamp()
        return 0
    reason = problem()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
