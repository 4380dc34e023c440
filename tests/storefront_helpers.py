"""Action helpers for storefront tests: a seeded catalog and a shopper signed in to the web app.

def test_something(live_api, web, shop_web):
    ada = shop_web.sign_in()              # a verified shopper, logged in through the login form
    web.get("/wishlist")
"""

import pytest
from sqlalchemy import select

from api.catalog.models import Product
from api.catalog.seed import seed_demo_catalog
from yakku.extensions import db


class ShopWeb:
    """Drives the storefront's own forms with the web test client."""

    def __init__(self, api_app, web, shoppers):
        self.api_app, self.web, self.shoppers = api_app, web, shoppers

    def seed(self) -> None:
        """Put the demo products in the catalog; `ids` maps each name's first word to its id.

        Ids are looked up, never assumed: MySQL does not reuse them after the tables are emptied.
        """
        with self.api_app.app_context():
            seed_demo_catalog()
            products = db.session.scalars(select(Product)).all()
            self.ids = {product.name.split()[0].rstrip(","): product.id for product in products}

    def sign_in(self, member=None):
        """Log a (new, verified) shopper in through the login form; returns the Member."""
        member = member or self.shoppers.verified()
        answer = self.web.post("/account/login", data={"email": member.email, "password": member.password})
        assert answer.status_code == 302, answer.get_data(as_text=True)
        return member


@pytest.fixture
def shop_web(live_api, app, web, shoppers) -> ShopWeb:
    """A seeded catalog served over HTTP, and helpers that use the storefront as a shopper would."""
    helper = ShopWeb(live_api, web, shoppers)
    helper.seed()
    return helper
