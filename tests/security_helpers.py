"""Action helpers for attacks on the storefront: a copy of a shopper's cookie, an open sale to join."""

import flask

from storefront.session import refresh_tokens


def copy_of_cookie(web, web_app):
    """A second browser holding a copy of `web`'s session cookie, as a thief who copied it would."""
    thief = web_app.test_client()
    thief.set_cookie("session", web.get_cookie("session").value)
    return thief


def rotate_tokens(web, web_app) -> None:
    """Refresh the token pair in `web`'s session, as the shop does once its access token expires."""
    with web.session_transaction() as cookie, web_app.test_request_context():
        flask.session["tokens"] = cookie["tokens"]
        refresh_tokens()
        cookie["tokens"] = flask.session["tokens"]


def open_sale(app, shop_web) -> int:
    """An armed, open sale of a demo product (as the storefront's sale tests make one); its id."""
    from test_storefront_sale import SaleWeb

    sale = SaleWeb(app, shop_web)
    sale.open()
    return sale.id


def sent_to_log_in(answer) -> bool:
    """Whether the storefront answered by sending the browser to the login page."""
    return answer.status_code == 302 and answer.headers["Location"].startswith("/account/login")
