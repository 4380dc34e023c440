"""The live sales' figures as Prometheus gauges, read from Redis when Prometheus scrapes (the figures
the dashboard shows, admission/sales.py's sale_figures), so the hot path never keeps them up to date."""

import logging
import time
from collections.abc import Iterable

from flask import Flask
from prometheus_client.core import GaugeMetricFamily

from admission.sale_index import active_sales
from admission.sales import sale_figures
from yakku.reconnect import REDIS_AWAY

log = logging.getLogger(__name__)

# sale_figures' key -> the gauge it is exposed as, and what the gauge means.
GAUGES = {
    "waiting": ("yakku_sale_waiting", "Shoppers in line (pre-queue included)."),
    "pre_queue": ("yakku_sale_pre_queue", "Shoppers who joined before the opening."),
    "admitted": ("yakku_sale_admitted", "Shoppers admitted and not done yet."),
    "standby": ("yakku_sale_standby", "Waiters the units left cannot reach yet."),
    "reserving": ("yakku_sale_reserving", "Checkouts holding units right now."),
    "units_sold": ("yakku_sale_sold", "Units paid for."),
    "units_left": ("yakku_sale_left", "Units nobody holds yet."),
    "units_held": ("yakku_sale_held", "Units reserved by checkouts not paid yet."),
    "turned_away_while_unsold": (
        "yakku_sale_turned_away_while_unsold",
        "Shoppers told sold out while a unit was unsold (must stay 0).",
    ),
    "measured_rate": ("yakku_sale_admission_rate", "Shoppers admitted per second, as measured."),
}


class SaleCollector:
    """Every live sale's (armed, open or paused) figures, one gauge each labelled by sale."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self) -> Iterable[GaugeMetricFamily]:
        families = {
            key: GaugeMetricFamily(name, text, labels=["sale"]) for key, (name, text) in GAUGES.items()
        }
        for sale_id, figures in self._figures():
            for key, family in families.items():
                family.add_metric([str(sale_id)], figures[key] or 0)  # no rate measured yet: 0
        yield from families.values()

    def _figures(self) -> list[tuple[int, dict]]:
        # With the sales' Redis away the scrape still answers this process's own metrics, without these.
        with self.app.app_context():
            now = time.time()
            try:
                return [(sale_id, sale_figures(sale_id, now)) for sale_id in active_sales()]
            except REDIS_AWAY as away:
                log.warning("metrics: no sale figures, the sales' Redis is unreachable (%s)", away)
                return []
