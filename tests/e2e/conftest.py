"""Browser tests: Playwright drives Debian's Chromium (headless) through the served IdP and
the demo relying parties, as a family would on a phone and on a computer.

Every page a test visits goes through `family.check()`: axe-core (npm package, see
package.json) audits it at desktop width and at 320 px, a 320 px page must not scroll
sideways, and the page must not break the Content-Security-Policy (a violation would mean
an inline script or style). Serious and critical axe violations fail the test.

Chromium and axe-core are installed by `make test`. Outside CI a missing one skips these
tests with the reason; with CI=true it fails them, so they never vanish silently.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from idp.config import PROJECT_ROOT
from tests.support.served import demo_relying_parties

CHROMIUM = Path(os.environ.get("IDP_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 320, "height": 640}
BLOCKING = ("serious", "critical")
# One file per pytest-xdist worker (they would overwrite each other).
REPORT = PROJECT_ROOT / "var" / "e2e" / (
    f"axe-report-{os.environ['PYTEST_XDIST_WORKER']}.json"
    if os.environ.get("PYTEST_XDIST_WORKER") else "axe-report.json")

pytestmark = pytest.mark.e2e


_SKIPPED: list[str] = []


def _missing(what: str) -> None:
    message = f"{what} (run `make test`, which installs it)"
    if os.environ.get("CI"):
        pytest.fail("browser tests cannot run in CI: " + message)
    if message not in _SKIPPED:
        _SKIPPED.append(message)
    pytest.skip("browser tests skipped: " + message)


def pytest_terminal_summary(terminalreporter):
    """Said out loud at the end of the run, not only as an 's' among the dots."""
    for message in _SKIPPED:
        terminalreporter.write_line(f"BROWSER TESTS SKIPPED: {message}", yellow=True, bold=True)


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        _missing(f"axe-core is not installed ({AXE.relative_to(PROJECT_ROOT)})")
    return AXE.read_text()


@pytest.fixture(scope="session")
def axe_report():
    """Every audited page and what axe found there, written to var/e2e/axe-report.json."""
    pages: list[dict] = []
    yield pages
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(pages, indent=1, ensure_ascii=False))


class Family:
    """One browser context (one family's device) with the page it is looking at."""

    def __init__(self, context, axe_source: str, report: list[dict], axe: bool = True):
        self.context = context
        self.axe = axe
        self.page = context.new_page()
        self.axe_source = axe_source
        self.report = report
        self.problems: list[str] = []
        self.csp_errors: list[str] = []
        self.audited: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp_errors.append(f"{self.page.url}: {message.text}")

    @property
    def path(self) -> str:
        return urlsplit(self.page.url).path

    def goto(self, url: str):
        response = self.page.goto(url)
        self.check()
        return response

    def _axe(self, label: str) -> list[dict]:
        # Evaluated through the DevTools protocol, which the page's CSP does not govern;
        # the journey itself runs with the CSP enforced.
        self.page.evaluate(self.axe_source)
        result = self.page.evaluate(
            """async () => {
                 const r = await axe.run(document, {resultTypes: ['violations']});
                 return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
               }""")
        self.report.append({"url": self.page.url, "width": label, "violations": result})
        return result

    def check(self) -> None:
        """axe at desktop width and at 320 px, no sideways scrolling at 320 px."""
        self.page.wait_for_load_state("load")
        where = self.page.url
        self.audited.append(where)
        size = self.page.viewport_size
        for label, viewport in (("desktop", DESKTOP), ("320px", PHONE)):
            self.page.set_viewport_size(viewport)
            for v in (self._axe(label) if self.axe else []):
                if v["impact"] in BLOCKING:
                    self.problems.append(f"{where} [{label}] axe {v['impact']} {v['id']}: "
                                         f"{v['help']} -> {v['nodes']}")
            if label == "320px":
                width = self.page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE["width"] + 1:
                    self.problems.append(f"{where} [320px] scrolls sideways ({width}px wide)")
        self.page.set_viewport_size(size)

    # Actions that land on a new page, checked on arrival.
    def click(self, selector: str, **kwargs) -> None:
        with self.page.expect_navigation():
            self.page.click(selector, **kwargs)
        self.check()

    def submit(self, fields: dict[str, str] | None = None, button: str = "main button[type=submit]"):
        for label, value in (fields or {}).items():
            self.page.get_by_label(label, exact=True).fill(value)
        self.click(button)

    def double_submit(self, button: str = "main button[type=submit]") -> None:
        """Two quick clicks on the button, as an impatient thumb does. Waits for the page
        the browser ends on: without JavaScript the second submission aborts the first
        one's navigation (net::ERR_ABORTED, which expect_navigation raised now and then),
        and only a navigation that commits fires framenavigated."""
        main = self.page.main_frame
        with self.page.expect_event("framenavigated", predicate=lambda frame: frame == main):
            self.page.dblclick(button, no_wait_after=True)
        self.page.wait_for_load_state("load")
        self.check()

    def text(self) -> str:
        return self.page.inner_text("body")

    def assert_clean(self) -> None:
        assert not self.csp_errors, "\n".join(self.csp_errors)
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def family(chromium, axe_source, axe_report):
    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR")
    context.set_default_timeout(15000)
    person = Family(context, axe_source, axe_report)
    yield person
    context.close()
    person.assert_clean()


@pytest.fixture
def family_without_js(chromium, axe_source, axe_report):
    """The same, JavaScript off: pages must work without it. axe needs the page's timers,
    which are off too, so only the 320 px and CSP checks run (the same pages are audited
    with JavaScript on in the other tests)."""
    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(15000)
    person = Family(context, axe_source, axe_report, axe=False)
    yield person
    context.close()
    person.assert_clean()


@pytest.fixture
def demo(app, served_idp, monkeypatch, tmp_path):
    """The demo data (`idp demo load`) and the ENT, PRONOTE and Téléservices (SAML) demo
    RPs at free ports."""
    with demo_relying_parties(app, served_idp, monkeypatch, tmp_path) as (urls, summary):
        yield {"ent": urls["ENT"], "pronote": urls["PRONOTE"],
               "teleservices": urls["Téléservices"], "idp": served_idp.url,
               "accounts": summary["accounts"]}
