"""Browsing: the home page, the searchable catalog, and a product's page."""

from collections.abc import Callable

from flask import current_app, render_template, request
from markupsafe import Markup

from api.client import catalog
from storefront.shop.blueprint import bp
from storefront.shop.forms import AddToCartForm, AddToWishlistForm
from storefront.shop.sales import sales_on_show

FEATURED_COUNT = 8
PER_PAGE = 12
LOW_STOCK = 10
# Other areas (the flash sale) add a callable(product) -> Markup | None here to fill the product page's slot.
PRODUCT_SLOTS = "yakku.product_slots"


def add_product_slot(app, render: Callable[[dict], Markup | str | None]) -> None:
    """Let another area show something on product pages (a sale's countdown and join button)."""
    app.extensions.setdefault(PRODUCT_SLOTS, []).append(render)


def stock_state(product: dict) -> dict:
    """How to tell a shopper about stock: a short label and a tone for its badge."""
    stock = product.get("stock") or 0
    if not product.get("in_stock") or stock <= 0:
        return {"label": "Sold out", "tone": "out"}
    if stock <= LOW_STOCK:
        return {"label": f"Only {stock} left", "tone": "low"}
    return {"label": "In stock", "tone": "in"}


@bp.app_context_processor
def _helpers():
    return {"stock_state": stock_state}


@bp.get("/")
def home():
    featured = catalog().products(params={"page": 1, "per_page": FEATURED_COUNT})
    return render_template("storefront/shop/home.html", products=featured["items"], sales=sales_on_show())


@bp.get("/products")
def products():
    q = request.args.get("q", "").strip()[:200]
    page = request.args.get("page", 1, type=int) or 1
    result = catalog().products(params={"q": q, "page": max(page, 1), "per_page": PER_PAGE})
    context = {"result": result, "q": q}
    if request.htmx and request.htmx.target == "results":
        return render_template("storefront/shop/_results.html", **context)
    return render_template("storefront/shop/catalog.html", sales=sales_on_show(), **context)


@bp.get("/products/<int:product_id>")
def product(product_id: int):
    item = catalog().product(product_id)  # a 404 becomes the readable "no longer sold" page
    slots = [render(item) for render in current_app.extensions.get(PRODUCT_SLOTS, [])]
    return render_template(
        "storefront/shop/product.html",
        product=item,
        form=AddToWishlistForm(formdata=None),
        cart_form=AddToCartForm(formdata=None),
        slots=[Markup(slot) for slot in slots if slot],
    )
