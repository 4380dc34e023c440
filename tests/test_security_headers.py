"""Security headers on every page and every API answer; no inline script for the CSP to refuse
(issue 12, item 8)."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "storefront" / "templates"
PAGES = ["/", "/products", "/account/login", "/account/signup", "/orders", "/ops", "/static/css/yakku.css"]
API_ANSWERS = ["/api/health", "/api/catalog/products", "/api/accounts/me", "/api/openapi.json", "/api/docs"]


def assert_secure_headers(answer) -> None:
    headers = answer.headers
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_security_headers(web, path):
    answer = web.get(path)
    assert_secure_headers(answer)
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "Strict-Transport-Security" not in answer.headers  # plain http: HSTS would be a lie


@pytest.mark.parametrize("path", API_ANSWERS)
def test_every_api_answer_carries_the_security_headers(client, path):
    assert_secure_headers(client.get(path))


def test_behind_https_pages_ask_for_https_only(web):
    answer = web.get("/", base_url="https://shop.test")
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_no_template_has_inline_script_or_handlers():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:|hx-on|\bstyle=", re.I)
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in TEMPLATES.rglob("*.html")
        for match in inline.finditer(path.read_text())
    ]
    assert offenders == []


def test_the_api_docs_load_nothing_from_another_origin(client):
    page = client.get("/api/docs")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.get_data(as_text=True))
    assert assets and all(asset.startswith("/api/") for asset in assets), assets
    assert all(client.get(asset).status_code == 200 for asset in assets)
    policy = page.headers["Content-Security-Policy"]
    assert "https:" not in policy and "script-src 'self' 'unsafe-inline'" in policy
