"""Security headers on every answer of both apps: what a browser may load, frame, sniff and refer.

A small after_request rather than flask-talisman: the two apps need different policies (the
storefront's pages, the APIs' JSON, the API docs page with its Swagger UI), HSTS follows the
deployment's public URL, and talisman would also take over the session-cookie flags and the
HTTPS redirect, which storefront/session.py and the proxy in front already own.
"""

from urllib.parse import urlsplit

from flask import Flask, request
from flask.wrappers import Response

# The storefront: its own scripts and styles only (no inline script or handler anywhere), the
# data: favicon, nothing framing it (the join and pay buttons cannot be clickjacked).
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
# JSON loads nothing at all.
API_POLICY = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'"
# The API docs page is APIFlask's Swagger UI: its vendored bundle, started by APIFlask's inline script.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "same-origin",  # a verification link's token never leaves in a Referer
    "Cross-Origin-Opener-Policy": "same-origin",
}


def page_policy(events_url: str = "") -> str:
    """The storefront's policy; its pages may also connect to the events process, if there is one."""
    if not events_url:
        return PAGE_POLICY
    parts = urlsplit(events_url)
    return PAGE_POLICY.replace("connect-src 'self'", f"connect-src 'self' {parts.scheme}://{parts.netloc}")


def init_app(app: Flask, policy: str, public_url_setting: str, docs_path: str | None = None) -> None:
    """Add the headers to every answer of `app`, with `policy` as its Content-Security-Policy."""
    behind_https = app.config[public_url_setting].startswith("https://")

    def secure_headers(response: Response) -> Response:
        headers = response.headers
        for name, value in COMMON.items():
            headers.setdefault(name, value)
        headers.setdefault("Content-Security-Policy", DOCS_POLICY if request.path == docs_path else policy)
        if behind_https or request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    app.after_request(secure_headers)
