"""The waiting room: pre-queue shuffled once, FIFO after, one place per shopper, honest status, grace."""

from collections import Counter

import pytest
from admission_helpers import T0, bearer, wall_clock

from admission import sales, waiting_room
from admission.exceptions import NotInQueue, SaleNotOpen
from admission.keys import sale_keys
from admission.schemas import WaiterStatusOut
from admission.scripts import scripts
from admission.states import WaiterState
from admission.waiting_room import open_in_redis
from api.auth import revoke, verify_request_token


def test_pre_queue_is_shuffled_once_at_opening(sales_ops):
    early = list(range(1, 41))
    orders = []
    for _ in range(4):
        sale = sales_ops.armed(units=100, rate=1)
        sales_ops.join(sale, *early)
        assert sales_ops.status(sale, 7).position is None  # nobody has a place before the draw
        sales_ops.open(sale)
        drawn = sales_ops.queue(sale)
        assert sorted(drawn) == early
        orders.append(drawn)
        assert open_in_redis(sale, T0 + 5) is False  # a second open does not draw again
        assert sales_ops.queue(sale) == drawn
    assert all(order != early for order in orders)
    assert len({tuple(order) for order in orders}) == len(orders)


def test_after_opening_later_arrivals_queue_fifo_behind_the_draw(sales_ops):
    sale = sales_ops.armed(units=100, rate=1)
    sales_ops.join(sale, 1, 2, 3)
    sales_ops.open(sale)
    sales_ops.join(sale, 30, 10, 20, now=T0 + 1)
    queue = sales_ops.queue(sale)
    assert sorted(queue[:3]) == [1, 2, 3]
    assert queue[3:] == [30, 10, 20]
    assert [sales_ops.status(sale, s, T0 + 2).position for s in (30, 10, 20)] == [4, 5, 6]


def test_one_place_per_shopper(sales_ops, sales_redis):
    sale = sales_ops.opened(units=100, rate=1)
    sales_ops.join(sale, 1, 2)
    again = sales_ops.join(sale, 2, now=T0 + 3)[0]  # a second tab, a refresh, a second join
    assert again.position == 2 and again.state == WaiterState.WAITING
    assert sales_redis.zcard(sale_keys(sale).queue) == 2


def test_status_reports_people_ahead_eta_and_poll_hint(sales_ops):
    sale = sales_ops.opened(units=1000, rate=2, cap=1000)
    sales_ops.join(sale, *range(1, 201))
    status = sales_ops.status(sale, 101)
    assert (status.position, status.people_ahead) == (101, 100)
    assert status.rate_measured is False and status.rate == 2.0
    assert status.eta_seconds == 50 and status.poll_after_seconds == 10
    sales_ops.tick(T0 + 10)  # 2/s, but the bucket holds one second: 2 admitted per tick this far apart
    sales_ops.tick(T0 + 20)
    later = sales_ops.status(sale, 101, T0 + 20)
    assert later.rate_measured is True
    assert later.people_ahead == 100 - 4 and later.rate == pytest.approx(4 / 20)
    assert asks_at_own_second(101, T0 + 20, later.poll_after_seconds)  # far back: rarely
    front = sales_ops.status(sale, 5, T0 + 20)
    assert front.position == 1 and front.poll_after_seconds == 1  # at the front: often


@pytest.mark.parametrize(
    ("rate", "ahead", "eta", "hint"),
    [
        (1, 0, 0, 1),
        (1, 4, 4, 1),
        (1, 6, 6, 2),
        (0.2, 10, 50, 10),
        (0.02, 3, 150, "own second"),
        (0.001, 10, 10_000, "own second"),
    ],
)
def test_poll_hint_is_a_fifth_of_the_eta_within_1_to_30_seconds(sales_ops, rate, ahead, eta, hint):
    sale = sales_ops.opened(units=100, rate=rate)
    sales_ops.join(sale, *range(1, ahead + 2))
    last = sales_ops.status(sale, ahead + 1)
    assert (last.people_ahead, last.eta_seconds) == (ahead, eta)
    if hint == "own second":  # at the cap
        assert asks_at_own_second(ahead + 1, T0, last.poll_after_seconds)
    else:
        assert last.poll_after_seconds == hint


def asks_at_own_second(shopper: int, now: float, hint: int) -> bool:
    """A waiter at the 30 s cap is told to ask again within 30 s, at their own second of the half-minute
    (their id mod 30), so a crowd that joined together spreads out."""
    return 1 <= hint <= 30 and (int(now) + hint) % 30 == shopper % 30


def test_a_crowd_that_joined_in_one_second_comes_back_spread_over_the_half_minute(sales_ops):
    sale = sales_ops.opened(units=1000, rate=0.1, cap=1000)
    crowd = range(1, 301)
    sales_ops.join(sale, *crowd)  # all in the same second, all far back (10 s an admission)
    back_at = Counter(int(T0) + sales_ops.status(sale, shopper).poll_after_seconds for shopper in crowd[150:])
    assert len(back_at) == 30 and max(back_at.values()) == 5  # 150 shoppers: 5 a second, every second


def test_admitted_shopper_sees_a_ticket(sales_ops):
    sale = sales_ops.opened(units=10, rate=5, window=120)
    sales_ops.join(sale, 1)
    sales_ops.tick(T0 + 1)
    status = sales_ops.status(sale, 1, T0 + 1)
    assert status.state == WaiterState.ADMITTED and status.ticket
    assert status.ticket_expires_at == T0 + 1 + 120 and status.poll_after_seconds is None


def test_waiters_who_stop_polling_lose_their_place_to_the_next(sales_ops):
    sale = sales_ops.opened(units=10, rate=1, cap=1)
    sales_ops.join(sale, 1, 2, 3)
    sales_ops.tick(T0 + 1)  # 1 admitted: the cap is full, 2 and 3 wait
    sales_ops.status(sale, 3, T0 + 20)  # 3 keeps polling, 2 does not
    sales_ops.tick(T0 + 31)
    assert sales_ops.status(sale, 2, T0 + 31).state == WaiterState.EXPIRED
    kept = sales_ops.status(sale, 3, T0 + 31)
    assert kept.state == WaiterState.WAITING and kept.position == 1


def test_pre_queue_shoppers_who_left_are_evicted_after_opening(sales_ops):
    sale = sales_ops.armed(units=10, rate=1, cap=1)
    sales_ops.join(sale, 1, 2, now=T0 - 600)
    sales_ops.status(sale, 2, T0 - 5)
    sales_ops.open(sale, T0)
    sales_ops.tick(T0 + 1)
    states = {s: sales_ops.status(sale, s, T0 + 1).state for s in (1, 2)}
    assert states == {1: WaiterState.EXPIRED, 2: WaiterState.ADMITTED}


def test_joining_a_sale_that_is_not_live_is_refused(sales_ops):
    with pytest.raises(SaleNotOpen):
        waiting_room.join(sales_ops.draft(), 1, T0)
    with pytest.raises(NotInQueue):
        waiting_room.status(sales_ops.armed(), 1, T0)


def test_closing_tells_waiters_the_sale_ended(sales_ops):
    sale = sales_ops.opened(units=5, rate=1)
    sales_ops.join(sale, 1, 2)
    scripts().close(sale, [], sales_ops.redis)  # the catalog is not involved
    assert sales_ops.status(sale, 2).state == WaiterState.CLOSED
    with pytest.raises(SaleNotOpen):
        waiting_room.join(sale, 3, T0)


def test_shopper_api_join_and_status(app, client, sales_ops):
    sale = sales_ops.opened(units=5, rate=1)
    ada = bearer(app, 41)
    first = client.post(f"/api/sales/{sale}/queue", headers=ada)
    assert first.status_code == 200, first.json
    assert first.json["state"] == "waiting" and first.json["position"] == 1
    assert client.post(f"/api/sales/{sale}/queue", headers=ada).json["position"] == 1
    me = client.get(f"/api/sales/{sale}/queue/me", headers=ada)
    assert me.json["people_ahead"] == 0 and me.json["rate_measured"] is False
    assert client.get(f"/api/sales/{sale}/queue/me", headers=bearer(app, 42)).json["error"]["code"] == (
        "not_in_queue"
    )
    assert client.post(f"/api/sales/{sale}/queue").status_code == 401


def test_every_waiter_status_the_api_answers_is_the_documented_schema(app, client, sales_ops):
    now = wall_clock()
    not_open_yet = sales_ops.armed(units=10, rate=1)
    sale = sales_ops.opened(units=10, rate=100, now=now)
    sales_ops.admit_all(sale, 41, now=now)
    answers = {
        "pre-queue": client.post(f"/api/sales/{not_open_yet}/queue", headers=bearer(app, 43)).json,
        "in line": client.post(f"/api/sales/{sale}/queue", headers=bearer(app, 42)).json,
        "admitted": client.get(f"/api/sales/{sale}/queue/me", headers=bearer(app, 41)).json,
        "polling": client.get(f"/api/sales/{sale}/queue/me", headers=bearer(app, 42)).json,
    }
    assert answers["admitted"]["ticket"] and answers["in line"]["position"] == 1
    schema = WaiterStatusOut()
    for answer in answers.values():  # the views answer it without dumping it through the schema
        assert set(answer) == set(schema.fields) and schema.dump(answer) == answer


def test_a_paused_sale_keeps_the_front_polling_often_so_a_resume_is_seen_at_once(app, sales_ops):
    with app.app_context():
        sale_id = sales_ops.opened(rate=10.0, units=1000, limit=1)
        sales_ops.join(sale_id, *range(1, 201), now=T0)
        sales.pause_sale(sale_id)
        front, back = sales_ops.status(sale_id, 1), sales_ops.status(sale_id, 200)
    assert front.eta_seconds is None  # no honest ETA while paused
    assert front.poll_after_seconds == 1 and back.poll_after_seconds > front.poll_after_seconds


def test_a_revoked_token_is_refused_at_the_poll_though_checked_in_the_status_trip(app, client, sales_ops):
    sale = sales_ops.opened(units=10, rate=1, now=wall_clock())
    ada = bearer(app, 41)
    assert client.post(f"/api/sales/{sale}/queue", headers=ada).status_code == 200
    with app.test_request_context(headers=ada):
        revoke(verify_request_token())
    refused = client.get(f"/api/sales/{sale}/queue/me", headers=ada)
    assert (refused.status_code, refused.json["error"]["code"]) == (401, "token_revoked")
    assert client.get(f"/api/sales/{sale}/queue/me", headers=bearer(app, 41)).status_code == 200


def test_polls_go_on_when_redis_has_lost_its_scripts(app, client, sales_ops, sales_redis):
    sale = sales_ops.opened(units=10, rate=1, now=wall_clock())
    ada = bearer(app, 41)
    client.post(f"/api/sales/{sale}/queue", headers=ada)
    sales_redis.script_flush()  # as after a restart of a Redis that keeps its data (every master's)
    me = client.get(f"/api/sales/{sale}/queue/me", headers=ada)
    assert me.status_code == 200 and me.json["position"] == 1
