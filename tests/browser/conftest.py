"""Browser journeys in Debian's Chromium, driven by Playwright (never a downloaded browser).

Every page a test loads is checked with axe-core automatically: the engine is injected into each page,
runs when the page has loaded, and reports back; a serious or critical violation fails the test. The
Content-Security-Policy is enforced as in production (never bypassed): anything it refuses fails the test.
Screenshots go to test-output/screenshots/.
"""

import contextlib
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import require

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUNNER = """
if (window.top === window) {
  window.__axeDone = new Promise((resolve) => {
    window.addEventListener('load', () => {
      axe.run(document, {runOnly: {type: 'tag', values: %s}}).then((result) => {
        const bad = result.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
          .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' '))}));
        return window.__axeReport(location.href, bad);
      }).catch((error) => window.__axeReport(location.href,
          [{id: 'axe-error', impact: 'critical', help: String(error), nodes: []}])).finally(resolve);
    });
  });
}
""".replace("%s", json.dumps(AXE_TAGS))

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


def _axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


@pytest.fixture(scope="session")
def browser():
    require(Path(CHROMIUM).exists() or shutil.which("chromium") is not None, f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


class AccessibilityReport:
    def __init__(self):
        self.checked: list[str] = []
        self.violations: list[tuple[str, dict]] = []

    def record(self, source, url, violations):
        self.checked.append(url)
        self.violations.extend((url, v) for v in violations)


def _open_page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="Europe/London")
    report = AccessibilityReport()
    context.add_init_script(_axe_source() + AXE_RUNNER)
    context.expose_binding("__axeReport", report.record)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.accessibility_report = report
    page.csp_violations = []
    page.on("console", lambda message: page.csp_violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return context, page


def _finish(page):
    # The last page's check may still be running; a page that is closing keeps what it reported.
    with contextlib.suppress(Exception):
        page.evaluate("window.__axeDone")
    assert not page.csp_violations, "refused by the Content-Security-Policy:\n" + "\n".join(page.csp_violations)
    report = page.accessibility_report
    assert report.checked, "no page was checked with axe-core"
    assert not report.violations, "accessibility violations (serious/critical):\n" + "\n".join(
        f"{url}: {v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for url, v in report.violations
    )


@pytest.fixture
def page(browser, live_server):
    context, page = _open_page(browser, {"width": 1280, "height": 900})
    page.base_url = live_server.url
    yield page
    _finish(page)
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A 390 x 844 phone screen (an iPhone 12-15), as parents use the app."""
    context, page = _open_page(browser, {"width": 390, "height": 844})
    page.base_url = live_server.url
    yield page
    _finish(page)
    context.close()


def shot(page, name: str) -> Path:
    """Wait for the current page's accessibility check, then save a full-page screenshot."""
    page.evaluate("window.__axeDone")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, username: str, password: str = "kidscount-demo") -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(page.base_url + "/")


@pytest.fixture
def demo(transactional_db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
