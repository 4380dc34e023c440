"""One declared client per internal service. A method names a verb and a path; its body is never run.

`internal=True` marks a call between services (a route behind `service_required`, or the probe a drain
asks before it): it goes to the internal pool, never behind shoppers' requests in the public one. A
service's or a worker's other calls go there too (SERVICE_INTERNAL_CALLS, api/client/__init__.py).
"""

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

    @post("/api/accounts/me/delete")
    def delete_me(self, *, json: dict) -> None: ...

    @patch("/api/accounts/me", idempotent=True)
    def rename_me(self, *, json: dict) -> dict: ...

    @post("/api/accounts/me/email")
    def change_my_email(self, *, json: dict) -> dict:
        """Send a link to {email} (confirmed by {password}) that moves the account there."""

    @post("/api/accounts/me/password")
    def change_my_password(self, *, json: dict) -> dict:
        """{current_password, new_password}: a fresh token pair; every other session ends."""

    @post("/api/accounts/email/confirm", idempotent=True)
    def confirm_email_change(self, *, json: dict) -> dict: ...

    @post("/api/accounts/password/forgot")
    def forgot_password(self, *, json: dict) -> dict: ...

    @post("/api/accounts/password/reset/check", idempotent=True)
    def check_reset_link(self, *, json: dict) -> None: ...

    @post("/api/accounts/password/reset")
    def reset_password(self, *, json: dict) -> None:
        """{token, password}; not retried, since a repeat would find the link used."""

    @get("/api/accounts/internal/{account_id}", internal=True)
    def internal_account(self, account_id: int) -> dict:
        """Any account's id, name and e-mail (service token only), for the order e-mails."""


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

    @post("/api/catalog/stock/reservations", idempotent=True, internal=True)
    def reserve_stock(self, *, json: dict) -> dict: ...

    @post("/api/catalog/stock/reservations/{key}/release", idempotent=True, internal=True)
    def release_stock(self, key: str) -> dict: ...

    @post("/api/catalog/stock/reservations/{key}/commit", idempotent=True, internal=True)
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


class CartClient(ServiceClient):
    service = "cart"

    @get("/api/cart")
    def items(self) -> dict: ...

    @post("/api/cart/items/{product_id}")
    def add(self, product_id: int, *, json: dict) -> dict:
        """Add {quantity} more units; not retried, since a repeat would add them twice."""

    @put("/api/cart/items/{product_id}")
    def set_quantity(self, product_id: int, *, json: dict) -> dict: ...

    @delete("/api/cart/items/{product_id}")
    def remove(self, product_id: int) -> None: ...

    @delete("/api/cart")
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
        """Pay with {payment_method, idempotency_key} (or the card's fields in the token's place); the key
        resumes one attempt."""

    @post("/api/orders/{order_id}/cancel")
    def cancel(self, order_id: int) -> dict: ...

    @put("/api/orders/{order_id}/delivery")
    def set_delivery(self, order_id: int, *, json: dict) -> dict:
        """Say where an unpaid order goes: {recipient, phone, postal_code, address, address_detail}."""

    @get("/api/orders/delivery/latest")
    def latest_delivery(self) -> dict:
        """The shopper's default address, else their last order's details; 404 when neither exists."""

    @get("/api/orders/delivery/addresses")
    def addresses(self) -> dict:
        """{default, used}: the default address (or null) and the recent orders' addresses."""

    @put("/api/orders/delivery/default")
    def set_default_address(self, *, json: dict) -> dict: ...

    @delete("/api/orders/delivery/default")
    def forget_default_address(self) -> None: ...

    @post("/api/orders/internal/batch", idempotent=True, internal=True)
    def create_sale_orders(self, *, json: dict) -> dict:
        """Record many sale orders from {sale_id, orders: [{account_id, items, idempotency_key}]}: {items}."""

    @post("/api/orders/internal/batch/pay", idempotent=True, internal=True)
    def pay_sale_orders(self, *, json: dict) -> dict:
        """Pay many sale orders from {payments: [{order_id, payment_method, idempotency_key}]}: {items}."""

    @get("/api/orders/internal/{order_id}", internal=True)
    def internal_order(self, order_id: int) -> dict:
        """Any order (internal): id, account_id, state, total, currency, lines..."""

    @post("/api/orders/internal/{order_id}/transition", internal=True)
    def transition(self, order_id: int, *, json: dict) -> dict:
        """Move an order through the transition table with {to, reason}; 409 illegal_transition."""

    @post("/api/orders/internal/{order_id}/cancel", idempotent=True, internal=True)
    def internal_cancel(self, order_id: int) -> dict:
        """Cancel (or refund) an order; a cancelled or refunded order is answered as it is."""

    @get("/api/orders/internal/sales/{sale_id}/summary", internal=True)
    def sale_summary(self, sale_id: int) -> dict:
        """A sale's orders and units by state, for its audit."""

    @get("/api/orders/internal/sales/{sale_id}/ledger", internal=True)
    def sale_ledger(self, sale_id: int) -> dict:
        """Every order of a sale: {allotment, items: [{order_id, account_id, key, state, units}]}."""

    @post("/api/orders/internal/{order_id}/settle", idempotent=True, internal=True)
    def settle(self, order_id: int) -> dict:
        """Settle a payment left pending by asking payments (the reconciler's call)."""

    # Tried once: whoever probes asks again later.
    @get("/api/health", idempotent=False, internal=True)
    def health(self) -> dict:
        """Whether the orders process reaches its database and Redis (503 when it does not)."""


class PaymentsClient(ServiceClient):
    service = "payments"

    # Retried like a read: a repeated call makes one more token, and the unused one expires.
    @post("/api/payments/methods", idempotent=True, internal=True)
    def tokenise(self, *, json: dict) -> dict:
        """Turn {card: {number, exp_month, exp_year, cvc}, account_id} into {token, brand, last4, ...}."""

    @post("/api/payments/charges", idempotent=True, internal=True)
    def charge(self, *, json: dict) -> dict:
        """Charge {order_id, amount, currency, idempotency_key, payment_method (or card)}; 402 declined,
        422 payment_method_expired, 504 timed out."""

    @post("/api/payments/charges/batch", idempotent=True, internal=True)
    def charge_batch(self, *, json: dict) -> dict:
        """Charge many {order, amount, currency, idempotency_key, payment_method}: {items: [{payment,
        error}]}."""

    @get("/api/payments/{payment_id}", internal=True)
    def payment(self, payment_id: int) -> dict: ...

    @post("/api/payments/{payment_id}/refund", idempotent=True, internal=True)
    def refund(self, payment_id: int) -> dict:
        """Refund a captured payment, once."""

    @post("/api/payments/{payment_id}/settle", idempotent=True, internal=True)
    def settle(self, payment_id: int) -> dict:
        """Ask the provider what became of a pending payment."""

    @post("/api/payments/internal/captures", idempotent=True, internal=True)
    def captures(self, *, json: dict) -> dict:
        """{payments_by_state, captured_by_order} for {order_ids}."""

    @get("/api/payments/internal/by-order/{order_id}", internal=True)
    def by_order(self, order_id: int) -> dict:
        """{items: [payments of the order, newest first]}."""

    @get("/api/payments/internal/ready", idempotent=False, internal=True)
    def ready(self) -> dict:
        """Whether a charge can go through now (503 while the database or the provider is away); tried
        once."""


class SalesClient(ServiceClient):
    """The flash sale's operator API (served by the api process beside the other services)."""

    service = "sales"

    @get("/api/sales")
    def list_sales(self) -> dict: ...

    @post("/api/sales")
    def create_sale(self, *, json: dict) -> dict: ...

    @get("/api/sales/{sale_id}")
    def sale(self, sale_id: int) -> dict: ...

    @patch("/api/sales/{sale_id}")
    def update_sale(self, sale_id: int, *, json: dict) -> dict: ...

    @post("/api/sales/{sale_id}/arm")
    def arm(self, sale_id: int) -> dict: ...

    @post("/api/sales/{sale_id}/open")
    def open(self, sale_id: int) -> dict: ...

    @post("/api/sales/{sale_id}/pause")
    def pause(self, sale_id: int) -> dict: ...

    @post("/api/sales/{sale_id}/resume")
    def resume(self, sale_id: int) -> dict: ...

    @post("/api/sales/{sale_id}/close")
    def close(self, sale_id: int) -> dict: ...

    @post("/api/sales/{sale_id}/settle", idempotent=True)
    def settle(self, sale_id: int) -> dict:
        """Give a closed sale's leftover units back; safe to repeat."""

    @get("/api/sales/{sale_id}/audit")
    def audit(self, sale_id: int) -> dict: ...

    @get("/api/sales/{sale_id}/draw")
    def draw(self, sale_id: int) -> dict:
        """The sale's published draw (open to anyone)."""
