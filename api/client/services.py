"""One declared client per internal service. A method names a verb and a path; its body is never run."""

from api.client.base import ServiceClient
from api.client.declare import delete, get, patch, post, put


class AccountsClient(ServiceClient):
    service = "accounts"

    @post("/api/accounts/signup")
    def sign_up(self, *, json: dict) -> dict: ...

    @post("/api/accounts/verify", idempotent=True)
    def verify(self, *, json: dict) -> dict: ...

    @post("/api/accounts/verification/resend", idempotent=True)
    def resend_verification(self, *, json: dict) -> dict: ...

    @post("/api/accounts/login")
    def login(self, *, json: dict) -> dict: ...

    @post("/api/accounts/token/refresh")
    def refresh(self) -> dict: ...

    @post("/api/accounts/logout")
    def logout(self, *, json: dict | None = None) -> None: ...

    @get("/api/accounts/me")
    def me(self) -> dict: ...


class CatalogClient(ServiceClient):
    service = "catalog"

    @get("/api/catalog/products")
    def products(self, *, params: dict | None = None) -> dict: ...

    @get("/api/catalog/products/{product_id}")
    def product(self, product_id: int) -> dict: ...

    @post("/api/catalog/products")
    def create_product(self, *, json: dict) -> dict: ...

    @patch("/api/catalog/products/{product_id}")
    def update_product(self, product_id: int, *, json: dict) -> dict: ...

    @delete("/api/catalog/products/{product_id}")
    def delete_product(self, product_id: int) -> None: ...

    @post("/api/catalog/stock/reservations", idempotent=True)
    def reserve_stock(self, *, json: dict) -> dict: ...

    @post("/api/catalog/stock/reservations/{key}/release", idempotent=True)
    def release_stock(self, key: str) -> dict: ...

    @post("/api/catalog/stock/reservations/{key}/commit", idempotent=True)
    def commit_stock(self, key: str) -> dict: ...


class WishlistClient(ServiceClient):
    service = "wishlist"

    @get("/api/wishlist")
    def items(self) -> dict: ...

    @put("/api/wishlist/items/{product_id}")
    def put_item(self, product_id: int, *, json: dict) -> dict: ...

    @patch("/api/wishlist/items/{product_id}", idempotent=True)
    def change_quantity(self, product_id: int, *, json: dict) -> dict: ...

    @delete("/api/wishlist/items/{product_id}")
    def remove_item(self, product_id: int) -> None: ...

    @delete("/api/wishlist")
    def clear(self) -> None: ...


class OrdersClient(ServiceClient):
    service = "orders"

    @post("/api/orders", idempotent=True)
    def create_order(self, *, json: dict) -> dict:
        """Place an order from {items, idempotency_key}; the key makes a retry return the same order."""

    @get("/api/orders")
    def list_orders(self, *, params: dict | None = None) -> dict: ...

    @get("/api/orders/{order_id}")
    def order(self, order_id: int) -> dict: ...

    @post("/api/orders/{order_id}/pay", idempotent=True)
    def pay(self, order_id: int, *, json: dict) -> dict:
        """Pay with {card_number, exp_month, exp_year, cvc, idempotency_key}; the key resumes one attempt."""

    @post("/api/orders/{order_id}/cancel")
    def cancel(self, order_id: int) -> dict: ...


class PaymentsClient(ServiceClient):
    service = "payments"
