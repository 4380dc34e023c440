"""The dashboard names products, asks before closing a live sale, charts a sale from its opening, and
exports its figures as CSV."""

import csv
import io
import time

import pytest
from cart_helpers import text_of
from shop_sale_helpers import arm_sale

from admission import admitter, series, waiting_room


@pytest.fixture
def ops(shop_web, operator):
    """The operator, signed in to the web app."""
    return shop_web.sign_in(operator)


def test_sales_are_listed_by_product_name(app, shop_web, web, ops):
    sale_id = arm_sale(app, shop_web.ids["Jeju"])
    index = text_of(web.get("/ops"))
    assert "Jeju Green Tea, 50 g" in index and "<td>#" not in index
    page = text_of(web.get(f"/ops/sales/{sale_id}"))
    assert '<p class="ops-summary">Jeju Green Tea, 50 g ·' in page


def test_closing_a_live_sale_asks_first(app, shop_web, web, ops):
    sale_id = arm_sale(app, shop_web.ids["Jeju"])
    page = text_of(web.get(f"/ops/sales/{sale_id}"))
    close = page[page.index(f'action="/ops/sales/{sale_id}/close"') :][:400]
    assert 'hx-boost="true"' in close
    assert 'hx-confirm="Close sale #' in close and "cannot be undone" in close
    opening = page[page.index(f'action="/ops/sales/{sale_id}/open"') :][:120]
    assert "hx-confirm" not in opening  # only closing cannot be undone


def test_the_chart_and_the_csv_start_at_the_opening(app, shop_web, web, ops, shoppers):
    sale_id = arm_sale(app, shop_web.ids["Jeju"], units=5)
    now = time.time()
    with app.app_context():
        series.sample(sale_id, now - 60, force=True)  # armed a minute before it opened: not charted
        web.post(f"/ops/sales/{sale_id}/open")
        member = shoppers.verified()
        waiting_room.join(sale_id, member.id)
        admitter.tick(time.time() + 3)
        series.sample(sale_id, time.time() + 6, force=True)
    answer = web.get(f"/ops/sales/{sale_id}/figures.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="sale-{sale_id}-figures.csv"'
    rows = list(csv.DictReader(io.StringIO(text_of(answer))))
    assert len(rows) >= 2 and rows[0]["seconds_since_opening"] == "0.0"
    assert float(rows[-1]["seconds_since_opening"]) < 30  # the sample from before the opening is left out
    assert rows[-1]["admitted"] == "1"
    assert "download>Figures as CSV</a>" in text_of(web.get(f"/ops/sales/{sale_id}"))


def test_an_armed_sale_has_no_chart_yet(app, shop_web, web, ops):
    sale_id = arm_sale(app, shop_web.ids["Jeju"])
    with app.app_context():
        series.sample(sale_id, time.time() - 4, force=True)
        series.sample(sale_id, time.time(), force=True)
    page = text_of(web.get(f"/ops/sales/{sale_id}/figures", headers={"HX-Request": "true"}))
    assert "<polyline" not in page and "The chart starts when the sale opens" in page
