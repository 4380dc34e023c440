"""Metrics and request ids, on the real apps and a real Redis: what an operator watches a sale with."""

import logging
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import requests
from admission_helpers import T0
from catalog_helpers import add_product
from process_helpers import Processes
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sale_helpers import Sale
from test_sale_checkout import admitted_ticket
from test_sale_recovery import process_env
from test_storefront_shopping import _buy, _card

from admission.checkout.jobs import drain_sale
from admission.sales import sale_figures
from api.payments.providers import get_provider
from workers.worker import make_worker
from yakku.factory import create_web_app
from yakku.private_redis import free_port
from yakku.queues import QueueCollector, QueueName
from yakku.request_id import HEADER, RequestIdFilter

PRODUCT_RULE = "/api/catalog/products/<int:product_id>"
TIMEOUT_CARD = "4000 0000 0000 0119"  # the sandbox answers it ProviderTimeout, which payments logs


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a scrape, by (name, its labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_requests_are_counted_per_route_rule_not_per_path(client):
    before = sample("yakku_http_requests_total", route=PRODUCT_RULE, method="GET", status="404")
    timed = sample("yakku_http_request_duration_seconds_count", route=PRODUCT_RULE, method="GET")
    for product_id in (101, 202, 303):
        assert client.get(f"/api/catalog/products/{product_id}").status_code == 404

    assert sample("yakku_http_requests_total", route=PRODUCT_RULE, method="GET", status="404") == before + 3
    assert sample("yakku_http_request_duration_seconds_count", route=PRODUCT_RULE, method="GET") == timed + 3
    routes = {s.labels.get("route") for family in REGISTRY.collect() for s in family.samples}
    assert not any("/101" in str(route) for route in routes)  # a path never becomes a label value


def test_a_path_no_rule_matches_is_counted_under_one_label(client):
    before = sample("yakku_http_requests_total", route="<unmatched>", method="GET", status="404")
    client.get("/no/such/page/8812")
    client.get("/another/one")
    assert sample("yakku_http_requests_total", route="<unmatched>", method="GET", status="404") == before + 2


def test_a_sales_gauges_match_the_figures_the_dashboard_shows(app, web, sales_ops):
    sale = sales_ops.opened(units=3, rate=2)
    sales_ops.join(sale, *range(1, 8), now=T0)
    sales_ops.tick(T0 + 1)  # admits two, leaves five waiting, four of them on standby

    answer = web.get("/metrics")
    assert answer.status_code == 200
    samples = scraped(answer.get_data(as_text=True))
    with app.app_context():
        figures = sale_figures(sale)
    label = (("sale", str(sale)),)
    expected = {
        "yakku_sale_waiting": figures["waiting"],
        "yakku_sale_admitted": figures["admitted"],
        "yakku_sale_standby": figures["standby"],
        "yakku_sale_sold": figures["units_sold"],
        "yakku_sale_left": figures["units_left"],
    }
    assert {name: samples[(name, label)] for name in expected} == expected
    assert figures["admitted"] > 0 and figures["waiting"] > 0  # the sale is mid-way, not all zeros
    assert ("yakku_sale_admission_rate", label) in samples


@pytest.mark.parametrize(
    "remote, headers",
    [
        ("203.0.113.9", {}),  # from another host
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}),  # a proxy on this host, passing a shopper's
        ("127.0.0.1", {"Forwarded": "for=203.0.113.9"}),
    ],
)
def test_metrics_are_refused_to_anyone_but_a_loopback_caller(web, remote, headers):
    answer = web.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote})
    assert answer.status_code == 403
    assert b"yakku_" not in answer.data


@pytest.mark.parametrize(
    "authorization, status",
    [(None, 403), ("Bearer wrong-token", 403), ("scrape-token-1234", 403), ("Bearer scrape-token-1234", 200)],
)
def test_with_a_token_set_metrics_ask_it_of_every_caller(config, _schema, authorization, status):
    web = create_web_app({**config, "METRICS_TOKEN": "scrape-token-1234"}).test_client()
    headers = {"Authorization": authorization} if authorization else {}
    for remote in ("127.0.0.1", "203.0.113.9"):
        answer = web.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote})
        assert answer.status_code == status


def test_the_payment_providers_breaker_state_is_a_gauge(app):
    with app.app_context():
        breaker = get_provider().breaker
    try:
        breaker.open()
        assert sample("yakku_breaker_state", breaker="payment-provider") == 2
        breaker.half_open()
        assert sample("yakku_breaker_state", breaker="payment-provider") == 1
    finally:
        breaker.close()
    assert sample("yakku_breaker_state", breaker="payment-provider") == 0


@pytest.mark.slow
def test_a_workers_metrics_port_serves_drain_metrics_after_a_real_drain(
    live_api, app, client, config, operator, shoppers, tmp_path
):
    sale = Sale(app, client, operator, add_product(app, name="Celadon Cup", price=20_000, stock=5), units=2)
    sale.act("arm")
    sale.act("open")
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    assert sale.checkout(buyer, ticket).status_code == 202

    port = free_port()
    cli = [sys.executable, "-c", "from yakku.cli import main; main()", "worker", "--metrics-port", str(port)]
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(cli, env=process_env(config), stdout=log, stderr=subprocess.STDOUT)
    try:
        batches = ("yakku_drain_batches_total", (("sale", str(sale.id)),))
        # The drain counts its batch inside the job and RQ's outcome once the job has returned,
        # so a scrape can fall between the two: wait for both.
        finished = ("yakku_jobs_total", (("outcome", "finished"), ("queue", "checkout")))
        samples = _scrape_until(
            port, lambda found: found.get(batches, 0) >= 1 and found.get(finished, 0) >= 1, worker
        )
        assert samples[("yakku_drain_checkouts_total", (("state", "paid"),))] == 1
        assert samples[("yakku_drain_batch_seconds_count", ())] >= 1
        assert ("yakku_queue_depth", (("queue", "checkout"),)) in samples
    finally:
        worker.terminate()
        worker.wait(20)
        log.close()
    assert sale.outcome(buyer, ticket)["state"] == "paid"


@pytest.mark.slow
def test_the_admitters_metrics_port_counts_the_shoppers_it_admits(
    live_api, app, client, config, operator, shoppers
):
    sale = Sale(app, client, operator, add_product(app, name="Brass Bell", price=9_000, stock=5), units=2)
    sale.act("arm")
    sale.act("open")
    for shopper in (shoppers.verified(), shoppers.verified()):
        sale.join(shopper)

    port = free_port()
    cli = [
        sys.executable,
        "-c",
        "from yakku.cli import main; main()",
        "admitter",
        "--metrics-port",
        str(port),
    ]
    admitter = subprocess.Popen(
        cli, env=process_env(config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        admitted = ("yakku_admissions_total", (("sale", str(sale.id)),))
        samples = _scrape_until(port, lambda found: found.get(admitted, 0) >= 2, admitter)
    finally:
        admitter.terminate()
        admitter.wait(20)
    assert samples[admitted] == 2


def _scrape_until(port: int, done, process, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "the process exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
                samples = scraped(answer.read().decode())
            if done(samples):
                return samples
        except OSError:
            pass  # not listening yet
        assert time.monotonic() < deadline, f"not in the metrics within {timeout} s"
        time.sleep(0.3)


def test_a_storefront_requests_id_reaches_the_apis_log_lines(shop_web, web, caplog):
    caplog.handler.addFilter(RequestIdFilter())  # as each process's log handler has it
    caplog.set_level(logging.INFO, logger="api.payments.services")
    shop_web.sign_in()
    web.post(f"/wishlist/items/{shop_web.ids['Jeju']}", data={"quantity": 1})
    order_id = _buy(web)

    answer = web.post(
        f"/orders/{order_id}/pay", data=_card(TIMEOUT_CARD, "attempt1"), headers={HEADER: "shopper-req-0042"}
    )

    assert answer.headers[HEADER] == "shopper-req-0042"  # echoed to the caller
    # Logged by the api while it served the storefront's call (once per try: a charge is retried).
    timed_out = [r for r in caplog.records if "provider timed out" in r.getMessage()]
    assert timed_out and {r.request_id for r in timed_out} == {"shopper-req-0042"}


@pytest.mark.parametrize("given", ["", "bad id with spaces", "x" * 200, "<script>", "-starts-with-a-dash"])
def test_a_malformed_request_id_is_replaced_by_a_fresh_one(web, given):
    answer = web.get("/metrics", headers={HEADER: given})
    made = answer.headers[HEADER]
    assert made != given and re.fullmatch(r"[0-9a-f]{32}", made)


def test_with_the_sales_redis_away_a_scrape_still_answers_the_request_counters(config, _schema, caplog):
    web = create_web_app({**config, "SALES_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}).test_client()
    answer = web.get("/metrics")

    assert answer.status_code == 200
    names = {name for name, _ in scraped(answer.get_data(as_text=True))}
    assert "yakku_http_requests_total" in names
    assert not any(name.startswith("yakku_sale_") for name in names)
    assert "the sales' Redis is unreachable" in caplog.text


@pytest.mark.slow
def test_under_gunicorn_one_scrape_adds_up_every_workers_requests(app, config, tmp_path):
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "2", "--worker-class", "gthread"]
    command += [
        "--reuse-port",
        "--access-logfile",
        "-",
        "--config",
        "python:yakku.gunicorn_conf",
        "yakku.wsgi:api()",
    ]
    env = {**process_env(config), "TMPDIR": str(tmp_path)}  # where the server makes its samples folder
    processes = Processes(env, tmp_path / "gunicorn.log")
    processes.start("api", command)
    url = f"http://127.0.0.1:{port}"
    try:
        # Asked of /metrics: a probe that timed out on a loaded box may still be answered, and counted, later.
        processes.wait_for("the api", lambda: _answers(f"{url}/metrics"))
        # Each worker's app writes its breakers' gauges to a file of its own once it is loaded.
        processes.wait_for("both workers", lambda: len(_gauge_files(tmp_path)) == 2)
        rule = (("method", "GET"), ("route", "/api/catalog/products"), ("status", "200"))
        counted = ("yakku_http_requests_total", rule)
        for n in range(20):  # a connection each: the kernel spreads them over both workers' sockets
            requests.get(f"{url}/api/catalog/products", headers={HEADER: f"gunicorn-{n:04}"}, timeout=5)
        samples = scraped(requests.get(f"{url}/metrics", timeout=5).text)
        assert samples[counted] == 20
    finally:
        processes.stop()
    assert '"GET /api/catalog/products HTTP/1.1" 200' in processes.output
    assert re.search(r'"GET /api/catalog/products HTTP/1\.1" 200 .* gunicorn-0007$', processes.output, re.M)
    assert not list(tmp_path.glob("yakku-metrics-*"))  # removed when the server stopped


def _gauge_files(folder: Path) -> list[Path]:
    return list(folder.glob("yakku-metrics-*/gauge_*.db"))


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:  # not listening yet, or still loading the app
        return False


def test_a_failed_job_is_counted_and_the_failed_registry_is_a_gauge(app):
    queue = app.extensions["yakku.rq"][QueueName.CHECKOUT]
    before = sample("yakku_jobs_total", queue="checkout", outcome="failed")
    queue.enqueue(drain_sale)  # no sale id: it fails as a job whose arguments went wrong would

    make_worker(app).work(burst=True)

    assert sample("yakku_jobs_total", queue="checkout", outcome="failed") == before + 1
    gauges = {
        s.labels["queue"]: s.value
        for f in QueueCollector(app).collect()
        if f.name == "yakku_queue_failed"
        for s in f.samples
    }
    assert gauges["checkout"] == 1 and gauges["mail"] == 0
