"""The orders service's calls to the catalog and payments services, with their errors made ours.

Every call but two (below) goes over HTTP through the declarative client: the catalog owns products
and stock, payments owns charges, and neither table is ever read from here, only through the owning
service's own functions. Each call first frees this request's database connection (see
api.common.release_connection).

Two calls may skip the hop, in a process that serves the other service too (the api and internal
pools serve every service unless YAKKU_SERVICES says otherwise); that service's own function
answers, with its own rules:
- a drain's batch of charges: they are built here from the orders' own locked rows, so validating
  them again as an HTTP body, and encoding and decoding hundreds of charges twice, bought nothing
  (the hop was a tenth of the api's CPU per paid checkout: docs/performance.md);
- a product's price: asked over HTTP, every batch of a drain waited for a request into its own pool,
  which a pool of single-request workers (all busy with batches) could never answer.
"""

import logging

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from api.catalog import services as catalog_services
from api.catalog.exceptions import ProductNotFound
from api.catalog.schemas import ProductOut
from api.client import catalog, payments
from api.client.errors import ServiceConflict, ServiceError, ServiceNotFound, ServiceUnavailable
from api.common import release_connection
from api.orders.exceptions import (
    IdempotencyConflict,
    InsufficientStock,
    ProductUnavailable,
    ServiceDown,
)
from api.payments import batch as payments_batch
from yakku.errors import YakkuError
from yakku.extensions import db

log = logging.getLogger(__name__)


def product(product_id: int) -> dict | None:
    """The catalog's product (name, price, currency), or None when it is not on sale; in this process
    when it serves the catalog, failing as the HTTP call would (the database away: the catalog down)."""
    release_connection()
    if _serves("catalog"):
        try:
            return ProductOut().dump(catalog_services.get_product(product_id))
        except ProductNotFound:
            return None
        except SQLAlchemyError as error:
            db.session.rollback()
            raise ServiceDown(fields={"catalog": f"database: {type(error).__name__}"}) from None
    try:
        return catalog().product(product_id)
    except ServiceNotFound:
        return None
    except ServiceUnavailable as error:
        raise ServiceDown(fields={"catalog": error.reason}) from None


def reserve(key: str, items: list[dict]) -> dict:
    """Hold the items' units in the catalog under `key`; raises when they cannot all be held."""
    release_connection()
    try:
        return catalog().reserve_stock(json={"key": key, "items": items})
    except ServiceConflict as error:
        if error.code == "idempotency_conflict":
            raise IdempotencyConflict(fields=error.fields) from None
        raise InsufficientStock(fields=error.fields) from None
    except ServiceNotFound as error:
        raise ProductUnavailable(fields=error.fields) from None
    except ServiceUnavailable as error:
        raise ServiceDown(fields={"catalog": error.reason}) from None


def release(key: str) -> bool:
    """Give a reservation's units back (once; repeats change nothing); False if the catalog is away."""
    release_connection()
    try:
        catalog().release_stock(key=key)
    except ServiceNotFound:
        return True  # nothing was ever held under this key
    except (ServiceUnavailable, ServiceError) as error:
        log.warning("could not release stock reservation %s: %r", key, error)
        return False
    return True


def commit(key: str) -> bool:
    """Keep a reservation's units sold; False if the catalog could not be told (the units stay held)."""
    release_connection()
    try:
        catalog().commit_stock(key=key)
    except (ServiceUnavailable, ServiceError) as error:
        log.warning("could not commit stock reservation %s: %r", key, error)
        return False
    return True


def charge(payload: dict) -> dict:
    """Ask payments to charge; its errors (402 declined, 422 card, unavailable) reach the caller."""
    release_connection()
    return payments().charge(json=payload)


def charge_batch(payload: dict) -> dict:
    """Ask payments to charge many orders in one call: {items: [{idempotency_key, payment, error}]};
    in this process when it serves payments, failing as the HTTP call would (the database away:
    unavailable; payments refusing the whole call: its error), so the caller's rules are the same."""
    release_connection()
    if not _serves("payments"):
        return payments().charge_batch(json=payload)
    try:
        return {"items": payments_batch.answered(payload["charges"])}
    except SQLAlchemyError as error:
        db.session.rollback()
        raise ServiceUnavailable("payments", f"database: {type(error).__name__}") from None
    except YakkuError as error:
        db.session.rollback()
        raise ServiceError("payments", error.status, error.code, error.message, error.fields) from None


def _serves(service: str) -> bool:
    """Whether this process serves `service` itself."""
    return service in current_app.extensions.get("yakku.services", ())


def refund(payment_id: int) -> dict:
    """Ask payments to refund a captured payment (once; repeats answer the refunded payment)."""
    release_connection()
    try:
        return payments().refund(payment_id=payment_id)
    except ServiceUnavailable as error:
        raise ServiceDown(fields={"payments": error.reason}) from None


def payments_of(order_id: int) -> list[dict]:
    """Every payment payments holds for an order, newest first."""
    release_connection()
    try:
        return payments().by_order(order_id=order_id)["items"]
    except ServiceUnavailable as error:
        raise ServiceDown(fields={"payments": error.reason}) from None


def settle_payment(payment_id: int) -> dict:
    """Ask payments to settle a pending payment with its provider."""
    release_connection()
    try:
        return payments().settle(payment_id=payment_id)
    except ServiceUnavailable as error:
        raise ServiceDown(fields={"payments": error.reason}) from None
