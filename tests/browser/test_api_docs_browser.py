"""The API docs page renders its vendored Swagger UI under its own CSP, with nothing from a CDN."""

from pathlib import Path

from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Swagger UI parses its 1.7 MB bundle, then asks for the spec (built on the first request) and renders
# every operation: on a loaded 2-core box, past expect's default 5 s (a run there found it just after).
RENDERED_MS = 15_000


def test_the_api_docs_render_under_their_policy_from_this_origin(browser, live_api, config):
    api_url = config["API_URL"]
    context = browser.new_context()  # the page's own CSP applies: no bypass, unlike the shop's pages
    page = context.new_page()
    refused, elsewhere = [], []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on(
        "request", lambda request: None if request.url.startswith(api_url) else elsewhere.append(request.url)
    )
    page.goto(f"{api_url}/api/docs")
    title = page.locator(".swagger-ui .info .title")
    expect(title).to_contain_text("Yakku internal services", timeout=RENDERED_MS)
    expect(page.locator(".opblock").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "api-docs-desktop.png"))
    context.close()
    assert (refused, elsewhere) == ([], [])
