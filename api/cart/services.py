"""The cart's rules: each account changes only its own cart, and never holds more than the shop has."""

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from api.cart.exceptions import CartFull, NotEnoughStock, NotInCart, ProductNotFound
from api.cart.models import MAX_QUANTITY, CartItem
from api.client import catalog
from api.client.errors import ServiceNotFound
from api.common import release_connection
from yakku.extensions import db

# Ids are INT columns on MySQL: anything larger can name no row.
MAX_ID = 2**31 - 1
# As many lines as one order takes, so a whole cart always checks out as one order.
MAX_LINES = 50


def items_of(account_id: int) -> list[CartItem]:
    """An account's cart, oldest addition first."""
    query = select(CartItem).where(CartItem.account_id == account_id).order_by(CartItem.added_at, CartItem.id)
    return list(db.session.scalars(query))


def add(account_id: int, product_id: int, quantity: int) -> CartItem:
    """Put `quantity` more units of a product in the cart (a new line, or on top of the one there)."""
    item = _find(account_id, product_id)
    wanted = min((item.quantity if item else 0) + quantity, MAX_QUANTITY)
    _check_stock(product_id, wanted)
    if item is None:
        if _lines(account_id) >= MAX_LINES:
            raise CartFull(fields={"product_id": [f"A cart holds at most {MAX_LINES} products."]})
        db.session.add(CartItem(account_id=account_id, product_id=product_id, quantity=wanted))
        try:
            db.session.commit()
            return _find(account_id, product_id)
        except IntegrityError:  # the same add arrived twice at once: the other one made the line
            db.session.rollback()
            item = _find(account_id, product_id)
    item.quantity = wanted
    db.session.commit()
    return item


def set_quantity(account_id: int, product_id: int, quantity: int) -> CartItem:
    """Set how many units of a product already in the cart the shopper wants."""
    item = _find(account_id, product_id)
    if item is None:
        raise NotInCart(fields={"product_id": product_id})
    if quantity > item.quantity:  # lowering a quantity is always allowed, even below a vanished stock
        _check_stock(product_id, quantity)
    item.quantity = quantity
    db.session.commit()
    return item


def remove(account_id: int, product_id: int) -> None:
    """Take a product out of the cart."""
    removed = db.session.execute(
        delete(CartItem).where(CartItem.account_id == account_id, CartItem.product_id == product_id)
    )
    if removed.rowcount == 0:
        db.session.rollback()
        raise NotInCart(fields={"product_id": product_id})
    db.session.commit()


def clear(account_id: int) -> int:
    """Empty the cart; how many lines it held."""
    removed = db.session.execute(delete(CartItem).where(CartItem.account_id == account_id))
    db.session.commit()
    return removed.rowcount


def _check_stock(product_id: int, quantity: int) -> None:
    """Refuse a quantity the catalog could not sell now; the order's reservation has the last word."""
    if not 0 < product_id <= MAX_ID:
        raise ProductNotFound(fields={"product_id": product_id})
    release_connection()  # the catalog may be served by this very process, from the same pool
    try:
        product = catalog().product(product_id)
    except ServiceNotFound:
        raise ProductNotFound(fields={"product_id": product_id}) from None
    stock = product["stock"] if product["in_stock"] else 0
    if quantity > stock:
        left = f"Only {stock} left." if stock else "Sold out."
        raise NotEnoughStock(fields={"quantity": [left]})


def _lines(account_id: int) -> int:
    return db.session.scalar(select(func.count()).where(CartItem.account_id == account_id))


def _find(account_id: int, product_id: int) -> CartItem | None:
    if not 0 < product_id <= MAX_ID:
        return None
    query = select(CartItem).where(CartItem.account_id == account_id, CartItem.product_id == product_id)
    return db.session.scalars(query).first()
