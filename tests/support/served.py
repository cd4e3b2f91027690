"""Real processes over real HTTP for interoperability tests.

`serve_idp(settings)` starts the IdP the way production does (gunicorn, 2 workers, cwd at
the project root) with the test settings passed as IDP_* environment variables, waits for
its discovery document, and stops it afterwards. `serve_rp(...)` does the same for a demo
relying party (`python -m clients.ent`). `served_idp` is a session-scoped fixture around
`serve_idp`; tests/interop/conftest.py exposes it to the interop tests.

The served IdP shares the test database (signing keys included) and store with the in-process app,
so the `make` fixture's rows (committed) and `clean_state` apply to it too. Only the
issuer differs: the served one is http://127.0.0.1:<its port>.
"""
from __future__ import annotations

import json
import os
from html.parser import HTMLParser
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from idp.config import PROJECT_ROOT, _parse_env_value

from . import signin

STARTUP_SECONDS = 40


@dataclass
class Served:
    """A running server process and where to reach it."""
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the process output, for assertion messages."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _toml(value, in_list: bool = False) -> str:
    """A value as idp.config._parse_env_value reads it back (a TOML scalar or list)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v, in_list=True) for v in value) + "]"
    text = str(value)
    # A bare string stays bare unless TOML would read it as something else ("1", "true").
    if not in_list and _parse_env_value(text) == text:
        return text
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def settings_env(settings: dict, **extra) -> dict[str, str]:
    """The process environment for an IdP configured like the in-process test app.

    Inherited IDP_* variables are dropped: the served IdP must see the test settings only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    for key, value in {**settings, **extra}.items():
        if value is not None:
            env["IDP_" + key] = _toml(value)
    return env


def _wait_until_ready(served: Served, probe: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(f"{served.url} exited with {served.process.returncode}:\n"
                               f"{served.log_tail()}")
        try:
            if requests.get(served.url + probe, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    _stop(served.process)
    raise RuntimeError(f"{served.url}{probe} did not answer in {timeout}s:\n{served.log_tail()}")


def _stop(process: subprocess.Popen) -> None:
    """Terminate, then kill if it does not stop (gunicorn stops its workers on TERM)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def _run(cmd: list[str], env: dict, port: int, probe: str, log_path: Path,
         timeout: float = STARTUP_SECONDS) -> Iterator[Served]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        # Output to a file, not a pipe: a full pipe buffer would block the server.
        process = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    served = Served(f"http://127.0.0.1:{port}", port, process, log_path)
    try:
        _wait_until_ready(served, probe, timeout)
        yield served
    finally:
        _stop(process)


@contextmanager
def serve_idp(settings: dict, log_dir: Path, *, workers: int = 2,
              port: int | None = None, **extra) -> Iterator[Served]:
    """The IdP under gunicorn on 127.0.0.1, configured from the test `settings`."""
    port = port or free_port()
    env = settings_env(settings, ISSUER=f"http://127.0.0.1:{port}", WORKERS=workers, **extra)
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "--graceful-timeout", "5", "wsgi:app"]
    with _run(cmd, env, port, "/.well-known/openid-configuration",
              log_dir / f"idp-{port}.log") as served:
        yield served


def deliver_outbox(settings: dict, served: Served, *channels: str) -> dict:
    """One `idp worker --once` pass as the served IdP (its issuer signs the logout
    tokens): what a running worker does after a logout. Only `channels` when given."""
    env = settings_env(settings, ISSUER=served.url)
    cmd = [sys.executable, "-c", "from idp.cli import main; main()", "worker", "--once",
           "--json", *[f"--channel={c}" for c in channels]]
    done = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@contextmanager
def serve_rp(module: str, *, port: int, issuer: str, clients_file: str | Path,
             log_dir: Path) -> Iterator[Served]:
    """A demo relying party (`clients.ent`, `clients.pronote`) talking to `issuer`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env.update(IDP_ISSUER=issuer, DEMO_CLIENTS_FILE=str(clients_file), PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", module, "--port", str(port)]
    with _run(cmd, env, port, "/", log_dir / f"{module}-{port}.log") as served:
        yield served


@contextmanager
def demo_relying_parties(app, served_idp: Served, monkeypatch, log_dir: Path):
    """`idp demo load` with the ENT, PRONOTE and Téléservices (SAML) demo RPs at free
    ports, all started.

    Yields (urls by name, the load_demo summary). load_demo gives the clients new secrets,
    which the RP processes read from the clients file when they start."""
    from contextlib import ExitStack

    from idp.admin.demo import load_demo
    from idp.db import db

    urls = {"ENT": f"http://127.0.0.1:{free_port()}",
            "PRONOTE": f"http://127.0.0.1:{free_port()}",
            "Téléservices": f"http://127.0.0.1:{free_port()}"}
    monkeypatch.setenv("DEMO_ENT_URL", urls["ENT"])
    monkeypatch.setenv("DEMO_PRONOTE_URL", urls["PRONOTE"])
    # The SAML SP's key and metadata: registered here, read by its process below.
    monkeypatch.setenv("DEMO_TELESERVICES_URL", urls["Téléservices"])
    monkeypatch.setenv("TELESERVICES_DIR", str(log_dir / "teleservices"))
    with app.app_context():
        summary = load_demo()
        db.session.commit()
    with ExitStack() as stack:
        for name, module in (("ENT", "clients.ent"), ("PRONOTE", "clients.pronote"),
                             ("Téléservices", "clients.teleservices")):
            stack.enter_context(serve_rp(
                module, port=urlsplit(urls[name]).port, issuer=served_idp.url,
                clients_file=summary["clients_file"], log_dir=log_dir))
        yield urls, summary


class _Forms(HTMLParser):
    """The forms of a page: action, method and the values of their inputs."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "",
                               "method": (attrs.get("method") or "get").lower(), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            if attrs.get("type") not in ("radio", "checkbox") or "checked" in attrs:
                self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


class HttpBrowser:
    """A family's browser over real HTTP: a requests.Session whose redirects are followed
    one by one, so a test can stop at a redirect URI nothing listens on, and which fills
    and submits the forms of the page it is on (CSRF token and hidden fields included)."""

    def __init__(self):
        self.http = requests.Session()
        self.url: str | None = None       # where the browser is (or stopped)
        self.page: requests.Response | None = None
        self.history: list[str] = []      # every URL requested, in order
        self._stop_at: str | None = None

    def _follow(self, response: requests.Response, stop_at: str | None, limit: int = 20):
        for _ in range(limit):
            if response.status_code not in (301, 302, 303, 307, 308):
                break
            target = urljoin(response.url, response.headers["Location"])
            self.url = target
            if stop_at and target.startswith(stop_at):
                self.page = None
                return None
            self.history.append(target)
            response = self.http.get(target, allow_redirects=False, timeout=15)
        self.url, self.page = response.url, response
        return response

    def open(self, url: str, stop_at: str | None = None):
        """GET and follow redirects; None when stopped at `stop_at` (see self.url)."""
        self.history.append(url)
        return self._follow(self.http.get(url, allow_redirects=False, timeout=15), stop_at)

    def submit(self, fields: dict | None = None, index: int = 0, stop_at: str | None = None):
        """Submit the index-th form of the current page with its hidden values + `fields`."""
        assert self.page is not None, f"no page to submit a form on (at {self.url})"
        forms = _Forms(self.page.text).forms
        assert len(forms) > index, f"no form #{index} on {self.url}:\n{self.page.text[:2000]}"
        form = forms[index]
        action = urljoin(self.page.url, form["action"] or self.page.url)
        data = {**form["fields"], **(fields or {})}
        self.history.append(action)
        if form["method"] == "post":
            response = self.http.post(action, data=data, allow_redirects=False, timeout=15)
        else:
            response = self.http.get(action, params=data, allow_redirects=False, timeout=15)
        return self._follow(response, stop_at)

    # The two calls tests.support.signin.walk drives a browser with.
    def where(self) -> str | None:
        """The path of the page on screen; None when stopped at `stop_at` or on an error."""
        if self.page is None or self.page.status_code != 200:
            return None
        return urlsplit(self.url).path

    def answer(self, path: str, fields: dict) -> None:
        self.submit(fields, stop_at=self._stop_at)

    def sign_in(self, url: str, identifier: str | None = None, password: str | None = None,
                *, stop_at: str | None = None, profile: str = "parent",
                academy: str = "nancy-metz"):
        """Open `url` and go through the IdP's pages (WAYF, sign-in form, the step pages)
        like a family: the one sign-in driver of tests.support.signin, over HTTP."""
        self.open(url, stop_at=stop_at)
        self._stop_at = stop_at
        page = signin.walk(self, signin.Answers(identifier, password, profile, academy,
                                                wayf=True))
        assert password is not None or self.where() != signin.SIGN_IN, \
            "the IdP asked for a password again"
        return page

    def through_steps(self, stop_at: str | None = None):
        """Answer the step pages from the current page on (tests.support.signin)."""
        self._stop_at = stop_at
        return signin.walk(self, signin.Answers())

    def visited(self, path: str) -> bool:
        return any(urlsplit(u).path == path for u in self.history)


@pytest.fixture(scope="session")
def served_idp(settings, tmp_path_factory) -> Iterator[Served]:
    """One IdP process for the whole session (tests share it; clean_state resets data)."""
    with serve_idp(settings, tmp_path_factory.mktemp("served")) as served:
        yield served
