"""Liveness, readiness and metrics for the load balancer, the orchestrator and Prometheus.

Readiness reads the serving build's ``meta.json`` through ``web.serving_build`` (not the FAISS
index): readers' lists come from SQL, so a web worker has no reason to map the index to be ready.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from recommender.index.builds import IndexStore
from web import db, metrics
from web.serving_build import UnreadableBuild, current_build

bp = Blueprint("health", __name__)


@bp.after_request
def never_cached(response: Response) -> Response:
    """A cached "ready" would hide an outage from the load balancer."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answering (no dependency is checked)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready to serve readers: the database answers and an index build is in place."""
    resources = db.resources()
    checks: dict[str, object] = {}
    try:
        with resources.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    has_build, checks["build"] = _build_check(resources.recommender.store)
    ready = checks["database"] == "ok" and has_build
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def _build_check(store: IndexStore) -> tuple[bool, object]:
    """Whether a build is in place, and what readiness says about it."""
    try:
        build = current_build(store)
    except UnreadableBuild as exc:  # "build <id> unreadable: ...": not ready, and why
        return False, str(exc)
    if build is None:
        return False, "no index build yet: run `related-reading reindex`"
    return True, {"id": build.build_id, "created": build.created,
                  "age_seconds": None if build.age_seconds is None
                  else round(build.age_seconds, 1), "articles": build.count}


@bp.get("/metrics")
def prometheus() -> Response:
    """Prometheus text exposition (restricted by RELATED_METRICS_TOKEN / _NETWORKS when set)."""
    metrics.check_access(db.resources().settings)
    return metrics.exposition()
