"""The events process's Prometheus metrics, read from its hub when scraped: the streams it holds, the
sales whose end it asks for, the pages it told the end and those it refused. Served on a port of its
own (`yakku events --metrics-port`, as the worker's and the admitter's), never on the public one the
browsers reach."""

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from events.hub import Hub


class EventsCollector:
    """One events process's figures, as Prometheus asks for them."""

    def __init__(self, hub: Hub):
        self.hub = hub

    def collect(self):
        hub = self.hub
        yield GaugeMetricFamily(
            "yakku_events_listeners", "Pages in line holding a stream.", value=hub.listeners
        )
        yield GaugeMetricFamily(
            "yakku_events_sales_watched", "Sales whose end is asked of the web.", value=hub.sales_watched()
        )
        yield CounterMetricFamily("yakku_events_told", "Streams sent their sale's end.", value=hub.told)
        yield CounterMetricFamily(
            "yakku_events_refused", "Pages answered 503 past a bound (they poll).", value=hub.refused
        )
