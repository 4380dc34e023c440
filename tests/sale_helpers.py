"""Action helpers for the whole sale: an operator runs it over the API, shoppers buy, workers drain."""

import time
from datetime import UTC, datetime, timedelta

from admission import admitter
from api.payments.cards import as_card
from workers.worker import make_worker
from yakku.queues import QueueName

GOOD_CARD = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}
DECLINED_CARD = {**GOOD_CARD, "card_number": "4000000000000002"}


def card_token(shop, account_id: int, card: dict = GOOD_CARD) -> str:
    """A payment-method token for a shopper's card, as the sale's submit makes one (`shop`: the
    orders_helpers fixture)."""
    body = {"card": as_card(card), "account_id": account_id}
    answer = shop.internal("POST", "/api/payments/methods", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]


class Sale:
    """One flash sale driven through the real APIs."""

    def __init__(self, app, client, operator, product_id: int, **settings):
        self.app, self.client, self.operator = app, client, operator
        body = {
            "product_id": product_id,
            "units": 5,
            "opens_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "admission_rate": 1000,
            "admitted_cap": 1000,
            "checkout_window_s": 120,
            "per_shopper_limit": 2,
            **settings,
        }
        answer = client.post("/api/sales", json=body, headers=operator.headers)
        assert answer.status_code == 201, answer.json
        self.id = answer.json["id"]

    def act(self, action: str) -> dict:
        answer = self.client.post(f"/api/sales/{self.id}/{action}", headers=self.operator.headers)
        assert answer.status_code == 200, answer.json
        return answer.json

    def join(self, shopper) -> dict:
        return self.client.post(f"/api/sales/{self.id}/queue", headers=shopper.headers).json

    def status(self, shopper) -> dict:
        return self.client.get(f"/api/sales/{self.id}/queue/me", headers=shopper.headers).json

    def admit(self) -> None:
        with self.app.app_context():
            admitter.tick(time.time())

    def checkout(self, shopper, ticket: str, quantity: int = 1, card: dict = GOOD_CARD):
        body = {"ticket": ticket, "quantity": quantity, "card": card}
        return self.client.post(f"/api/sales/{self.id}/checkout", json=body, headers=shopper.headers)

    def outcome(self, shopper, ticket: str) -> dict:
        return self.client.get(
            f"/api/sales/{self.id}/checkout", query_string={"ticket": ticket}, headers=shopper.headers
        ).json

    def drain(self) -> None:
        """Run every queued checkout job in-process, as a worker would."""
        make_worker(self.app, only=[QueueName.CHECKOUT]).work(burst=True)

    def audit(self) -> dict:
        answer = self.client.get(f"/api/sales/{self.id}/audit", headers=self.operator.headers)
        assert answer.status_code == 200, answer.json
        return answer.json
