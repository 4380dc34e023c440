"""A shopper in a real browser: sign up, confirm by mail, log in, search, wishlist, a declined card, paid."""

import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from page_helpers import PAYING_MS, htmx_ready
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
DECLINED_CARD = "4000 0000 0000 0002"
GOOD_CARD = "4242 4242 4242 4242"


def test_a_shopper_signs_up_buys_and_sees_the_order_paid(live_shop, any_page):
    page = any_page
    email = f"ada-{page.yakku_viewport}@example.test"
    phone = page.yakku_viewport == "phone"

    page.goto(live_shop.url("/"))
    expect(page.get_by_role("heading", name="Featured")).to_be_visible()
    expect(page.locator(".product-card")).to_have_count(8)
    live_shop.screenshot(page, "home")

    page.get_by_role("link", name="Sign up").click()
    page.get_by_role("button", name="Create account").click()  # empty: the form answers next to the fields
    expect(page.locator(".field-error").first).to_be_visible()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_contain_text("8 to 128 characters")
    live_shop.screenshot(page, "signup-errors")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    expect(page.locator("main")).to_contain_text(email)
    live_shop.screenshot(page, "check-email")

    link = live_shop.mail.link_to(email)
    assert urlsplit(link).path == "/account/verify"
    page.goto(link)
    expect(page.get_by_role("heading", name="Your address is confirmed")).to_be_visible()
    live_shop.screenshot(page, "verified")
    page.goto(link)  # the same link again: used
    expect(page.get_by_role("heading", name="This link did not work")).to_be_visible()
    expect(page.locator("main")).to_contain_text("already been used")
    live_shop.screenshot(page, "verify-used")

    page.get_by_role("link", name="Log in").last.click()
    # On the login page before typing: the page left has an "E-mail address" too (its resend form).
    expect(page.get_by_role("heading", name="Log in", exact=True)).to_be_visible()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#password-error")).to_contain_text("wrong")
    live_shop.screenshot(page, "login-wrong")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#messages")).to_contain_text("Welcome, Ada Lovelace")  # her first login

    page.goto(live_shop.url("/products"))
    htmx_ready(page)
    page.locator("#q").fill("tea")  # htmx searches as the shopper types
    expect(page.locator(".result-count")).to_contain_text("results for “tea”")
    expect(page).to_have_url(re.compile(r"/products\?q=tea"))
    cards = page.locator("#results .product-card")
    expect(cards.filter(has_text="Jeju Green Tea")).to_have_count(1)
    expect(cards.filter(has_text="Mechanical Keyboard")).to_have_count(0)
    live_shop.screenshot(page, "catalog-search")

    page.get_by_role("link", name=re.compile("Jeju Green Tea")).click()
    # The product page's own title: the catalog's card titles the product too.
    expect(page.get_by_role("heading", level=1, name="Jeju Green Tea, 50 g")).to_be_visible()
    expect(page.locator(".product-price")).to_have_text("₩18,000")
    live_shop.screenshot(page, "product")
    htmx_ready(page)
    page.locator("#wishlist-form").get_by_label("Quantity").fill("2")  # the cart's form has one too
    page.get_by_role("button", name="Add to wishlist").click()
    expect(page.locator("#wishlist-form")).to_contain_text("Added 2 to your wishlist")
    expect(page.locator("#wishlist-count")).to_contain_text("2")  # units, as the wishlist's summary counts
    live_shop.screenshot(page, "product-added")

    page.get_by_role("link", name=re.compile("^Wishlist")).click()
    expect(page.locator(".wishlist-line")).to_have_count(1)
    expect(page.locator(".summary-total")).to_contain_text("₩36,000")
    htmx_ready(page)
    quantity = page.get_by_label("Quantity of Jeju Green Tea, 50 g")
    quantity.fill("3")
    quantity.dispatch_event("change")  # inline: htmx swaps the line and the total
    expect(page.locator(".summary-total")).to_contain_text("₩54,000")
    expect(page.locator(".line-subtotal")).to_have_text("₩54,000")
    live_shop.screenshot(page, "wishlist")

    page.get_by_role("button", name="Buy now").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.get_by_role("button", name="Pay ₩54,000")).to_be_visible()
    live_shop.screenshot(page, "checkout")

    _fill_delivery(page)  # her first checkout: no delivery yet
    _fill_card(page, DECLINED_CARD)
    page.get_by_role("button", name="Pay ₩54,000").click()
    declined = "Payment declined — try another card."
    expect(page.locator("#card_number-error")).to_have_text(declined, timeout=PAYING_MS)
    expect(page.get_by_label("Card number")).to_have_attribute("aria-invalid", "true")
    live_shop.screenshot(page, "checkout-declined")

    _fill_card(page, GOOD_CARD)  # the delivery is kept from the declined attempt
    page.get_by_role("button", name="Pay ₩54,000").click()
    expect(page.locator("#messages")).to_contain_text("your order is paid", timeout=PAYING_MS)
    expect(page.locator(".section-head .state")).to_have_text("Paid")
    expect(page.locator(".timeline-step")).to_have_count(5)  # created, pending, failed, pending, paid
    expect(page.locator("#wishlist-count")).to_be_empty()  # what was bought left the wishlist
    live_shop.screenshot(page, "order-paid")

    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.locator(".order-row")).to_have_count(1)
    expect(page.locator(".order-row .state")).to_have_text("Paid")
    live_shop.screenshot(page, "orders")

    if phone:  # a phone's header has no room for it: it waits on the account page
        page.get_by_role("link", name="Account", exact=True).click()
        # On the account page (the orders page left has the header's hidden Log out too), once its
        # stylesheet applies: CI's embedded leg once found both buttons before it did.
        expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
        header_logout = page.locator(".header-nav .nav-logout")
        expect(header_logout).to_have_count(1)
        expect(header_logout).to_be_hidden()
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#messages")).to_contain_text("You are logged out")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    if not phone:
        page.goto(live_shop.url("/wishlist"))
        expect(page).to_have_url(re.compile(r"/account/login\?next="))


def _fill_delivery(page) -> None:
    page.get_by_label("Contact phone").fill("010-1234-5678")
    page.get_by_label("Postal code").fill("04524")
    page.get_by_label("Address", exact=True).fill("110 Sejong-daero, Jung-gu, Seoul")


def _fill_card(page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Month").select_option("12")
    page.get_by_label("Year").select_option(str(date.today().year + 2))
    page.get_by_label("CVC").fill("123")
