"""The cart and the checkout in a real browser: add from a product and the wishlist, change, remove,
check out with a delivery address (every problem at once), a card with insufficient funds, paid, and the
confirmation e-mail's link followed; then the next checkout remembers the address. And a flash sale
shown on the home page and the catalog, joined from there, whose waiting room retitles the tab at the
shopper's turn."""

import re
import time
from datetime import date
from pathlib import Path

import pytest
from accounts_helpers import DEFAULT_PASSWORD
from page_helpers import PAYING_MS, htmx_ready
from playwright.sync_api import expect
from shop_sale_helpers import arm_sale
from sqlalchemy import select

from admission import admitter, sales
from api.catalog.models import Product
from yakku.extensions import db

pytestmark = pytest.mark.browser

NO_FUNDS_CARD = "4000 0000 0000 9995"
GOOD_CARD = "4242 4242 4242 4242"


def log_in(live_shop, page, email: str) -> None:
    page.goto(live_shop.url("/account/login"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#messages")).to_contain_text("Welcome")


def open_product(live_shop, page, name: str) -> None:
    page.goto(live_shop.url(f"/products?q={name.split()[0]}"))
    page.get_by_role("link", name=re.compile(name)).first.click()
    # The product page's own title, not the result's card (which titles it too): htmx_ready must wait
    # for the product page, not find the results page ready.
    expect(page.get_by_role("heading", level=1, name=re.compile(name))).to_be_visible()
    htmx_ready(page)


def tea_id(api_app) -> int:
    """The demo tea's id (ids are looked up: MySQL does not reuse them after the tables are emptied)."""
    with api_app.app_context():
        return db.session.scalars(select(Product.id).where(Product.name.like("Jeju%"))).one()


def fill_card(page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Month").select_option("12")
    page.get_by_label("Year").select_option(str(date.today().year + 2))
    page.get_by_label("CVC").fill("123")


def test_a_shopper_fills_a_cart_checks_out_and_follows_the_confirmation(live_shop, any_page, shoppers):
    page = any_page
    ada = shoppers.verified(name="Ada Lovelace", email=f"ada-cart-{page.yakku_viewport}@example.test")
    log_in(live_shop, page, ada.email)

    open_product(live_shop, page, "Jeju Green Tea")
    page.locator("#cart-form").get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-form")).to_contain_text("Added 2 to your cart")
    expect(page.locator("#cart-count")).to_contain_text("2")
    live_shop.screenshot(page, "product-added-to-cart")

    open_product(live_shop, page, "Hand-thrown Celadon Mug")
    page.get_by_role("button", name="Add to wishlist").click()
    # Added before the page is left: CI's MariaDB leg once left while the add was still on its way.
    expect(page.locator("#wishlist-form")).to_contain_text("Added 1 to your wishlist")
    page.get_by_role("link", name=re.compile("^Wishlist")).click()
    expect(page).to_have_url(re.compile(r"/wishlist$"))
    htmx_ready(page)
    page.get_by_role("button", name=re.compile("^Add to cart")).click()
    expect(page.locator(".wishlist-line")).to_contain_text("Added 1 to your cart")
    expect(page.locator("#cart-count")).to_contain_text("3")
    live_shop.screenshot(page, "wishlist-added-to-cart")

    page.get_by_role("link", name=re.compile("^Cart")).click()
    expect(page.locator(".cart-line")).to_have_count(2)
    expect(page.locator(".summary-total")).to_contain_text("₩68,000")
    htmx_ready(page)
    quantity = page.get_by_label("Quantity of Hand-thrown Celadon Mug")
    quantity.fill("50")
    quantity.dispatch_event("change")  # more than the 40 in stock: refused next to the field
    expect(page.locator(".cart-line .field-error")).to_contain_text("Only 40 left.")
    live_shop.screenshot(page, "cart-too-many")
    quantity = page.get_by_label("Quantity of Jeju Green Tea, 50 g")
    quantity.fill("3")
    quantity.dispatch_event("change")
    expect(page.locator(".summary-total")).to_contain_text("₩86,000")
    live_shop.screenshot(page, "cart")
    page.get_by_role("button", name="Remove Hand-thrown Celadon Mug from your cart").click()
    expect(page.locator(".cart-line")).to_have_count(1)
    expect(page.locator(".summary-total")).to_contain_text("₩54,000")

    page.get_by_role("button", name="Check out").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.get_by_label("Recipient")).to_have_value("Ada Lovelace")
    expect(page.get_by_label("Month")).to_have_value("")  # no expiry chosen for the shopper
    live_shop.screenshot(page, "checkout-delivery")
    page.get_by_label("Contact phone").fill("12")
    page.get_by_label("Postal code").fill("123")
    page.get_by_role("button", name="Pay ₩54,000").click()
    for field in ("phone", "postal_code", "address", "card_number", "exp_month", "cvc"):
        expect(page.locator(f"#{field}-error")).to_be_visible()
    live_shop.screenshot(page, "checkout-every-problem")

    page.get_by_label("Contact phone").fill("010-1234-5678")
    page.get_by_label("Postal code").fill("04524")
    page.get_by_label("Address", exact=True).fill("110 Sejong-daero, Jung-gu, Seoul")
    page.get_by_label("Apartment, floor, unit (optional)").fill("Apt 1203")
    fill_card(page, NO_FUNDS_CARD)
    page.get_by_role("button", name="Pay ₩54,000").click()
    no_funds = "Your card has insufficient funds — use another card."
    expect(page.locator("#card_number-error")).to_have_text(no_funds, timeout=PAYING_MS)
    live_shop.screenshot(page, "checkout-insufficient-funds")

    fill_card(page, GOOD_CARD)
    page.get_by_role("button", name="Pay ₩54,000").click()
    expect(page.locator("#messages")).to_contain_text("your order is paid", timeout=PAYING_MS)
    expect(page.locator("#delivery-heading")).to_be_visible()
    expect(page.locator(".delivery-summary")).to_contain_text("110 Sejong-daero")
    expect(page.locator("#cart-count")).to_be_empty()
    live_shop.screenshot(page, "order-paid-delivery")
    order_path = re.search(r"/orders/\d+", page.url).group(0)

    link = live_shop.mail.link_to(ada.email)  # the confirmation, the newest mail to her
    assert link.endswith(order_path)
    page.goto(link)
    expect(page.get_by_role("heading", name=re.compile(r"Order #\d+"))).to_be_visible()

    page.get_by_role("link", name=re.compile("^Cart")).click()
    expect(page.locator("#cart")).to_contain_text("Your cart is empty.")
    live_shop.screenshot(page, "cart-empty")
    open_product(live_shop, page, "Yuzu")
    page.get_by_role("button", name="Add to cart").click()
    # added before the shopper moves on: a navigation would cancel htmx's request still on its way
    expect(page.locator("#cart-form")).to_contain_text("Added 1 to your cart")
    page.goto(live_shop.url("/cart"))
    page.get_by_role("button", name="Check out").click()
    expect(page.get_by_label("Address", exact=True)).to_have_value("110 Sejong-daero, Jung-gu, Seoul")
    expect(page.get_by_label("Contact phone")).to_have_value("010-1234-5678")


def test_sales_show_in_the_shop_and_the_tab_says_when_it_is_your_turn(live_shop, any_page, shoppers):
    page = any_page
    api_app = live_shop.api_app
    sale_id = arm_sale(api_app, tea_id(api_app))
    ada = shoppers.verified(name="Ada Lovelace", email=f"ada-sale-{page.yakku_viewport}@example.test")
    log_in(live_shop, page, ada.email)

    page.goto(live_shop.url("/"))
    card = page.locator(".hero .sale-card")
    expect(card).to_contain_text("Jeju Green Tea, 50 g")
    # ticking down from the 5 minutes it opens in (however long the sign-in took on a loaded box)
    expect(card.locator(".sale-countdown")).to_have_text(re.compile(r"^[0-4]:[0-5]\d$"))
    live_shop.screenshot(page, "home-sale")
    page.goto(live_shop.url("/products"))
    expect(page.locator(".sales-strip .sale-card")).to_have_count(1)
    live_shop.screenshot(page, "catalog-sale")

    page.goto(live_shop.url("/"))
    page.get_by_role("button", name="Join the queue for Jeju Green Tea, 50 g").click()
    expect(page.get_by_role("heading", name=re.compile("You're in"))).to_be_visible()
    with api_app.app_context():
        sales.open_sale(sale_id, time.time())
    page.reload()
    expect(page.locator("#sale-status")).to_have_attribute("data-kind", "waiting")
    expect(page).to_have_title("Waiting room · Yakku")
    page.get_by_role("button", name="Alert me when it's my turn").click()
    expect(page.get_by_role("button", name="Turn alerts off")).to_have_attribute("aria-pressed", "true")
    live_shop.screenshot(page, "sale-waiting-alerts")
    with api_app.app_context():
        admitter.tick(time.time())
    expect(page.locator("#sale-status")).to_have_attribute("data-kind", "checkout", timeout=20_000)
    expect(page).to_have_title("● Your turn — check out now · Yakku")


def test_the_dashboard_names_products_asks_before_closing_and_exports_csv(live_shop, any_page, operator):
    page = any_page
    api_app = live_shop.api_app
    sale_id = arm_sale(api_app, tea_id(api_app))
    with api_app.app_context():
        sales.open_sale(sale_id, time.time())
    log_in(live_shop, page, operator.email)
    page.goto(live_shop.url("/ops"))
    expect(page.locator(".ops-table")).to_contain_text("Jeju Green Tea, 50 g")
    live_shop.screenshot(page, "dashboard-named")
    page.get_by_role("link", name=re.compile(f"#{sale_id}")).click()
    expect(page.locator(".ops-summary")).to_contain_text("Jeju Green Tea, 50 g")

    assert "cannot be undone" in answer_close(page, yes=False)
    expect(page.locator("[data-state]")).to_have_text("Open")  # the operator said no: still open
    answer_close(page, yes=True)
    expect(page.locator("[data-state]")).to_have_text("Closed")

    with page.expect_download() as download:
        page.get_by_role("link", name="Figures as CSV").click()
    assert download.value.suggested_filename == f"sale-{sale_id}-figures.csv"
    header = Path(download.value.path()).read_text(encoding="utf-8").splitlines()[0]
    assert header == "time_utc,seconds_since_opening,admitted,sold,waiting"


def answer_close(page, yes: bool) -> str:
    """Press Close and answer what the dashboard asks; the question.

    htmx asks in a dialog; a click that lands while the live panel has just replaced itself (htmx
    wires the new form up a moment later) submits without script, and the dashboard asks on a page: a
    post and a page load away, seconds on a busy box. Whichever it is, it is waited for.
    """
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        if yes:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", answer)
    page.get_by_role("button", name="Close").click()
    question = page.locator("#confirm-heading")
    deadline = time.monotonic() + 15
    while not asked:  # a dialog is answered as it opens, while this looks for the page
        try:
            expect(question).to_be_visible(timeout=250)
        except AssertionError:
            assert time.monotonic() < deadline, "closing was not asked"
            continue
        page.remove_listener("dialog", answer)  # asked on the page: no dialog for the next answer to meet
        said = question.locator("xpath=..").inner_text()
        if yes:
            page.get_by_role("button", name="Close the sale").click()
        else:
            page.get_by_role("link", name="Keep it open").click()
        return said
    return asked[0]
