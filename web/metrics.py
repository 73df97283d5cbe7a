"""Prometheus metrics: requests and latency by endpoint and status, build age, articles by status.

gunicorn runs several worker processes, each with its own counters; with
``PROMETHEUS_MULTIPROC_DIR`` set (``related-reading serve`` sets it) prometheus-client writes them
to files there and ``/metrics`` sums every worker's. The catalogue gauges are read from the
database at scrape time instead, so they are the same whichever worker answers.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterator

from flask import Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from recommender.settings import Settings
from web import db
from web.errors import ApiError
from web.serving_build import UnreadableBuild, current_build

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
EXTENSION = "related_metrics"
log = logging.getLogger(__name__)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _Instruments:
    """The per-app request metrics (unregistered: each app exposes them through its registry)."""

    def __init__(self) -> None:
        self.requests = Counter("related_http_requests", "HTTP requests answered",
                                ["endpoint", "method", "status"], registry=None)
        self.latency = Histogram("related_http_request_duration_seconds",
                                 "Time to answer an HTTP request", ["endpoint", "status"],
                                 buckets=BUCKETS, registry=None)
        self.memo = Counter("related_response_memo", "Related-list lookups answered from the "
                            "in-process memo (hit) or built from SQL (miss)", ["result"],
                            registry=None)
        self.memo_hit, self.memo_miss = self.memo.labels("hit"), self.memo.labels("miss")


class CatalogueCollector(Collector):
    """Gauges read at scrape time: the serving build's age and the articles by status."""

    def __init__(self, app: Flask) -> None:
        self._app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        resources = self._app.extensions[db.EXTENSION]
        age = GaugeMetricFamily("related_index_build_age_seconds",
                                "Seconds since the serving index build was created")
        try:
            build = current_build(resources.recommender.store)
        except UnreadableBuild:  # /readyz reports it (503); a scrape still answers
            build = None
        if build is not None and build.age_seconds is not None:
            age.add_metric([], build.age_seconds)
        yield age
        articles = GaugeMetricFamily("related_articles", "Articles stored, by status",
                                     labels=["status"])
        from recommender.storage.schema import Article

        try:
            with resources.session_factory() as session:
                rows = session.execute(select(Article.status, func.count())
                                       .group_by(Article.status)).all()
        except SQLAlchemyError:  # a scrape must not fail because the database is away
            log.warning("metrics: cannot count articles", exc_info=True)
            rows = []
        for status, count in rows:
            articles.add_metric([str(status)], float(count))
        yield articles


def instruments() -> _Instruments:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    tools = _Instruments()
    app.extensions[EXTENSION] = tools

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def record(response: Response) -> Response:
        started = g.get("started")
        endpoint = request.endpoint or "unmatched"
        status = str(response.status_code)
        tools.requests.labels(endpoint, request.method, status).inc()
        if started is not None:
            tools.latency.labels(endpoint, status).observe(time.perf_counter() - started)
        return response


def check_access(settings: Settings) -> None:
    """Refuse a scrape the settings do not allow (403 wrong network, 401 wrong or no token).

    ``RELATED_METRICS_NETWORKS`` is checked against the client's address (taken from the trusted
    proxies' ``X-Forwarded-For`` when ``RELATED_TRUSTED_PROXIES`` is set); ``RELATED_METRICS_TOKEN``
    against ``Authorization: Bearer``, compared in constant time. Both unset: open, as before.
    """
    if settings.metrics_networks and not _address_allowed(request.remote_addr,
                                                          settings.metrics_networks):
        raise ApiError(403, "metrics are not served to this address")
    if settings.metrics_token:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        expected = settings.metrics_token.encode("utf-8", errors="surrogatepass")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                presented.strip().encode("utf-8", errors="surrogatepass"), expected):
            raise ApiError(401, "metrics need the bearer token (Authorization: Bearer …)",
                           headers={"WWW-Authenticate": 'Bearer realm="metrics"'})


def _address_allowed(address: str | None, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # "::ffff:10.0.0.5" from a dual-stack socket is 10.0.0.5
    return any(ip in ipaddress.ip_network(network) for network in networks)


def exposition() -> Response:
    """The text exposition of this app's metrics (summed over workers in multiprocess mode)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    registry = CollectorRegistry(auto_describe=True)
    directory = multiprocess_dir()
    if directory:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        tools: _Instruments = app.extensions[EXTENSION]
        registry.register(tools.requests)
        registry.register(tools.latency)
        registry.register(tools.memo)
    registry.register(CatalogueCollector(app))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE)
