"""Issue 12, item 1: a card's number and CVC are never stored by Yakku, not even for a moment in Redis.

The attack on main: a sale checkout kept the whole card in the sale's request hash until a drain job
took it, and the private Redis logged it to its append-only file. Here a checkout is submitted against
the real Redis, and every value of every key in its db is read while the request waits and after it is
paid; on the private Redis, with append-only logging on as `yakku up` runs it, the log of every write
is read too. Neither the number nor the CVC is anywhere.
"""

import json
import os
import re
import time
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import redis
from catalog_helpers import add_product
from sale_helpers import Sale

from admission.keys import sale_keys

NUMBER = "5555555555554444"  # succeeds in the sandbox, and appears nowhere else in a test's data
CVC = "0918"
CARD = {"card_number": NUMBER, "exp_month": 11, "exp_year": 2041, "cvc": CVC}
# The CVC as a value of its own, not digits inside a timestamp or an id.
CVC_ALONE = re.compile(rb"(?<![\d.])" + CVC.encode() + rb"(?!\d)")


@pytest.fixture
def sale(live_api, app, client, operator):
    sale = Sale(app, client, operator, add_product(app, name="Celadon Cup", price=20_000, stock=4), units=2)
    sale.act("arm")
    sale.act("open")
    return sale


@pytest.fixture
def raw_redis(config):
    """The test Redis as bytes: RQ's job records are compressed pickles, not text."""
    client = redis.Redis.from_url(config["REDIS_URL"])
    yield client
    client.close()


@pytest.fixture
def append_only_dir(raw_redis) -> Iterator[Path | None]:
    """The private Redis logging every write to its append-only file for this test, as `yakku up` runs
    it (plain commands, no RDB preamble, so what was written can be read back); None on a shared
    server (REDIS_URL set), whose configuration is not the test's to change."""
    if os.environ.get("REDIS_URL"):
        yield None
        return
    raw_redis.config_set("aof-use-rdb-preamble", "no")
    raw_redis.config_set("appendonly", "yes")
    _until_rewritten(raw_redis)
    try:
        yield Path(raw_redis.config_get("dir")["dir"])  # redis-py decodes CONFIG replies
    finally:
        raw_redis.config_set("appendonly", "no")
        raw_redis.config_set("aof-use-rdb-preamble", "yes")


def _until_rewritten(client: redis.Redis, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        info = client.info("persistence")
        if info["aof_enabled"] and not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return
        assert time.monotonic() < deadline, info
        time.sleep(0.05)


def every_value(client: redis.Redis) -> Iterator[bytes]:
    """Every key of the db and everything stored under it, whatever its type; compressed values also
    as they decompress."""
    for key in client.scan_iter(count=1000):
        yield key
        for value in _values(client, key):
            yield value
            yield _decompressed(value)


def _decompressed(value: bytes) -> bytes:
    try:
        return zlib.decompress(value)
    except zlib.error:
        return b""


def _values(client: redis.Redis, key: bytes) -> Iterable[bytes]:
    kind = client.type(key).decode()
    if kind == "string":
        return [client.get(key) or b""]
    if kind == "hash":
        return [part for pair in client.hgetall(key).items() for part in pair]
    if kind == "list":
        return client.lrange(key, 0, -1)
    if kind == "set":
        return client.smembers(key)
    if kind == "zset":
        return client.zrange(key, 0, -1)
    if kind == "stream":
        return [part for _id, fields in client.xrange(key) for pair in fields.items() for part in pair]
    return []


SPACED = b" ".join(NUMBER[i : i + 4].encode() for i in range(0, 16, 4))
CARD_DATA = re.compile(b"|".join([re.escape(NUMBER.encode()), re.escape(SPACED), CVC_ALONE.pattern, b"cvc"]))


def card_in(values: Iterable[bytes]) -> list[bytes]:
    """Where the values hold the card's number or its CVC (or a field named cvc): each find with
    what surrounds it."""
    return [
        value[max(found.start() - 80, 0) : found.end() + 80]
        for value in values
        for found in CARD_DATA.finditer(value)
    ]


def append_only_log(directory: Path) -> bytes:
    """Every append-only file of the Redis in `directory` (Redis 7 keeps them in appendonlydir/)."""
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*.aof*")) if path.is_file())


def test_a_sale_checkout_keeps_neither_number_nor_cvc_in_redis_nor_in_its_append_only_file(
    sale, shoppers, raw_redis, append_only_dir
):
    buyer = shoppers.verified()
    sale.join(buyer)
    sale.admit()
    ticket = sale.status(buyer)["ticket"]
    answer = sale.checkout(buyer, ticket, card=CARD)
    assert answer.status_code == 202, answer.json

    [waiting] = raw_redis.hvals(sale_keys(sale.id).checkout_requests)  # the request, before a job takes it
    request = json.loads(waiting)
    assert "card" not in request and request["payment_method"].startswith("sbx_pm_")
    assert card_in(every_value(raw_redis)) == []

    sale.drain()
    assert sale.outcome(buyer, ticket)["state"] == "paid"
    assert card_in(every_value(raw_redis)) == []

    if append_only_dir is not None:
        time.sleep(0.2)  # Redis writes its log before its next event-loop turn; give it one
        log = append_only_log(append_only_dir)
        assert request["payment_method"].encode() in log  # the log is live: the token's write is in it
        assert card_in([log]) == []


def test_a_shop_order_paid_through_the_api_with_a_card_keeps_no_card_in_redis(shop, raw_redis):
    # An API user may still pay with the card's fields: payments tokenises it at once, never keeps it.
    ada = shop.shopper()
    order = shop.order(ada, {shop.product()["id"]: 1}).json()
    body = {**CARD, "idempotency_key": "pay-1"}
    paid = shop.post(ada, f"/api/orders/{order['id']}/pay", body)
    assert paid.status_code == 200 and paid.json()["state"] == "paid"
    assert card_in(every_value(raw_redis)) == []
