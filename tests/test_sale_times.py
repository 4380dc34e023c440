"""Times are right: the operator types the opening in the shop's zone (a setting), it is stored as the UTC
instant, every sale timestamp of the API carries its offset, and the countdowns count down to that instant."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from admission_helpers import bearer

from admission import sales, waiting_room
from admission.keys import sale_keys

# The zone, the wall-clock time the operator types, the instant it is, what the dashboard shows.
OPENINGS = [
    ("Asia/Seoul", "2027-03-14T05:14", "2027-03-13T20:14:00+00:00", "2027-03-14 05:14:00 KST"),
    # US daylight saving starts at 02:00 on 2027-03-14 and ends at 02:00 on 2027-11-07.
    ("America/New_York", "2027-03-14T01:30", "2027-03-14T06:30:00+00:00", "2027-03-14 01:30:00 EST"),
    ("America/New_York", "2027-03-14T03:30", "2027-03-14T07:30:00+00:00", "2027-03-14 03:30:00 EDT"),
    # 01:30 happens twice on 2027-11-07: the first one (still EDT) is taken.
    ("America/New_York", "2027-11-07T01:30", "2027-11-07T05:30:00+00:00", "2027-11-07 01:30:00 EDT"),
]


@pytest.fixture
def zone(request, config):
    """The shop's zone for this test's apps (set before they are built)."""
    config["SHOP_TIMEZONE"] = request.param
    return ZoneInfo(request.param)


def _text(answer) -> str:
    return answer.get_data(as_text=True)


def _create(web, product_id: int, opens_at: str):
    form = {
        "product_id": product_id,
        "units": 3,
        "opens_at": opens_at,
        "admission_rate": "50",
        "admitted_cap": 20,
        "checkout_window_s": 120,
        "per_shopper_limit": 1,
    }
    return web.post("/ops/sales/new", data=form)


def _sale_id(answer) -> int:
    assert answer.status_code == 302, _text(answer)
    return int(re.fullmatch(r"/ops/sales/(\d+)", answer.headers["Location"]).group(1))


@pytest.mark.parametrize(
    ("zone", "typed", "instant", "shown"), OPENINGS, indirect=["zone"], ids=[o[1] for o in OPENINGS]
)
def test_an_opening_typed_in_the_shops_zone_is_that_instant_everywhere(
    zone, app, client, shop_web, web, operator, sales_redis, typed, instant, shown
):
    shop_web.sign_in(operator)
    sale_id = _sale_id(_create(web, shop_web.ids["Jeju"], typed))
    with app.app_context():
        assert sales.get_sale(sale_id).opens_at == datetime.fromisoformat(instant)
    answer = client.get(f"/api/sales/{sale_id}", headers=bearer(app, 1, role="operator"))
    assert answer.json["opens_at"] == instant
    web.post(f"/ops/sales/{sale_id}/arm")
    opens = float(sales_redis.hget(sale_keys(sale_id).settings, "opens_at"))
    assert opens == datetime.fromisoformat(instant).timestamp()
    page = _text(web.get(f"/ops/sales/{sale_id}"))
    assert f"opens {shown}" in page and f"Times in {zone.key}" in page
    assert f"Opens at ({zone.key})" in _text(web.get("/ops/sales/new"))


@pytest.mark.parametrize("zone", ["America/New_York"], indirect=True)
def test_a_time_the_clocks_skip_is_refused(zone, shop_web, web, operator):
    shop_web.sign_in(operator)
    answer = _create(web, shop_web.ids["Jeju"], "2027-03-14T02:30")
    assert answer.status_code == 422 and "02:30 does not exist in America/New_York" in _text(answer)


@pytest.mark.parametrize("zone", ["Asia/Seoul", "America/New_York"], indirect=True)
def test_a_sale_set_to_open_in_half_an_hour_counts_down_half_an_hour(
    zone, app, shop_web, web, operator, shoppers
):
    shop_web.sign_in(operator)
    opens = (datetime.now(zone) + timedelta(minutes=30)).replace(second=0, microsecond=0)
    sale_id = _sale_id(_create(web, shop_web.ids["Jeju"], opens.strftime("%Y-%m-%dT%H:%M")))
    web.post(f"/ops/sales/{sale_id}/arm")
    with app.app_context():
        status = waiting_room.join(sale_id, shoppers.verified().id)
    assert 29 * 60 - 60 <= status.opens_in_seconds <= 30 * 60  # not 30 min plus the zone's offset
    product = _text(web.get(f"/products/{shop_web.ids['Jeju']}"))
    assert f"At {opens:%Y-%m-%d %H:%M %Z}." in product


def test_every_timestamp_of_the_sale_api_carries_its_offset(app, client, sales_ops):
    ops = bearer(app, 1, role="operator")
    body = {"product_id": 1, "units": 5, "admission_rate": 5, "admitted_cap": 5}
    naive = client.post("/api/sales", json={**body, "opens_at": "2027-03-14T05:14:00"}, headers=ops)
    assert naive.status_code == 422 and "opens_at" in naive.json["error"]["fields"]
    made = client.post("/api/sales", json={**body, "opens_at": "2027-03-14T05:14:00+09:00"}, headers=ops)
    assert made.status_code == 201 and made.json["opens_at"] == "2027-03-13T20:14:00+00:00"
    sale = sales_ops.opened()
    answer = client.get(f"/api/sales/{sale}", headers=ops).json
    stamps = [answer[name] for name in ("opens_at", "created_at", "updated_at")] + [
        answer["figures"]["opened_at"]
    ]
    assert all(datetime.fromisoformat(stamp).utcoffset() is not None for stamp in stamps), stamps
    listed = client.get("/api/sales", headers=ops).json["items"]
    assert all(item["opens_at"].endswith("+00:00") for item in listed)
