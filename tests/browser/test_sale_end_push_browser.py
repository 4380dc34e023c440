"""The end of a sale pushed to a real browser (issue 11, rule 5): a waiter far back, on a page that
listens to the events process, sees the end within 2 s of the close, and asks /end no more than its
safety net would meanwhile; with the events process away, the same page is told by its own polling."""

import time

import pytest
from events_helpers import events_process
from playwright.sync_api import expect
from test_sale_browser import wait_far_back

from admission import lookup, sales
from yakku.private_redis import free_port

pytestmark = pytest.mark.browser

RULE_5_S = 2.0
# The page's stream is open (js/end-push.js keeps this on the element that holds it).
LISTENING = "document.getElementById('sale-end').yakkuPushOpen === true"


@pytest.fixture
def events_port(config):
    """The events process's port, known before the shop is built: its pages name it (EVENTS_URL)."""
    port = free_port()
    config["EVENTS_URL"] = f"http://127.0.0.1:{port}"
    return port


def close_and_time_the_news(live_shop, page, sale) -> float:
    with live_shop.api_app.app_context():
        sales.close_sale(sale.id)
        closed_at = time.monotonic()
    expect(page.locator("#sale-status h1")).to_have_text("The sale has ended", timeout=RULE_5_S * 1000)
    return time.monotonic() - closed_at


def test_a_waiter_listening_to_the_events_process_is_told_the_end_with_no_polling_meanwhile(
    events_port, live_shop, pages, shoppers, config, tmp_path
):
    with events_process(config, live_shop.base_url, tmp_path / "events.log", port=events_port) as events_url:
        page = pages("desktop")
        asked = []
        page.on("request", lambda request: request.url.endswith("/end") and asked.append(request.url))
        sale = wait_far_back(live_shop, page, shoppers)
        page.wait_for_function(LISTENING)
        assert asked[-1] == f"{events_url}/sales/{sale.id}/end"  # the stream
        streams, polled_before = asked.count(asked[-1]), len(asked)
        page.wait_for_timeout(1_500)
        # The status's own poll swaps the panel: the stream is kept across it, not opened again.
        page.evaluate("document.getElementById('sale-status').dataset.before = 'swap'")
        swap = "{target: '#sale-status', swap: 'outerHTML'}"
        page.evaluate(f"htmx.ajax('GET', '/sales/{sale.id}/wait', {swap})")
        expect(page.locator("#sale-status[data-before]")).to_have_count(0)
        page.wait_for_timeout(1_500)  # two full-rate polls' time in all: the stream stands in for them
        assert page.evaluate(LISTENING) and asked.count(asked[-1]) == streams
        told_after = close_and_time_the_news(live_shop, page, sale)
        polled = len(asked) - polled_before
    assert told_after < RULE_5_S
    assert polled == 0, f"/end asked {polled} times within the {lookup.END_SAFETY_NET_S} s safety net"


def test_with_the_events_process_away_the_page_is_told_by_its_own_polling(
    events_port, live_shop, pages, shoppers
):
    page = pages("desktop")  # EVENTS_URL names a port where nothing listens
    sale = wait_far_back(live_shop, page, shoppers)
    own_poll = live_shop.url(f"/sales/{sale.id}/end")
    with page.expect_response(own_poll):
        pass  # the stream refused, the page asks /end itself (every END_CHECK_EVERY_S)
    assert close_and_time_the_news(live_shop, page, sale) < RULE_5_S
