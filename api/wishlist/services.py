"""The wishlist's rules: each account sees and changes only its own list."""

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from api.client import catalog
from api.client.errors import ServiceNotFound
from api.common import release_connection
from api.wishlist.exceptions import NotInWishlist, ProductNotFound, WishlistFull
from api.wishlist.models import WishlistItem
from yakku.extensions import db

# Ids are INT columns on MySQL: anything larger can name no row.
MAX_ID = 2**31 - 1
# As many lines as one order takes, so "buy my wishlist" always fits in one order.
MAX_ITEMS = 50


def product_exists(product_id: int) -> bool:
    """Whether the catalog sells this product (it exists and is not deleted)."""
    if not 0 < product_id <= MAX_ID:
        return False
    release_connection()  # the catalog may be served by this very process, from the same pool
    try:
        catalog().product(product_id)
    except ServiceNotFound:
        return False
    return True


def items_of(account_id: int) -> list[WishlistItem]:
    """An account's wishlist, oldest addition first."""
    query = (
        select(WishlistItem)
        .where(WishlistItem.account_id == account_id)
        .order_by(WishlistItem.added_at, WishlistItem.id)
    )
    return list(db.session.scalars(query))


def _count(account_id: int) -> int:
    return db.session.scalar(select(func.count()).where(WishlistItem.account_id == account_id))


def put_item(account_id: int, product_id: int, quantity: int) -> WishlistItem:
    """Add a product to the wishlist, or set its quantity if it is there already."""
    if not product_exists(product_id):
        raise ProductNotFound(fields={"product_id": product_id})
    item = _find(account_id, product_id)
    if item is None:
        if _count(account_id) >= MAX_ITEMS:
            raise WishlistFull(fields={"product_id": [f"A wishlist holds at most {MAX_ITEMS} products."]})
        db.session.add(WishlistItem(account_id=account_id, product_id=product_id, quantity=quantity))
        try:
            db.session.commit()
        except IntegrityError:
            # The same PUT arrived twice at once: the other one made the row, so set its quantity.
            db.session.rollback()
        else:
            return _find(account_id, product_id)
        item = _find(account_id, product_id)
    item.quantity = quantity
    db.session.commit()
    return item


def change_quantity(account_id: int, product_id: int, quantity: int) -> WishlistItem:
    """Set the quantity of a product already on the wishlist."""
    item = _find(account_id, product_id)
    if item is None:
        raise NotInWishlist(fields={"product_id": product_id})
    item.quantity = quantity
    db.session.commit()
    return item


def remove_item(account_id: int, product_id: int) -> None:
    """Take a product off the wishlist."""
    removed = db.session.execute(
        delete(WishlistItem).where(
            WishlistItem.account_id == account_id, WishlistItem.product_id == product_id
        )
    )
    if removed.rowcount == 0:
        db.session.rollback()
        raise NotInWishlist(fields={"product_id": product_id})
    db.session.commit()


def clear(account_id: int) -> int:
    """Empty the wishlist; how many items it held."""
    removed = db.session.execute(delete(WishlistItem).where(WishlistItem.account_id == account_id))
    db.session.commit()
    return removed.rowcount


def _find(account_id: int, product_id: int) -> WishlistItem | None:
    if not 0 < product_id <= MAX_ID:
        return None
    query = select(WishlistItem).where(
        WishlistItem.account_id == account_id, WishlistItem.product_id == product_id
    )
    return db.session.scalars(query).first()
