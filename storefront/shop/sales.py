"""The flash sales a shopper can join, as the home page and the catalog show them.

The sale comes from Redis (admission's look-ups, as the product page's sale box reads it), its product
from the catalog: the SQL database is never asked, so a busy sale does not slow the shop's front page.
"""

import contextlib
import time
from datetime import UTC, datetime

from admission import lookup, sale_index
from api.client import catalog
from api.client.errors import ServiceError
from storefront.sale import room
from storefront.session import current_shopper

# Enough for a row of cards; the operator rarely runs more at once.
MAX_SHOWN = 4


def sales_on_show() -> list[dict]:
    """Live and upcoming sales, soonest first: each sale, its product, when it opens, the shopper's place."""
    shopper = current_shopper()
    shown = []
    for sale in sorted(_live_sales(), key=lambda sale: sale.opens_at)[:MAX_SHOWN]:
        with contextlib.suppress(ServiceError):  # a product gone from the catalog leaves its sale unshown
            product = catalog().product(sale.product_id)
            place = lookup.waiter_state(sale.id, int(shopper["id"])) if shopper else None
            shown.append(
                {
                    "sale": sale,
                    "product": product,
                    "place": place.value if place else None,
                    "opens_in": (opens_in := max(0, int(sale.opens_at - time.time()))),
                    "opens_in_text": room.clock(opens_in),
                    "opens_at": datetime.fromtimestamp(sale.opens_at, UTC),
                }
            )
    return shown


def _live_sales() -> list[lookup.LiveSale]:
    sales = (lookup.live_sale(sale_id) for sale_id in sale_index.active_sales())
    return [sale for sale in sales if sale and sale.state in lookup.SLOT_STATES]
