"""The catalog's HTTP endpoints: public browsing, operator changes, the internal stock API."""

from api.auth import operator_required, service_required
from api.catalog import services, stock
from api.catalog.blueprint import bp
from api.catalog.schemas import (
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
    ProductQuery,
    ReservationIn,
    ReservationOut,
)

# Error responses are listed by status only: apiflask documents them with the app's error schema.
OPERATOR_ONLY = [401, 403, 422]
SERVICE_ONLY = {"security": "ServiceToken", "responses": [401, 404, 409, 422]}


@bp.get("/products")
@bp.input(ProductQuery, location="query")
@bp.output(ProductPage)
def list_products(query_data: dict):
    """Products on sale, a page at a time, optionally searched by name or description."""
    return services.list_products(query_data["q"], query_data["page"], query_data["per_page"])


@bp.get("/products/<int:product_id>")
@bp.output(ProductOut)
@bp.doc(responses=[404])
def get_product(product_id: int):
    """One product on sale."""
    return services.get_product(product_id)


@bp.post("/products")
@operator_required
@bp.input(ProductIn)
@bp.output(ProductOut, status_code=201)
@bp.doc(security="BearerAuth", responses=OPERATOR_ONLY)
def create_product(json_data: dict):
    """Put a new product on sale (operators only)."""
    return services.create_product(json_data)


@bp.patch("/products/<int:product_id>")
@operator_required
@bp.input(ProductPatch)
@bp.output(ProductOut)
@bp.doc(security="BearerAuth", responses=[*OPERATOR_ONLY, 404])
def update_product(product_id: int, json_data: dict):
    """Change a product's fields (operators only)."""
    return services.update_product(product_id, json_data)


@bp.delete("/products/<int:product_id>")
@operator_required
@bp.output({}, status_code=204)
@bp.doc(security="BearerAuth", responses=[*OPERATOR_ONLY, 404])
def delete_product(product_id: int):
    """Take a product off sale (operators only); past orders keep it."""
    services.delete_product(product_id)
    return ""


@bp.post("/stock/reservations")
@service_required
@bp.input(ReservationIn)
@bp.output(ReservationOut, status_code=201)
@bp.doc(**SERVICE_ONLY)
def reserve_stock(json_data: dict):
    """Take units of several products out of stock under a key, all or none (internal)."""
    reservation, created = stock.reserve(json_data["key"], json_data["items"])
    return reservation, 201 if created else 200


@bp.get("/stock/reservations/<path:key>")
@service_required
@bp.output(ReservationOut)
@bp.doc(**SERVICE_ONLY)
def get_reservation(key: str):
    """A reservation and its state (internal)."""
    return stock.get_reservation(key)


@bp.post("/stock/reservations/<path:key>/release")
@service_required
@bp.output(ReservationOut)
@bp.doc(**SERVICE_ONLY)
def release_stock(key: str):
    """Return a reservation's units to stock, exactly once (internal)."""
    return stock.release(key)


@bp.post("/stock/reservations/<path:key>/commit")
@service_required
@bp.output(ReservationOut)
@bp.doc(**SERVICE_ONLY)
def commit_stock(key: str):
    """Keep a held reservation's units sold (internal)."""
    return stock.commit(key)
