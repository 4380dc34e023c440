"""The operator dashboard: operators only; sales created and moved through the sales API; live figures
that refresh themselves while the sale runs; the audit; the queues."""

import re
import time
from datetime import datetime, timedelta

import pytest

from admission import admitter, sales, waiting_room
from admission.keys import sale_keys
from storefront.formatting import SHOP_TIMEZONE

HX = {"HX-Request": "true"}
PAGES = [
    "/ops",
    "/ops/sales/new",
    "/ops/sales/1",
    "/ops/sales/1/figures",
    "/ops/sales/1/audit",
    "/ops/queues",
]
POSTS = ["/ops/sales/new", "/ops/sales/1/arm", "/ops/sales/1/settings"]


def _text(answer) -> str:
    return answer.get_data(as_text=True)


@pytest.fixture
def ops(shop_web, operator):
    """The operator, signed in to the web app."""
    return shop_web.sign_in(operator)


def _create(web, product_id: int, **fields) -> int:
    opens = (datetime.now(SHOP_TIMEZONE) + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    form = {
        "name": "Tea drop",
        "product_id": product_id,
        "units": 3,
        "opens_at": opens,
        "admission_rate": "50",
        "admitted_cap": 20,
        "checkout_window_s": 120,
        "per_shopper_limit": 1,
        **fields,
    }
    answer = web.post("/ops/sales/new", data=form)
    assert answer.status_code == 302, _text(answer)
    return int(re.fullmatch(r"/ops/sales/(\d+)", answer.headers["Location"]).group(1))


def _act(web, sale_id: int, action: str) -> str:
    """Press a lifecycle button without script, saying yes where the dashboard asks (closing)."""
    answer = web.post(
        f"/ops/sales/{sale_id}/{action}", data={"confirmed": "yes"} if action == "close" else {}
    )
    assert answer.status_code == 302
    return _text(web.get(f"/ops/sales/{sale_id}"))


def _state(app, sale_id: int) -> str:
    with app.app_context():
        return sales.get_sale(sale_id).state.value


@pytest.mark.parametrize("path", PAGES)
def test_a_visitor_is_sent_to_log_in(shop_web, web, path):
    answer = web.get(path)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/account/login?next=")


@pytest.mark.parametrize("path", PAGES)
def test_a_shopper_gets_a_readable_403(shop_web, web, path):
    shop_web.sign_in()
    answer = web.get(path)
    assert answer.status_code == 403 and "The dashboard is for the shop&#39;s operators." in _text(answer)


@pytest.mark.parametrize("path", POSTS)
def test_a_shopper_cannot_act(shop_web, web, path):
    shop_web.sign_in()
    assert web.post(path, data={"units": 1}).status_code == 403


def test_the_header_links_operators_to_the_dashboard(shop_web, web, ops):
    assert 'href="/ops"' in _text(web.get("/"))


def test_an_operator_creates_a_sale_as_a_draft(app, shop_web, web, ops):
    page = _text(web.get("/ops/sales/new"))
    assert "Jeju Green Tea, 50 g" in page  # the product select lists the catalog
    sale_id = _create(web, shop_web.ids["Jeju"])
    page = _text(web.get(f"/ops/sales/{sale_id}"))
    assert "Sale #" in page and "Tea drop" in page and 'data-state="draft"' in page
    with app.app_context():
        sale = sales.get_sale(sale_id)
        assert (sale.units, sale.admission_rate, sale.per_shopper_limit) == (3, 50.0, 1)
    assert sale_id and "Tea drop" in _text(web.get("/ops"))


def test_a_sale_with_bad_settings_is_answered_next_to_the_fields(shop_web, web, ops):
    answer = web.post("/ops/sales/new", data={"product_id": shop_web.ids["Jeju"], "units": 0})
    body = _text(answer)
    assert answer.status_code == 422 and "1 to 10,000,000" in body and "Enter the rate." in body


def test_buttons_move_the_sale_and_only_legal_ones_show(app, shop_web, web, ops):
    sale_id = _create(web, shop_web.ids["Jeju"])
    buttons = re.compile(r"/ops/sales/\d+/(arm|open|pause|resume|close|settle)\"")
    assert buttons.findall(_text(web.get(f"/ops/sales/{sale_id}"))) == ["arm", "close"]
    page = _act(web, sale_id, "arm")
    assert _state(app, sale_id) == "armed" and buttons.findall(page) == ["open", "close"]
    page = _act(web, sale_id, "open")
    assert _state(app, sale_id) == "open" and buttons.findall(page) == ["pause", "close"]
    assert _state(app, sale_id) == "open" and "Open: shoppers are being admitted." in page
    assert buttons.findall(_act(web, sale_id, "pause")) == ["resume", "close"]
    assert buttons.findall(_act(web, sale_id, "resume")) == ["pause", "close"]
    page = _act(web, sale_id, "close")
    assert _state(app, sale_id) == "closed" and buttons.findall(page) == ["settle"]
    assert "Settled: 3 leftover units went back" in _act(web, sale_id, "settle")


def test_a_close_sent_without_htmx_s_confirm_is_asked_on_a_page_first(app, shop_web, web, ops):
    sale_id = _create(web, shop_web.ids["Jeju"])
    _act(web, sale_id, "arm")
    asked = web.post(f"/ops/sales/{sale_id}/close")
    body = _text(asked)
    assert asked.status_code == 200 and f"Close sale #{sale_id} now?" in body and "cannot be undone" in body
    assert _state(app, sale_id) == "armed" and 'name="confirmed" type="hidden" value="yes"' in body
    confirmed = web.post(f"/ops/sales/{sale_id}/close", headers=HX)  # htmx sends only once confirmed
    assert confirmed.status_code == 200 and _state(app, sale_id) == "closed"


def test_an_illegal_move_is_refused_readably(app, shop_web, web, ops):
    sale_id = _create(web, shop_web.ids["Jeju"])
    page = _act(web, sale_id, "open")
    assert "A sale that is draft cannot open." in page and _state(app, sale_id) == "draft"


def test_rate_and_cap_change_live(app, shop_web, web, ops, sales_redis):
    sale_id = _create(web, shop_web.ids["Jeju"])
    _act(web, sale_id, "arm")
    answer = web.post(f"/ops/sales/{sale_id}/settings", data={"admission_rate": "2.5", "admitted_cap": 7})
    assert answer.status_code == 302
    assert sales_redis.hmget(sale_keys(sale_id).settings, "rate", "cap") == ["2.5", "7"]
    page = _text(web.get(f"/ops/sales/{sale_id}"))
    assert 'value="2.5"' in page and "Rate and cap changed" in page


def test_figures_refresh_themselves_while_the_sale_runs_and_stop_when_closed(
    app, shop_web, web, ops, shoppers
):
    sale_id = _create(web, shop_web.ids["Jeju"], units=5)
    _act(web, sale_id, "arm")
    _act(web, sale_id, "open")
    members = [shoppers.verified() for _ in range(3)]
    with app.app_context():
        for member in members:
            waiting_room.join(sale_id, member.id)
    body = _text(web.get(f"/ops/sales/{sale_id}/figures", headers=HX))
    assert "<html" not in body and 'hx-trigger="load delay:2s"' in body
    assert 'data-figure="waiting">3<' in body and 'data-figure="left">5<' in body
    with app.app_context():
        admitter.tick(time.time() + 3)  # all three admitted (rate 50/s, cap 20)
    body = _text(web.get(f"/ops/sales/{sale_id}/figures", headers=HX))
    assert 'data-figure="admitted">3<' in body and 'data-figure="waiting">0<' in body
    assert 'data-figure="depth">0<' in body and 'data-figure="workers">0<' in body
    assert "<polyline" in body  # the admitter and the dashboard sampled it: the chart has a line
    _act(web, sale_id, "close")
    closed = _text(web.get(f"/ops/sales/{sale_id}/figures", headers=HX))
    assert "hx-trigger" not in closed and 'data-state="closed"' in closed


def test_the_audit_shows_each_invariant(app, shop_web, web, ops):
    sale_id = _create(web, shop_web.ids["Jeju"])
    _act(web, sale_id, "arm")
    page = _text(web.get(f"/ops/sales/{sale_id}/audit"))
    assert "All invariants hold" in page and "check-broken" not in page
    assert page.count('class="audit-check check-ok"') >= 8 and "Never oversold" in page


def test_the_queues_page_lists_queues_and_workers(shop_web, web, ops):
    page = _text(web.get("/ops/queues"))
    assert "checkout" in page and "mail" in page and "Workers online: 0" in page


def test_the_chart_labels_its_axis_in_whole_round_steps():
    from storefront.dashboard import chart

    drawn = chart.build([{"t": 0, "admitted": 0, "sold": 0}, {"t": 30, "admitted": 1, "sold": 3}])
    assert [tick["label"] for tick in drawn.y_ticks] == ["0", "1", "2", "3", "4", "5"]
    assert [line["last"] for line in drawn.lines] == [1, 3]
    assert chart.build([{"t": 0, "admitted": 0, "sold": 0}]).empty
