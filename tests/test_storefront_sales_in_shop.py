"""Flash sales where shoppers browse: the home page and the catalog show live and upcoming sales with a
countdown, the units and a way in; the waiting room's title says when it is the shopper's turn."""

import re
import time

import pytest
from cart_helpers import text_of
from shop_sale_helpers import arm_sale

from admission import admitter, sales


@pytest.fixture
def tea_sale(app, shop_web):
    """An armed sale of 3 units of the tea, opening in five minutes; `.open()` and `.admit()` move it."""

    class Sale:
        product_id = shop_web.ids["Jeju"]

        def __init__(self):
            self.id = arm_sale(app, self.product_id)

        def open(self):
            with app.app_context():
                sales.open_sale(self.id, time.time())

        def admit(self):
            with app.app_context():
                admitter.tick(time.time())

    return Sale()


def test_no_sale_no_strip_and_the_hero_shows_the_shelves(shop_web, web):
    home = text_of(web.get("/"))
    assert 'id="sales-heading"' not in home and "sale-card" not in home
    assert 'class="hero-shelf"' in home and home.count('<li><a href="/products/') >= 4


def test_an_upcoming_sale_counts_down_on_the_home_page_and_in_the_catalog(shop_web, web, tea_sale):
    home = text_of(web.get("/"))
    card = re.search(r'<article class="sale-card".*?</article>', home, re.S).group(0)
    assert "Jeju Green Tea, 50 g" in card and "3 units" in card and "2 per shopper" in card
    assert re.search(r'Opens in <time class="sale-countdown"[^>]*data-countdown="(29\d|300)"', card)
    assert "Log in to join" in card
    assert "js/countdown.js" in home
    catalog = text_of(web.get("/products"))
    assert 'id="sales-heading"' in catalog and "Opens in" in catalog
    assert "sale-card" not in text_of(web.get("/products?q=mug"))  # a search shows only what it found


def test_a_shopper_joins_from_the_home_page_and_then_sees_their_place(shop_web, web, tea_sale):
    shop_web.sign_in()
    assert f'action="/sales/{tea_sale.id}/join"' in text_of(web.get("/"))
    joined = web.post(f"/sales/{tea_sale.id}/join")
    assert joined.headers["Location"] == f"/sales/{tea_sale.id}/wait"
    tea_sale.open()
    home = text_of(web.get("/"))
    assert "<strong>On now</strong>" in home and "See your place" in home


def test_the_waiting_rooms_title_says_when_it_is_the_shoppers_turn(shop_web, web, tea_sale):
    tea_sale.open()
    shop_web.sign_in()
    web.post(f"/sales/{tea_sale.id}/join")
    waiting = text_of(web.get(f"/sales/{tea_sale.id}/wait"))
    assert "<title>Waiting room · Yakku</title>" in waiting
    assert 'id="turn-alerts"' in waiting and "js/turn.js" in waiting
    tea_sale.admit()
    turn = text_of(web.get(f"/sales/{tea_sale.id}/wait"))
    assert "<title>● Your turn — check out now · Yakku</title>" in turn
