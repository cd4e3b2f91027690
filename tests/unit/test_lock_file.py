"""requirements.lock (issue 16, point 4): installs are exactly what was tested, with
hashes; a lock out of date with pyproject.toml stops `make test` with one line."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

from idp.config import PROJECT_ROOT

LOCK = PROJECT_ROOT / "requirements.lock"


def _pins() -> dict[str, str]:
    return {m.group(1).lower(): m.group(2)
            for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", LOCK.read_text(), re.M)}


def test_the_lock_pins_every_package_with_hashes():
    text = LOCK.read_text()
    pins = _pins()
    for name in ("flask", "authlib", "pysaml2", "gunicorn", "lxml", "xmlsec", "joserfc",
                 "prometheus-client", "pytest"):
        assert name in pins, name
    # Every requirement carries at least one sha256 (pip --require-hashes refuses otherwise).
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text.split("\n", 3)[-1])
    for block in blocks:
        if "==" in block.splitlines()[0]:
            assert "--hash=sha256:" in block, block.splitlines()[0]


def test_lxml_and_xmlsec_are_the_pair_this_code_was_tested_with():
    """Their bundled libxml2 versions must agree (else `import xmlsec` fails): the lock
    keeps the pair that imports together here."""
    import lxml
    import xmlsec  # noqa: F401 - the import itself is the check

    assert _pins()["lxml"] == lxml.__version__


def test_the_committed_lock_matches_pyproject():
    sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
    try:
        import check_lock
    finally:
        sys.path.pop(0)
    assert check_lock.problem() is None


def test_a_stale_lock_fails_with_one_line(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(PROJECT_ROOT / "scripts" / "check_lock.py", tmp_path / "scripts")
    shutil.copy(LOCK, tmp_path / "requirements.lock")
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(pyproject)
    run = lambda: subprocess.run([sys.executable, "scripts/check_lock.py"], cwd=tmp_path,  # noqa: E731
                                 capture_output=True, text=True)
    assert run().returncode == 0
    # A change elsewhere in pyproject.toml (the import contracts) does not make it stale.
    (tmp_path / "pyproject.toml").write_text(pyproject + "\n# a comment\n")
    assert run().returncode == 0
    (tmp_path / "pyproject.toml").write_text(pyproject.replace(
        '"Flask>=3.0",', '"Flask>=3.0",\n  "six>=1.16",', 1))
    result = run()
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == ("requirements.lock is out of date with pyproject.toml (its "
                             "dependencies changed): run `make lock`\n")
    (tmp_path / "requirements.lock").unlink()
    assert run().stderr == "requirements.lock is missing: run `make lock`\n"
