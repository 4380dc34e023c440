"""Redis away: the shop says it is busy (503, in the API's error shape or as a readable page) within
seconds, instead of holding the request or answering "something went wrong", and serves again as soon
as Redis answers.

A real redis-server of the test's own, frozen with SIGSTOP (a Redis that hangs: every command goes
unanswered) or stopped (every connection refused).
"""

import contextlib
import os
import signal
import time

import pytest

from yakku.factory import create_api_app, create_web_app
from yakku.private_redis import PrivateRedis

# redis-py gives up on an unanswered command after its socket timeout, 5 s; the answer follows.
ANSWERED_WITHIN_S = 8.0
SALE = 4242  # no such sale: asking its end still asks Redis
API_END, PAGE_END = f"/api/sales/{SALE}/end", f"/sales/{SALE}/end"


@pytest.fixture
def own_redis(tmp_path):
    with PrivateRedis(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def shop(app, config, own_redis):
    """The api and the storefront with every role of Redis on `own_redis`."""
    url = own_redis.url
    settings = {**config, "REDIS_URL": url, "SALES_REDIS_URL": url, "QUEUE_REDIS_URL": url}
    return create_api_app(settings).test_client(), create_web_app(settings).test_client()


@contextlib.contextmanager
def frozen(server: PrivateRedis):
    """Redis hangs while inside: connected, but answering nothing."""
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.process.pid, signal.SIGCONT)


def timed(client, path: str):
    started = time.monotonic()
    answer = client.get(path)
    return answer, time.monotonic() - started


def test_while_redis_hangs_the_api_and_the_pages_say_the_shop_is_busy_and_serve_again_after(shop, own_redis):
    api, web = shop
    assert (api.get(API_END).status_code, web.get(PAGE_END).status_code) == (200, 204)  # going on
    with frozen(own_redis):
        (api_answer, api_took), (page, page_took) = timed(api, API_END), timed(web, PAGE_END)
    assert api_answer.status_code == 503 and api_took < ANSWERED_WITHIN_S
    assert api_answer.json["error"]["code"] == "redis_unavailable"
    assert "try again shortly" in api_answer.json["error"]["message"]
    assert page.status_code == 503 and page_took < ANSWERED_WITHIN_S
    assert "Try again in a moment" in page.get_data(as_text=True)
    assert (api.get(API_END).status_code, web.get(PAGE_END).status_code) == (200, 204)


def test_with_redis_down_the_shop_says_it_is_busy_at_once(shop, own_redis):
    api, web = shop
    own_redis.stop()
    (api_answer, api_took), (page, page_took) = timed(api, API_END), timed(web, PAGE_END)
    assert (api_answer.status_code, page.status_code) == (503, 503)
    assert api_answer.json["error"]["code"] == "redis_unavailable"
    assert max(api_took, page_took) < ANSWERED_WITHIN_S
