"""Prometheus metrics of the exchange, read from the message log at scrape time.

Every web process serves the same numbers (the log is shared), so a scrape of any replica
is the whole platform's view, with no multiprocess bookkeeping. The all-time counters are a
grouped scan of the response entries: cheap at today's volumes; the scale path is a rollup
table maintained by a periodic job (see docs/domains/exchange.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


class ExchangeCollector(Collector):
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        from cityhall.core.actors import SYSTEM
        from cityhall.exchange import queries

        calls = CounterMetricFamily(
            "cityhall_exchange_calls",
            "Exchanges through the gateway, by service, client and outcome.",
            labels=["service", "client", "outcome"],
        )
        seconds = CounterMetricFamily(
            "cityhall_exchange_latency_seconds_total",
            "Summed time in the gateway (request in to answer out), by service and client.",
            labels=["service", "client"],
        )
        recent = GaugeMetricFamily(
            "cityhall_exchange_latency_recent_seconds",
            "Latency percentiles over the last 5 minutes, by service and client.",
            labels=["service", "client", "quantile"],
        )
        try:
            with self.factory() as session:
                summed: dict[tuple[str, str], float] = {}
                for service, client, outcome, count, total in queries.totals(session):
                    calls.add_metric([service, client, outcome], count)
                    summed[(service, client)] = summed.get((service, client), 0.0) + total
                for (service, client), total in summed.items():
                    seconds.add_metric([service, client], total)
                since = datetime.now(UTC) - timedelta(minutes=5)
                for row in queries.stats(session, actor=SYSTEM, since=since):
                    for q, value in (
                        ("0.5", row.p50_ms),
                        ("0.95", row.p95_ms),
                        ("0.99", row.p99_ms),
                    ):
                        if value is not None:
                            recent.add_metric([row.service, row.client, q], value / 1000)
        except Exception:  # a scrape must not fail because the database is away
            log.exception("exchange metrics unavailable")
            return
        yield calls
        yield seconds
        yield recent


_registered: list[ExchangeCollector] = []


def register(factory: sessionmaker[Session]) -> None:
    """Serve the metrics from this database (the latest app's, in a process with several)."""
    if _registered:
        _registered[0].factory = factory
        return
    collector = ExchangeCollector(factory)
    REGISTRY.register(collector)
    _registered.append(collector)
