"""Action helpers for order and payment tests: products, shoppers' orders and payments over real HTTP.

    def test_something(shop):
        ada = shop.shopper()
        product = shop.product(price=1500, stock=3)
        order = shop.order(ada, {product["id"]: 2}).json()
        shop.pay(ada, order["id"], "4242 4242 4242 4242")

Every call goes to the live services on loopback (the `live_api` fixture), as another process would.
"""

import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from accounts_helpers import DEFAULT_PASSWORD, Member, drain_mail, outbox_messages, stored_account, token_in

from api.auth import sign_service_token

SUCCEEDS = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"
INSUFFICIENT_FUNDS = "4000 0000 0000 9995"
TIMES_OUT = "4000 0000 0000 0119"
_names = itertools.count(1)


class Shop:
    """A shop under test: an operator who stocks it, shoppers who buy, and a service's eye view."""

    def __init__(self, app, config, operator, shoppers):
        self.app, self.operator, self.shoppers = app, operator, shoppers
        self.url = config["API_URL"]
        self.secret = config["SERVICE_SECRET"]
        self.http = requests.Session()

    def shopper(self):
        """A verified, signed-in shopper."""
        return self.shoppers.verified()

    def crowd(self, size: int) -> list:
        """`size` verified, signed-in shoppers, signed up side by side through the accounts API."""
        emails = [f"crowd{next(_names)}-{uuid.uuid4().hex[:6]}@example.test" for _ in range(size)]

        def sign_up(email):
            body = {"name": email.split("@")[0], "email": email, "password": DEFAULT_PASSWORD}
            answer = requests.post(f"{self.url}/api/accounts/signup", json=body, timeout=30)
            assert answer.status_code == 202, answer.text
            return Member(stored_account(self.app, email)[0], body["name"], email, DEFAULT_PASSWORD)

        def verify_and_log_in(member):
            token = token_in(outbox_messages(self.app, to=member.email)[-1])
            assert requests.post(f"{self.url}/api/accounts/verify", json={"token": token}).status_code == 200
            body = {"email": member.email, "password": member.password}
            tokens = requests.post(f"{self.url}/api/accounts/login", json=body, timeout=30).json()
            member.access_token, member.refresh_token = tokens["access_token"], tokens["refresh_token"]
            return member

        with ThreadPoolExecutor(min(size, 10)) as pool:
            members = list(pool.map(sign_up, emails))
            drain_mail(self.app)
            return list(pool.map(verify_and_log_in, members))

    def product(self, price: int = 1000, stock: int = 10) -> dict:
        """A product on sale, created by the operator."""
        body = {"name": f"Product {next(_names)}", "price": price, "stock": stock}
        answer = self.http.post(f"{self.url}/api/catalog/products", json=body, headers=self.operator.headers)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def stock_of(self, product_id: int) -> int:
        """Units the catalog has left."""
        return self.http.get(f"{self.url}/api/catalog/products/{product_id}").json()["stock"]

    def order(self, member, items: dict[int, int], key: str | None = None, **extra) -> requests.Response:
        """POST /api/orders for {product_id: quantity}."""
        body = {"items": [{"product_id": p, "quantity": q} for p, q in items.items()], **extra}
        body["idempotency_key"] = key or uuid.uuid4().hex
        return requests.post(f"{self.url}/api/orders", json=body, headers=member.headers, timeout=30)

    def pay(self, member, order_id: int, number: str = SUCCEEDS, key: str | None = None) -> requests.Response:
        """POST /api/orders/<id>/pay with a card valid until next year."""
        body = {"card_number": number, "exp_month": 12, "exp_year": 2099, "cvc": "123"}
        body["idempotency_key"] = key or uuid.uuid4().hex
        return requests.post(
            f"{self.url}/api/orders/{order_id}/pay", json=body, headers=member.headers, timeout=30
        )

    def get(self, member, path: str) -> requests.Response:
        """GET a shopper path."""
        return self.http.get(f"{self.url}{path}", headers=member.headers)

    def post(self, member, path: str, json: dict | None = None) -> requests.Response:
        """POST a shopper path."""
        return self.http.post(f"{self.url}{path}", json=json, headers=member.headers)

    @property
    def service_headers(self) -> dict:
        """Headers of a call made by another Yakku service."""
        return {"X-Service-Token": sign_service_token(self.secret, "tests")}

    def internal(self, verb: str, path: str, json: dict | None = None) -> requests.Response:
        """A call to an internal endpoint, with a valid service token."""
        return self.http.request(verb, f"{self.url}{path}", json=json, headers=self.service_headers)

    def payments_of(self, order_id: int) -> list[dict]:
        """The payments service's records of an order."""
        answer = self.internal("GET", f"/api/payments/internal/by-order/{order_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]


@pytest.fixture
def shop(live_api, app, config, operator, shoppers) -> Shop:
    """Products, shoppers and their orders and payments, over the live services on loopback."""
    return Shop(app, config, operator, shoppers)
