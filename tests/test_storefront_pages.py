"""Storefront pages: they render, errors read as sentences, htmx gets fragments, CSRF and cookies hold."""

import pytest

from storefront.formatting import money
from storefront.session import safe_next
from yakku.factory import create_web_app


def _text(answer) -> str:
    return answer.get_data(as_text=True)


def assert_readable(answer) -> None:
    """An error page a shopper can read: HTML, no stack trace, no raw JSON."""
    body = _text(answer)
    assert answer.mimetype == "text/html"
    assert "Traceback" not in body
    assert '{"error"' not in body and "'error':" not in body


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "Featured"),
        ("/products", "Catalog"),
        ("/products?q=tea", "3 results for “tea”"),
        ("/products/{Jeju}", "Jeju Green Tea, 50 g"),
        ("/account/signup", "Create an account"),
        ("/account/login", "Log in"),
        ("/account/check-email", "Check your e-mail"),
    ],
)
def test_pages_render(shop_web, web, path, heading):
    answer = web.get(path.format(**shop_web.ids))
    assert answer.status_code == 200
    assert heading in _text(answer)
    assert "HX-Request" in answer.headers["Vary"]


def test_a_product_shows_its_price_in_won_and_its_stock(shop_web, web):
    body = _text(web.get(f"/products/{shop_web.ids['Mechanical']}"))
    assert "₩139,000" in body
    assert "In stock" in body
    assert 'id="sale-slot"' in body
    assert "Log in to add it to your wishlist" in body


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (0, "KRW", "₩0"),
        (18_000, "KRW", "₩18,000"),
        (1_234_567, "KRW", "₩1,234,567"),
        (-500, "KRW", "-₩500"),
        (1250, "USD", "$12.50"),
        (5, "USD", "$0.05"),
        (700, "XYZ", "7.00 XYZ"),
    ],
)
def test_money_uses_integer_minor_units_and_thousands_separators(amount, currency, shown):
    assert money(amount, currency) == shown


def test_catalog_answers_htmx_with_the_results_fragment(shop_web, web):
    answer = web.get("/products?q=tea", headers={"HX-Request": "true", "HX-Target": "results"})
    body = _text(answer)
    assert answer.status_code == 200
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body
    assert "Jeju Green Tea" in body and "Mechanical Keyboard" not in body
    assert "HX-Request" in answer.headers["Vary"]
    assert "<html" in _text(web.get("/products?q=tea"))


def test_catalog_pages_through_results(shop_web, web):
    first, second = _text(web.get("/products?page=1")), _text(web.get("/products?page=2"))
    assert "12 products" in first  # twelve demo products, twelve a page: one page, no pager
    assert 'aria-label="Pages"' not in first
    assert "Jeju Green Tea" not in second  # past the last page: an empty page, not an error


@pytest.mark.parametrize("path", ["/products/2000000000", "/orders/2000000000", "/no-such-page"])
def test_missing_things_are_readable_404s(shop_web, web, path):
    if path.startswith("/orders"):
        shop_web.sign_in()
    answer = web.get(path)
    assert answer.status_code == 404
    assert_readable(answer)


def test_a_missing_product_says_why(shop_web, web):
    assert "no longer sold" in _text(web.get("/products/2000000000"))


@pytest.fixture
def services_down(config):
    """Point the web app at a port nothing listens on, and do not wait on retries."""
    config.update(API_URL="http://127.0.0.1:9", SERVICE_ATTEMPTS=1)


def test_unreachable_services_give_a_readable_503(services_down, web):
    answer = web.get("/")
    assert answer.status_code == 503
    assert_readable(answer)
    assert "not answering right now" in _text(answer)


def test_htmx_errors_land_in_the_message_area(services_down, web):
    answer = web.get("/products?q=x", headers={"HX-Request": "true", "HX-Target": "results"})
    assert answer.status_code == 503
    assert answer.headers["HX-Retarget"] == "#messages"
    assert "<html" not in _text(answer) and "not answering" in _text(answer)
    assert "HX-Request" in answer.headers["Vary"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/account/signup"),
        ("post", "/account/login"),
        ("post", "/account/logout"),
        ("post", "/wishlist/items/1"),
        ("post", "/orders/1/pay"),
    ],
)
def test_forms_refuse_a_post_without_the_csrf_token(live_api, app, config, method, path):
    web = create_web_app({**config, "WTF_CSRF_ENABLED": True}).test_client()
    answer = getattr(web, method)(path, data={"email": "a@example.test", "password": "x" * 10})
    assert answer.status_code == 400
    assert_readable(answer)
    assert "form has expired" in _text(answer)


def test_pages_carry_the_csrf_token_for_forms_and_htmx(live_api, app, config):
    web = create_web_app({**config, "WTF_CSRF_ENABLED": True}).test_client()
    body = _text(web.get("/account/login"))
    assert 'name="csrf_token"' in body
    assert "X-CSRFToken" in body


def test_the_session_cookie_is_http_only_and_same_site(shop_web, web):
    web.get("/account/login")
    cookie = web.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


@pytest.mark.parametrize("path", ["/wishlist", "/orders", "/orders/1", "/orders/1/checkout"])
def test_shopper_pages_send_visitors_to_log_in_and_back(shop_web, web, path):
    answer = web.get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/account/login?next=")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/wishlist", "/wishlist"),
        ("/orders?page=2", "/orders?page=2"),
        ("https://evil.test/", "/"),
        ("//evil.test/x", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_only_local_paths_are_followed_after_login(target, expected):
    assert safe_next(target) == expected
