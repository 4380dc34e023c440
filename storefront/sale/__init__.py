"""The flash sale as a shopper sees it: the product page's countdown and join button, the waiting room,
the checkout with the ticket's countdown, and the outcome. Redis only, through admission's functions."""

import time
from datetime import UTC, datetime

from flask import Flask, render_template
from markupsafe import Markup

from admission import lookup
from storefront.sale import room, views  # noqa: F401  (views registers the routes on bp)
from storefront.sale.blueprint import bp
from storefront.session import current_shopper
from storefront.shop.catalog import add_product_slot


def init_app(app: Flask) -> None:
    """Register the sale's pages and fill the product page's sale slot."""
    app.register_blueprint(bp)
    add_product_slot(app, product_slot)


def product_slot(product: dict) -> Markup | None:
    """For a product with a live sale: its countdown (or that it is on) and the join button."""
    sale = lookup.live_sale_for_product(int(product["id"]))
    if sale is None:
        return None
    shopper = current_shopper()
    place = lookup.waiter_state(sale.id, int(shopper["id"])) if shopper else None
    return Markup(
        render_template(
            "storefront/sale/_slot.html",
            sale=sale,
            place=place,
            opens_in=max(0, int(sale.opens_at - time.time())),
            opens_at=datetime.fromtimestamp(sale.opens_at, UTC),
            clock=room.clock,
        )
    )
