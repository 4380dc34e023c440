"""A shopper in a real browser forgets her password, resets it by mail, and looks after her account."""

from urllib.parse import urlsplit

import pytest
from cart_helpers import DELIVERY
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new passphrase"


def _shopper_with_an_order(shop, viewport: str):
    ada = shop.shoppers.verified(name="Ada Lovelace", email=f"ada-{viewport}@example.test")
    order = shop.order(ada, {shop.product(price=18_000)["id"]: 2}).json()
    shop.http.put(f"{shop.url}/api/orders/{order['id']}/delivery", json=DELIVERY, headers=ada.headers)
    return ada, order


def test_a_shopper_resets_a_forgotten_password_and_manages_her_account(live_shop, shop, any_page):
    page = any_page
    ada, order = _shopper_with_an_order(shop, page.yakku_viewport)

    page.goto(live_shop.url("/account/login"))
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    live_shop.screenshot(page, "password-forgot")
    page.get_by_label("E-mail address").fill(ada.email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    expect(page.locator("main")).to_contain_text(ada.email)

    link = live_shop.mail.link_to(ada.email)
    assert urlsplit(link).path == "/account/reset"
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password").fill("short")
    page.get_by_role("button", name="Set my new password").click()
    expect(page.locator("#password-error")).to_contain_text("8 to 128 characters")
    live_shop.screenshot(page, "password-reset")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set my new password").click()
    expect(page.locator("#messages")).to_contain_text("signed out everywhere")
    page.goto(link)  # the same link again: used
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    expect(page.locator("main")).to_contain_text("used already")
    live_shop.screenshot(page, "password-reset-used")

    page.goto(live_shop.url("/account/login"))
    page.get_by_label("E-mail address").fill(ada.email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#messages")).to_contain_text("Ada Lovelace")
    page.get_by_role("link", name="Account", exact=True).click()
    expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
    expect(page.locator("#addresses")).to_contain_text(DELIVERY["address"])
    expect(page.get_by_role("link", name=f"Order #{order['id']}")).to_be_visible()
    live_shop.screenshot(page, "account")

    page.get_by_role("button", name=f"Make default: {DELIVERY['address']}").click()
    expect(page.locator("#messages")).to_contain_text("Your next orders go to this address")
    expect(page.get_by_role("button", name="Forget this default")).to_be_visible()
    page.get_by_label("Current password").fill("not the password")
    page.get_by_label("New password").fill("yet another passphrase")
    page.get_by_role("button", name="Change my password").click()
    expect(page.locator("#current_password-error")).to_contain_text("The password is wrong.")
    live_shop.screenshot(page, "account-password-wrong")
