"""Action helpers for the sale tests: sales put in any state, shoppers joining, the admitter driven by hand.

    def test_something(sales_ops):
        sale = sales_ops.armed(units=5, rate=10)
        sales_ops.join(sale, 1, 2, 3)
        sales_ops.open(sale)
        sales_ops.tick(now)

Time is passed explicitly (`now`, epoch seconds) so tests never sleep.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
from flask_jwt_extended import create_access_token

from admission import admitter, front_door, sales, stock, waiting_room
from admission.keys import sale_keys
from admission.states import SaleState

T0 = 1_900_000_000.0  # a fixed "now" for tests that drive the clock themselves


class SalesOps:
    """What an operator, the admitter and shoppers do to sales, as plain function calls."""

    def __init__(self, app):
        self.app = app
        self.redis = app.extensions["yakku.sales_redis"]

    def draft(self, units=10, rate=10.0, cap=100, window=300, limit=2, opens_at=None, product_id=1):
        opens = opens_at or datetime.now(UTC) + timedelta(hours=1)
        data = {
            "product_id": product_id,
            "units": units,
            "opens_at": opens,
            "admission_rate": rate,
            "admitted_cap": cap,
            "checkout_window_s": window,
            "per_shopper_limit": limit,
        }
        return sales.create_sale(data, operator_id=1).id

    def armed(self, **settings) -> int:
        """A sale armed without the catalog: its row, and its settings and counter in Redis."""
        sale_id = self.draft(**settings)
        sales.load_into_redis(sales.get_sale(sale_id))
        sales.record_state(sale_id, SaleState.ARMED)
        return sale_id

    def opened(self, now=T0, **settings) -> int:
        sale_id = self.armed(**settings)
        self.open(sale_id, now)
        return sale_id

    def in_state(self, state: SaleState) -> int:
        """A sale brought to `state` by the legal path."""
        if state in (SaleState.DRAFT, SaleState.CLOSED):
            sale_id = self.draft()
            if state == SaleState.CLOSED:
                sales.close_sale(sale_id)
            return sale_id
        sale_id = self.armed()
        if state in (SaleState.OPEN, SaleState.PAUSED):
            self.open(sale_id)
        if state == SaleState.PAUSED:
            sales.pause_sale(sale_id)
        return sale_id

    def open(self, sale_id: int, now=T0):
        return sales.open_sale(sale_id, now)

    def join(self, sale_id: int, *shoppers: int, now=T0):
        return [waiting_room.join(sale_id, shopper, now) for shopper in shoppers]

    def status(self, sale_id: int, shopper: int, now=T0):
        return waiting_room.status(sale_id, shopper, now)

    def tick(self, now=T0):
        return admitter.tick(now)

    def beat(self, now=T0):
        """The web's front door answers at `now` (the beat its thread sends each second)."""
        return front_door.beat(now)

    def queue(self, sale_id: int) -> list[int]:
        return [int(member) for member in self.redis.zrange(sale_keys(sale_id).queue, 0, -1)]

    def ticket_of(self, sale_id: int, shopper: int) -> str:
        return self.redis.hget(sale_keys(sale_id).shopper_ticket, shopper)

    def admitted_tickets(self, sale_id: int) -> list[str]:
        return list(self.redis.zrange(sale_keys(sale_id).admitted, 0, -1))

    def counter(self, sale_id: int) -> dict:
        keys = sale_keys(sale_id)
        left, held, sold = (int(self.redis.get(key) or 0) for key in (keys.stock, keys.held, keys.sold))
        return {"left": left, "held": held, "sold": sold}

    def admit_all(self, sale_id: int, *shoppers: int, now=T0) -> list[str]:
        """Join these shoppers to an open sale and admit them all (rate and cap must allow it)."""
        self.join(sale_id, *shoppers, now=now)
        self.tick(now + 1)
        return [self.ticket_of(sale_id, shopper) for shopper in shoppers]

    def buy(self, sale_id: int, ticket: str, quantity=1, now=T0):
        stock.reserve(sale_id, ticket, quantity, now)
        return stock.confirm(sale_id, ticket)


@pytest.fixture
def sales_ops(app):
    with app.app_context():
        yield SalesOps(app)


def bearer(app, account_id: int, role: str = "shopper") -> dict:
    """An Authorization header for a made-up account of `role` (the accounts service is not involved)."""
    with app.app_context():
        token = create_access_token(str(account_id), additional_claims={"role": role})
    return {"Authorization": f"Bearer {token}"}


def wall_clock() -> float:
    return time.time()
