"""Issue 12, item 1: a card's number and CVC are never stored by Yakku, not even for a moment in Redis;
the private Redis asks a password, listens on loopback only and keeps its files to their owner.

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
from yakku import launcher
from yakku.config import REDIS_PASSWORD, SECRET_NAMES
from yakku.extensions import is_cluster_url, sales_client
from yakku.private_redis import PrivateRedis

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
def raw_sales_redis(config, raw_redis):
    """The sales Redis as bytes: the test Redis itself, unless the run puts the sales on a cluster."""
    url = config.get("SALES_REDIS_URL") or ""
    if not is_cluster_url(url):
        yield raw_redis
        return
    client = sales_client(url, decode_responses=False)
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
    sale, shoppers, raw_redis, raw_sales_redis, append_only_dir
):
    everywhere = {id(c): c for c in (raw_redis, raw_sales_redis)}.values()  # one Redis, or two
    buyer = shoppers.verified()
    sale.join(buyer)
    sale.admit()
    ticket = sale.status(buyer)["ticket"]
    answer = sale.checkout(buyer, ticket, card=CARD)
    assert answer.status_code == 202, answer.json

    [waiting] = raw_sales_redis.hvals(sale_keys(sale.id).checkout_requests)  # before a job takes it
    request = json.loads(waiting)
    assert "card" not in request and request["payment_method"].startswith("sbx_pm_")
    assert [found for client in everywhere for found in card_in(every_value(client))] == []

    sale.drain()
    assert sale.outcome(buyer, ticket)["state"] == "paid"
    assert [found for client in everywhere for found in card_in(every_value(client))] == []

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


def modes(folder: Path) -> dict[str, int]:
    """The permission bits of a folder and of everything in it, by path relative to it."""
    return {
        str(path.relative_to(folder)): path.stat().st_mode & 0o777 for path in [folder, *folder.rglob("*")]
    }


def test_the_private_redis_asks_a_password_listens_on_loopback_and_keeps_its_files_private(tmp_path):
    folder = tmp_path / "redis"
    folder.mkdir(mode=0o755)
    (folder / "left-by-an-older-version.aof").write_text("x")  # made before files were kept private
    (folder / "left-by-an-older-version.aof").chmod(0o644)
    with PrivateRedis(folder, persist=True) as server:
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=server.port).ping()  # no password: NOAUTH
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=server.port, password="guessed").ping()
        client = redis.Redis.from_url(server.url)
        client.set("sale:1:something", "kept")
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        assert client.config_get("appendonly")["appendonly"] == "yes"
        assert server.password not in Path(f"/proc/{server.process.pid}/cmdline").read_text()
        client.close()
        time.sleep(0.2)  # the append-only file is written before the next event-loop turn
        found = modes(folder)
    assert any(".aof" in name for name in found if name.startswith("appendonlydir/")), found
    assert found == {
        name: 0o700 if (folder / name).is_dir() else 0o600 for name in found
    }  # the folder and appendonlydir 0700; the append-only files, the log, the old file 0600


def test_yakku_up_keeps_the_redis_password_in_secrets_json_and_gives_it_in_the_url(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    older = {name: f"kept-{name.lower()}" for name in SECRET_NAMES}  # a secrets.json from before
    (tmp_path / "secrets.json").write_text(json.dumps(older))
    (tmp_path / "secrets.json").chmod(0o600)
    with launcher.redis_url(tmp_path) as url:
        stored = json.loads((tmp_path / "secrets.json").read_text())
        assert {name: stored[name] for name in SECRET_NAMES} == older  # the others are kept
        password = stored[REDIS_PASSWORD]
        assert len(password) >= 32 and url.startswith(f"redis://:{password}@127.0.0.1:")
        assert redis.Redis.from_url(url).ping()
        marker = tmp_path / launcher.REDIS_URL_FILE
        assert marker.read_text() == url and marker.stat().st_mode & 0o777 == 0o600
        assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    with launcher.redis_url(tmp_path) as again:  # restarted: the same password, so clients reconnect
        assert again.startswith(f"redis://:{password}@")
