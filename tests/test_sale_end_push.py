"""The end of a sale, pushed (issue 11, rule 5): the real events process holds a page's stream while the
sale runs, sends it the final panel within 2 s of the close or of the last unit paid, and ends the stream;
past its bound of listeners it answers 503, and the page keeps polling."""

import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from catalog_helpers import add_product
from events_helpers import events_process
from serving_helpers import Served

from admission import admitter, lookup, sales, stock, waiting_room
from yakku.factory import create_web_app
from yakku.private_redis import free_port

MAX_LISTENERS = 2
HEARTBEAT_S = 0.5
RULE_5_S = 2.0


class EndStream:
    """One page's stream of its sale's end, read off a raw socket as the browser's EventSource reads it."""

    def __init__(self, events_url: str, sale_id: int, shop_origin: str):
        host, port = events_url.removeprefix("http://").split(":")
        self.socket = socket.create_connection((host, int(port)), timeout=5)
        self.socket.sendall(
            f"GET /sales/{sale_id}/end HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n"
            f"Origin: {shop_origin}\r\nConnection: close\r\n\r\n".encode()
        )
        self.received = b""
        while b"\r\n\r\n" not in self.received:
            self._read(deadline=time.monotonic() + 5)
        head, self.received = self.received.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines[1:])}

    def hear_for(self, seconds: float) -> str:
        """What the stream sent in the next `seconds` (its chunk framing left in)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._read(deadline):
            pass
        return self.received.decode()

    def hear_until_closed(self, within: float) -> str:
        """Everything until the events process ends the stream; fails if it is still open after `within`."""
        deadline = time.monotonic() + within
        while self._read(deadline):
            assert time.monotonic() < deadline, "the stream was not closed"
        return self.received.decode()

    def events(self) -> list[dict]:
        """The events heard so far, as {'event': name, 'data': text}; comments (heartbeats) left out."""
        heard = []
        for block in _unchunked(self.received).decode().split("\n\n"):
            fields = [line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")]
            if fields:
                event = {"event": "message", "data": []}
                for name, value in fields:
                    event["data"].append(value) if name == "data" else event.update({name: value})
                heard.append({**event, "data": "\n".join(event["data"])})
        return heard

    def close(self) -> None:
        self.socket.close()

    def _read(self, deadline: float) -> bool:
        """Read what comes before `deadline`; False once the stream is closed or time is up."""
        self.socket.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = self.socket.recv(65536)
        except TimeoutError:
            return False
        self.received += chunk
        return bool(chunk)


def _unchunked(body: bytes) -> bytes:
    """The body of a chunked HTTP/1.1 answer, its complete chunks joined."""
    data = b""
    while b"\r\n" in body:
        size, rest = body.split(b"\r\n", 1)
        length = int(size, 16)
        if length == 0 or len(rest) < length + 2:
            break
        data, body = data + rest[:length], rest[length + 2 :]
    return data


@pytest.fixture(autouse=True)
def services(live_api):
    """The internal services over HTTP, before any app is made: arming a sale takes units from the catalog."""
    return live_api


@pytest.fixture
def live_web(web_app):
    """The storefront over real HTTP on a loopback port: the events process asks its /end."""
    with Served(web_app) as served:
        yield served.url


@pytest.fixture
def metrics_port():
    return free_port()


@pytest.fixture
def events_url(config, live_web, tmp_path, metrics_port):
    """The real events process (`yakku events`), asking the live web, holding at most MAX_LISTENERS
    streams of one sale, its metrics on `metrics_port`."""
    settings = {
        "EVENTS_MAX_LISTENERS": str(MAX_LISTENERS),
        "EVENTS_MAX_SALES": "1",  # each test's one sale
        "EVENTS_HEARTBEAT_S": str(HEARTBEAT_S),
    }
    log = tmp_path / "events.log"
    with events_process(config, live_web, log, metrics_port=metrics_port, **settings) as url:
        yield url


def events_metrics(port: int) -> dict[str, float]:
    """The events process's own figures, as Prometheus scrapes them."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        name: float(value)
        for name, value in (line.split(" ") for line in text.splitlines() if line.startswith("yakku_events_"))
    }


@pytest.fixture
def open_sale(app, operator, shoppers):
    """An open sale of `units` units with `waiting` shoppers in line; its id and the shoppers' ids."""

    def make(units: int = 1, waiting: int = 2) -> tuple[int, list[int]]:
        product_id = add_product(app, name="Jeju Green Tea", stock=units + 5)
        with app.app_context():
            data = {
                "product_id": product_id,
                "units": units,
                "opens_at": datetime.now(UTC) + timedelta(minutes=5),
                "admission_rate": 1000,
                "admitted_cap": 1000,
                "checkout_window_s": 120,
                "per_shopper_limit": 1,
            }
            sale_id = sales.create_sale(data, operator_id=operator.id).id
            sales.arm_sale(sale_id)
            sales.open_sale(sale_id, time.time())
            waiters = [shoppers.verified().id for _ in range(waiting)]
            for shopper_id in waiters:
                waiting_room.join(sale_id, shopper_id)
        return sale_id, waiters

    return make


def test_a_page_in_line_hears_nothing_while_the_sale_runs_and_the_close_within_two_seconds(
    app, web, live_web, events_url, open_sale
):
    sale_id, _ = open_sale()
    stream = EndStream(events_url, sale_id, live_web)
    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["access-control-allow-origin"] == live_web  # the shop's pages may read it
    heard = stream.hear_for(3 * HEARTBEAT_S)
    assert stream.events() == [] and heard.count(": still here") >= 2  # heartbeats only: nothing to tell
    with app.app_context():
        sales.close_sale(sale_id)
    closed_at = time.monotonic()
    stream.hear_until_closed(within=RULE_5_S)
    assert time.monotonic() - closed_at < RULE_5_S
    [told] = stream.events()
    assert told["event"] == "end" and "The sale has ended" in told["data"]
    assert stream.received.endswith(b"0\r\n\r\n")  # the stream is ended, not cut
    # The panel is the one the web's /end gives everybody, fetched once by the events process.
    time.sleep(lookup.END_CHECK_FRESH_S)
    assert told["data"] == web.get(f"/sales/{sale_id}/end").get_data(as_text=True).rstrip("\n")


def test_every_page_in_line_is_told_sold_out_within_two_seconds_of_the_last_unit_paid(
    app, live_web, events_url, open_sale
):
    sale_id, (first, _) = open_sale(units=1, waiting=2)
    streams = [EndStream(events_url, sale_id, live_web) for _ in range(MAX_LISTENERS)]
    with app.app_context():
        admitter.tick(time.time())  # the first shopper's turn; the second stays in line
        ticket = lookup.shopper_ticket_id(sale_id, first)
        stock.reserve(sale_id, ticket, 1)
        stock.confirm(sale_id, ticket)  # the only unit is paid
    paid_at = time.monotonic()
    for stream in streams:
        stream.hear_until_closed(within=RULE_5_S)
        [told] = stream.events()
        assert told["event"] == "end" and "Sold out" in told["data"]
    assert time.monotonic() - paid_at < RULE_5_S


def test_past_its_bound_the_events_process_refuses_a_page_which_keeps_polling(
    live_web, events_url, open_sale
):
    sale_id, _ = open_sale()
    held = [EndStream(events_url, sale_id, live_web) for _ in range(MAX_LISTENERS)]
    assert [stream.status for stream in held] == [200] * MAX_LISTENERS
    refused = EndStream(events_url, sale_id, live_web)
    assert refused.status == 503 and refused.headers["access-control-allow-origin"] == live_web
    held.pop().close()  # a page leaves: its place is free again
    time.sleep(0.2)
    # Made-up sales cannot multiply the asks to the web: past its bound of sales watched, a 503 too.
    assert EndStream(events_url, sale_id + 1000, live_web).status == 503
    assert EndStream(events_url, sale_id, live_web).status == 200


def test_a_page_that_listens_after_the_end_is_told_at_once(app, live_web, events_url, open_sale):
    sale_id, _ = open_sale()
    first = EndStream(events_url, sale_id, live_web)
    with app.app_context():
        sales.close_sale(sale_id)
    first.hear_until_closed(within=RULE_5_S)
    late = EndStream(events_url, sale_id, live_web)
    late.hear_until_closed(within=0.5)  # the events process keeps the end: no second ask needed
    assert [event["event"] for event in late.events()] == ["end"]


def test_a_page_in_line_listens_to_the_events_process_and_polls_only_as_a_safety_net(
    config, web, open_sale, shoppers
):
    sale_id, _ = open_sale()
    ada = shoppers.verified(name="Ada")
    pushed = create_web_app({**config, "EVENTS_URL": "http://127.0.0.1:8003/"}).test_client()
    for client in (pushed, web):
        client.post("/account/login", data={"email": ada.email, "password": ada.password})
    pushed.post(f"/sales/{sale_id}/join")
    page = pushed.get(f"/sales/{sale_id}/wait")
    body = page.get_data(as_text=True)
    assert f'sse-connect="http://127.0.0.1:8003/sales/{sale_id}/end" sse-swap="end"' in body
    assert f'data-safety-net-s="{lookup.END_SAFETY_NET_S}"' in body
    assert "vendor/htmx-ext-sse/sse.min.js" in body and "js/end-push.js" in body
    assert "connect-src 'self' http://127.0.0.1:8003;" in page.headers["Content-Security-Policy"]
    # Without an events process the same page polls /end at its full rate, and may connect nowhere else.
    polled = web.get(f"/sales/{sale_id}/wait")
    assert "sse-connect" not in polled.get_data(as_text=True)
    assert f'hx-trigger="every {lookup.END_CHECK_EVERY_S}s"' in polled.get_data(as_text=True)
    assert "connect-src 'self';" in polled.headers["Content-Security-Policy"]


def test_the_events_process_counts_its_streams_the_ends_it_told_and_the_pages_it_refused(
    app, live_web, events_url, open_sale, metrics_port
):
    sale_id, _ = open_sale()
    streams = [EndStream(events_url, sale_id, live_web) for _ in range(MAX_LISTENERS)]
    assert EndStream(events_url, sale_id, live_web).status == 503
    figures = events_metrics(metrics_port)
    assert figures["yakku_events_listeners"] == MAX_LISTENERS and figures["yakku_events_sales_watched"] == 1
    assert figures["yakku_events_refused_total"] == 1 and figures["yakku_events_told_total"] == 0
    with app.app_context():
        sales.close_sale(sale_id)
    for stream in streams:
        stream.hear_until_closed(within=RULE_5_S)
    time.sleep(0.2)  # the streams' ends are counted as their handlers return
    figures = events_metrics(metrics_port)
    assert figures["yakku_events_told_total"] == MAX_LISTENERS and figures["yakku_events_listeners"] == 0
    assert figures["yakku_events_sales_watched"] == 0
