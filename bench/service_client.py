"""Calls per second through the declarative client against the real orders service (gunicorn, loopback).

Two transports side by side in one run: the client's keep-alive pool, and a new TCP connection per
call (what a client without pooling pays). Each is timed over --calls reads of one order through the
internal endpoint, --runs times, alternating; the medians and their ratio are printed.

Run:  python bench/service_client.py [--runs 5] [--calls 400]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import platform  # noqa: E402


def place_order(shop) -> int:
    """One product and one order in the shop, made through the services themselves."""
    from api.catalog.models import Product
    from api.client import orders
    from yakku.extensions import db

    app = shop.app()
    with app.app_context():
        product = Product(name="Bench Kettle", description="", price=45_000, stock=10)
        db.session.add(product)
        db.session.commit()
        wanted = {"account_id": 1, "items": [{"product_id": product.id, "quantity": 1}]}
        made = orders().create_sale_orders(
            json={"sale_id": 1, "units": 1, "orders": [{**wanted, "idempotency_key": "bench-order"}]}
        )
        return app, made["items"][0]["id"]


def calls_per_second(app, order_id: int, calls: int, pooled: bool) -> float:
    from api.client import orders

    with app.app_context():
        client = orders()
        if not pooled:  # every call opens (and closes) its own connection
            client.internal_transport.session.headers["Connection"] = "close"
        client.internal_order(order_id)  # warm: resolve, sign, connect
        started = time.perf_counter()
        for _ in range(calls):
            client.internal_order(order_id)
        elapsed = time.perf_counter() - started
        client.internal_transport.session.headers.pop("Connection", None)
    return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    with platform(api_workers=2, web=False) as shop:
        app, order_id = place_order(shop)
        pooled, fresh = [], []
        for _ in range(args.runs):
            pooled.append(calls_per_second(app, order_id, args.calls, pooled=True))
            fresh.append(calls_per_second(app, order_id, args.calls, pooled=False))
    p, f = statistics.median(pooled), statistics.median(fresh)
    print(f"orders service, GET /api/orders/internal/<id>, {args.calls} calls x {args.runs} runs")
    print(f"  keep-alive pool       : median {p:8.0f} calls/s   runs {[round(x) for x in pooled]}")
    print(f"  new connection a call : median {f:8.0f} calls/s   runs {[round(x) for x in fresh]}")
    print(f"  ratio pool / new      : {p / f:.2f}x")


if __name__ == "__main__":
    main()
