"""The idempotency key of a request: in the body or in the Idempotency-Key header, not two different ones."""

import re

from flask import request

from api.orders.exceptions import InvalidInput

HEADER = "Idempotency-Key"
_SHAPE = re.compile(r"^[A-Za-z0-9._:~-]{1,100}$")


def idempotency_key(body: dict) -> str:
    """The request's key; 422 when it is missing, malformed, or the body and header disagree."""
    in_body = body.get("idempotency_key")
    in_header = request.headers.get(HEADER)
    if in_body and in_header and in_body != in_header:
        raise InvalidInput(fields={"idempotency_key": ["The body and the Idempotency-Key header differ."]})
    key = in_body or in_header
    if not key:
        message = "Send an idempotency_key or an Idempotency-Key header."
        raise InvalidInput(fields={"idempotency_key": [message]})
    if not _SHAPE.match(key):
        raise InvalidInput(fields={"idempotency_key": ["Use 1 to 100 letters, digits and . _ : ~ -"]})
    return key


def shop_order_key(account_id: int, client_key: str) -> str:
    """A shop order's stored key: the shopper's own key, scoped to them."""
    return f"shop:{account_id}:{client_key}"


def sale_order_key(sale_id: int, ticket_key: str) -> str:
    """A sale order's stored key: the sale's key for the ticket, scoped to the sale."""
    return f"sale:{sale_id}:{ticket_key}"
