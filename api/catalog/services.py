"""The catalog's rules for products: listing, search, and the operator's changes."""

from flask import current_app
from sqlalchemy import or_, select

from api.catalog.exceptions import ProductNotFound
from api.catalog.models import Product
from api.catalog.schemas import MAX_ID
from api.common import page_of
from yakku.extensions import db

# The LIKE escape character: "!" rather than a backslash, which MySQL would read as a string escape.
LIKE_ESCAPE = "!"
EDITABLE = ("name", "description", "price", "image_url", "stock")


def like_pattern(words: str) -> str:
    """A LIKE pattern matching `words` literally anywhere: % and _ in them match only themselves."""
    escaped = words.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def list_products(q: str = "", page: int = 1, per_page: int = 20) -> dict:
    """One page of the products on sale, in id order, optionally those mentioning `q`."""
    query = select(Product).where(Product.active.is_(True)).order_by(Product.id)
    words = q.strip()
    if words:
        pattern = like_pattern(words)
        query = query.where(
            or_(
                Product.name.ilike(pattern, escape=LIKE_ESCAPE),
                Product.description.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
    return page_of(query, page, per_page)


def get_product(product_id: int) -> Product:
    """A product on sale; ProductNotFound for an unknown or deleted one."""
    product = db.session.get(Product, product_id) if 0 < product_id <= MAX_ID else None
    if product is None or not product.active:
        raise ProductNotFound(fields={"product_id": product_id})
    return product


def create_product(data: dict) -> Product:
    """Put a new product on sale, priced in the shop's currency."""
    product = Product(
        currency=current_app.config["CATALOG_CURRENCY"],
        active=True,
        **{name: data[name] for name in EDITABLE if name in data},
    )
    db.session.add(product)
    db.session.commit()
    return product


def update_product(product_id: int, changes: dict) -> Product:
    """Change some of a product's fields; `stock` sets the count of units on hand."""
    product = get_product(product_id)
    for name in EDITABLE:
        if name in changes:
            setattr(product, name, changes[name])
    db.session.commit()
    return product


def delete_product(product_id: int) -> None:
    """Take a product off sale; its row stays so past orders and reservations keep it."""
    product = get_product(product_id)
    product.active = False
    db.session.commit()
