"""Browsing the catalog, and the operator's changes to it."""

from pathlib import Path

import pytest
from catalog_helpers import add_product, stock_of
from sqlalchemy import func, select

from api.catalog.models import Product
from api.catalog.seed import DEMO_PRODUCTS, seed_demo_catalog
from yakku.extensions import db

STATIC = Path(__file__).resolve().parent.parent / "static"
NEW = {"name": "Yuzu Honey Tea, 1 kg", "description": "Goheung yuzu in honey.", "price": 15_900, "stock": 5}


def count_products(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Product))


def test_list_is_paged_in_id_order(app, client):
    ids = [add_product(app, name=f"Notebook {n}") for n in range(25)]
    pages = [client.get(f"/api/catalog/products?page={page}&per_page=10").json for page in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [10, 10, 5]
    assert [item["id"] for p in pages for item in p["items"]] == ids
    assert {(p["total"], p["pages"], p["per_page"]) for p in pages} == {(25, 3, 10)}
    past_the_end = client.get("/api/catalog/products?page=4&per_page=10").json
    assert past_the_end["items"] == [] and past_the_end["total"] == 25


def test_list_defaults_to_twenty_per_page(app, client):
    for n in range(21):
        add_product(app, name=f"Tote {n}")
    answer = client.get("/api/catalog/products").json
    assert (len(answer["items"]), answer["page"], answer["per_page"], answer["pages"]) == (20, 1, 20, 2)


@pytest.mark.parametrize(
    "query, field",
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_paging_bounds_are_validated(client, query, field):
    answer = client.get(f"/api/catalog/products?{query}")
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "validation_error"
    assert field in answer.json["error"]["fields"]


def test_per_page_maximum_is_accepted(app, client):
    add_product(app)
    assert client.get("/api/catalog/products?per_page=100").json["per_page"] == 100


def test_search_matches_name_or_description_ignoring_case(app, client):
    tea = add_product(app, name="Jeju Green Tea")
    mug = add_product(app, name="Celadon Mug", description="Holds a cup of TEA.")
    add_product(app, name="Desk Lamp", description="Warm light.")
    found = client.get("/api/catalog/products?q=tea").json
    assert [item["id"] for item in found["items"]] == [tea, mug]
    assert found["total"] == 2
    assert client.get("/api/catalog/products?q=%20%20").json["total"] == 3  # blank q means no filter


@pytest.mark.parametrize(
    "q, expected",
    [("100%", ["100% cotton"]), ("a_b", ["a_b tee"]), ("!", ["Wow!"]), ("%", ["100% cotton"])],
)
def test_search_treats_wildcards_literally(app, client, q, expected):
    for name in ("100% cotton", "1000 cotton", "a_b tee", "axb tee", "Wow!"):
        add_product(app, name=name)
    answer = client.get("/api/catalog/products", query_string={"q": q}).json
    assert [item["name"] for item in answer["items"]] == expected


def test_detail_says_whether_it_is_in_stock(app, client):
    sold_out = add_product(app, stock=0)
    plenty = add_product(app, stock=3, image_url="/static/img/celadon-mug.svg")
    assert client.get(f"/api/catalog/products/{sold_out}").json["in_stock"] is False
    product = client.get(f"/api/catalog/products/{plenty}").json
    assert product["in_stock"] is True
    assert product["currency"] == "KRW"
    assert product["price"] == 32_000 and product["stock"] == 3
    assert product["image_url"] == "/static/img/celadon-mug.svg"


@pytest.mark.parametrize("path", ["999999", "0", "99999999999999999999", "abc", "-1"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_products_answer_not_found_and_change_nothing(app, client, operator, method, path):
    add_product(app)
    answer = getattr(client, method)(
        f"/api/catalog/products/{path}", json={"price": 1}, headers=operator.headers
    )
    assert answer.status_code == 404
    assert set(answer.json["error"]) == {"code", "message", "fields"}
    assert answer.json["error"]["code"] in {"product_not_found", "not_found"}
    assert count_products(app) == 1


def test_a_deleted_product_vanishes_but_its_row_stays(app, client, operator):
    kept = add_product(app, name="Kept")
    gone = add_product(app, name="Gone")
    assert client.delete(f"/api/catalog/products/{gone}", headers=operator.headers).status_code == 204
    assert client.get(f"/api/catalog/products/{gone}").json["error"]["code"] == "product_not_found"
    assert [item["id"] for item in client.get("/api/catalog/products").json["items"]] == [kept]
    assert client.get("/api/catalog/products?q=Gone").json["total"] == 0
    assert client.delete(f"/api/catalog/products/{gone}", headers=operator.headers).status_code == 404
    patch = client.patch(f"/api/catalog/products/{gone}", json={"price": 1}, headers=operator.headers)
    assert patch.status_code == 404
    with app.app_context():
        row = db.session.get(Product, gone)
        assert row.active is False and row.price == 32_000


@pytest.fixture
def who(request, shoppers, operator):
    """Headers of an anonymous caller, a shopper, or the operator."""
    return {"anonymous": {}, "shopper": shoppers.verified().headers, "operator": operator.headers}[
        request.param
    ]


@pytest.mark.parametrize(
    "who, allowed",
    [("anonymous", 401), ("shopper", 403), ("operator", None)],
    indirect=["who"],
)
@pytest.mark.parametrize("action", ["create", "update", "delete"])
def test_only_operators_change_the_catalog(app, client, who, allowed, action):
    product_id = add_product(app, name="Original", price=1000)
    calls = {
        "create": lambda: client.post("/api/catalog/products", json=NEW, headers=who),
        "update": lambda: client.patch(f"/api/catalog/products/{product_id}", json={"price": 1}, headers=who),
        "delete": lambda: client.delete(f"/api/catalog/products/{product_id}", headers=who),
    }
    answer = calls[action]()
    if allowed:
        assert answer.status_code == allowed
        assert answer.json["error"]["code"] in {"unauthorized", "forbidden"}
        assert count_products(app) == 1
        assert client.get(f"/api/catalog/products/{product_id}").json["price"] == 1000
    else:
        assert answer.status_code == {"create": 201, "update": 200, "delete": 204}[action]


def test_operator_creates_and_edits_a_product(app, client, operator):
    created = client.post("/api/catalog/products", json=NEW, headers=operator.headers)
    assert created.status_code == 201
    product = created.json
    assert {k: product[k] for k in NEW} == NEW
    assert product["currency"] == "KRW" and product["image_url"] is None and product["in_stock"] is True
    changed = client.patch(
        f"/api/catalog/products/{product['id']}",
        json={"stock": 0, "image_url": "https://images.example.test/yuzu.png"},
        headers=operator.headers,
    ).json
    assert changed["stock"] == 0 and changed["in_stock"] is False
    assert changed["image_url"] == "https://images.example.test/yuzu.png"
    assert changed["name"] == NEW["name"] and changed["price"] == NEW["price"]
    cleared = client.patch(
        f"/api/catalog/products/{product['id']}", json={"image_url": None}, headers=operator.headers
    )
    assert cleared.json["image_url"] is None


@pytest.mark.parametrize("price", [-1, 10**9 + 1, 10**30, 1.5, 100.0, "1000", None, True, [], {}])
def test_prices_must_be_whole_minor_units_in_range(app, client, operator, price):
    answer = client.post("/api/catalog/products", json={**NEW, "price": price}, headers=operator.headers)
    assert answer.status_code == 422
    assert "price" in answer.json["error"]["fields"]
    assert count_products(app) == 0


@pytest.mark.parametrize("price", [0, 10**9])
def test_price_bounds_are_inclusive(client, operator, price):
    answer = client.post("/api/catalog/products", json={**NEW, "price": price}, headers=operator.headers)
    assert answer.status_code == 201 and answer.json["price"] == price


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "x" * 100_000}, "name"),
        ({"description": "d" * 5001}, "description"),
        ({"stock": -1}, "stock"),
        ({"stock": 2.5}, "stock"),
        ({"image_url": "javascript:alert(1)"}, "image_url"),
        ({"image_url": "ftp://example.test/a.png"}, "image_url"),
        ({"image_url": "//evil.test/a.png"}, "image_url"),
        ({"image_url": "https://example.test/" + "a" * 500}, "image_url"),
    ],
)
def test_bad_fields_are_refused_on_create_and_update(app, client, operator, changes, field):
    product_id = add_product(app, name="Original", stock=4)
    created = client.post("/api/catalog/products", json={**NEW, **changes}, headers=operator.headers)
    updated = client.patch(f"/api/catalog/products/{product_id}", json=changes, headers=operator.headers)
    for answer in (created, updated):
        assert answer.status_code == 422
        assert field in answer.json["error"]["fields"]
    assert count_products(app) == 1
    assert stock_of(app, product_id) == 4


def test_longest_name_is_accepted(client, operator):
    answer = client.post("/api/catalog/products", json={**NEW, "name": "가" * 200}, headers=operator.headers)
    assert answer.status_code == 201 and answer.json["name"] == "가" * 200


def test_required_fields_are_named(client, operator):
    answer = client.post("/api/catalog/products", json={}, headers=operator.headers)
    assert answer.status_code == 422
    assert {"name", "price"} <= set(answer.json["error"]["fields"])


def test_seed_makes_the_demo_catalog_once(app, client):
    with app.app_context():
        assert seed_demo_catalog() == len(DEMO_PRODUCTS) >= 10
        assert seed_demo_catalog() == 0
    products = client.get("/api/catalog/products?per_page=100").json["items"]
    assert len(products) == len(DEMO_PRODUCTS)
    for product in products:
        assert product["price"] > 0 and product["stock"] > 0 and product["description"]
        image = STATIC / product["image_url"].removeprefix("/static/")
        assert image.suffix == ".svg" and image.read_text().startswith("<svg")
        assert 100 < image.stat().st_size < 2000


def test_seed_leaves_an_existing_catalog_alone(app):
    add_product(app, name="The operator's own")
    with app.app_context():
        assert seed_demo_catalog() == 0
    assert count_products(app) == 1


def test_the_catalog_and_wishlist_documents_are_served(config):
    from yakku.factory import create_api_app

    client = create_api_app(config, services=("catalog", "wishlist")).test_client()
    catalog = client.get("/api/catalog/openapi.json")
    assert catalog.status_code == 200
    assert "/api/catalog/stock/reservations" in catalog.json["paths"]
    assert catalog.json["components"]["securitySchemes"]["ServiceToken"]["name"] == "X-Service-Token"
    assert "/api/wishlist/items/{product_id}" in client.get("/api/wishlist/openapi.json").json["paths"]
