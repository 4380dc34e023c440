"""Browser fixtures: the API and the web app on loopback ports, headless Debian Chromium, mail, screenshots.

    @pytest.mark.browser
    def test_something(live_shop, desktop):
        desktop.goto(live_shop.url("/"))
        live_shop.screenshot(desktop, "home")          # docs/screenshots/home-desktop.png
        link = live_shop.mail.link_to("ada@example.test")

Chromium is Debian's (/usr/bin/chromium); Playwright never downloads a browser here.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from accounts_helpers import drain_mail, link_in, outbox_messages
from axe_helpers import assert_accessible
from serving_helpers import Served

from yakku.factory import create_web_app

CHROMIUM = os.environ.get("YAKKU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 860}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
TIMEOUT_MS = 10_000


class _LateApp:
    """A WSGI app bound after its server: the server's port must be known before the apps are built."""

    def __init__(self):
        self.app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


class Mail:
    """The verification mail: queued jobs drained as a worker would, then read from the file outbox."""

    def __init__(self, api_app):
        self.api_app = api_app

    def link_to(self, address: str) -> str:
        """Deliver what is queued and return the link in the newest message to `address`."""
        drain_mail(self.api_app)
        messages = outbox_messages(self.api_app, to=address)
        assert messages, f"no mail to {address}"
        return link_in(messages[-1])


@dataclass
class LiveShop:
    """The running shop a browser test drives."""

    base_url: str
    api_app: object
    web_app: object
    mail: Mail

    def url(self, path: str) -> str:
        return self.base_url + path

    def screenshot(self, page, name: str) -> Path:
        """Check the page state with axe (no serious or critical violation), then save the whole page as
        docs/screenshots/<name>-<viewport>.png: every state a test photographs is also checked."""
        assert_accessible(page, f"{name}-{page.yakku_viewport}")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}-{page.yakku_viewport}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_shop(config, request):
    """The API and the storefront over real HTTP (CSRF on), a seeded catalog, and the mail outbox."""
    web_entry = _LateApp()
    web_server = Served(web_entry)
    base_url = web_server.url
    config["PUBLIC_URL"] = base_url  # the verification mail links to this storefront
    api_app = request.getfixturevalue("live_api")
    request.getfixturevalue("app")  # the test's API app: it cleans the database and Redis afterwards
    web_entry.app = create_web_app({**config, "WTF_CSRF_ENABLED": True})
    web_server.start()

    from api.catalog.seed import seed_demo_catalog

    with api_app.app_context():
        seed_demo_catalog()
    yield LiveShop(base_url, api_app, web_entry.app, Mail(api_app))
    web_server.stop()


def _page(browser, viewport: str):
    # bypass_csp: the pages' CSP forbids inline script, as it should; the tests inject axe-core as one.
    context = browser.new_context(
        **VIEWPORTS[viewport], locale="en-US", timezone_id="Asia/Seoul", bypass_csp=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.yakku_viewport = viewport
    return context, page


@pytest.fixture(params=sorted(VIEWPORTS))
def any_page(browser, request):
    """A fresh page, once on a 1280 px desktop and once on a 390 px phone."""
    context, page = _page(browser, request.param)
    yield page
    context.close()


@pytest.fixture
def desktop(browser):
    """A fresh page in a 1280 px wide desktop window."""
    context, page = _page(browser, "desktop")
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    """A fresh page in a 390 px wide phone."""
    context, page = _page(browser, "phone")
    yield page
    context.close()


@pytest.fixture
def pages(browser):
    """Opens pages in contexts of their own (separate sessions, as separate shoppers): pages("phone")."""
    contexts = []

    def open_page(viewport: str):
        context, page = _page(browser, viewport)
        contexts.append(context)
        return page

    yield open_page
    for context in contexts:
        context.close()
