"""The app's database resources: one engine, session factory and Recommender, one session a request.

They are built once by the factory (never at import) and kept on ``app.extensions`` so every view,
health check and test reaches the same objects. gunicorn ``--preload`` builds them in the master,
so pooled connections are dropped in each forked worker rather than shared across processes.
"""

from __future__ import annotations

import logging
import os
import weakref
from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from recommender.live.recommender import Recommender
from recommender.settings import Settings
from recommender.storage.engine import make_engine, make_session_factory

EXTENSION = "related"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resources:
    """What the factory builds once per app."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    recommender: Recommender


def init_app(app: Flask, settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "sqlite":
        _ensure_sqlite_statistics(engine)
    factory = make_session_factory(engine)
    app.extensions[EXTENSION] = Resources(settings, engine, factory, Recommender(settings, factory))
    app.teardown_appcontext(_close_session)
    _dispose_pool_after_fork(engine)


def resources() -> Resources:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def get_session() -> Session:
    """This request's session, opened on first use (a memo hit never opens one)."""
    session: Session | None = g.get("db_session")
    if session is None:
        session = g.db_session = resources().session_factory()
    return session


def rollback_session() -> None:
    """Undo whatever the failed request did before its error response is sent."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.rollback()


def _close_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


def _ensure_sqlite_statistics(engine: Engine) -> None:
    """Give SQLite's planner statistics once, if the database has never been analysed.

    Without them SQLite answers "the related rows of article X whose target is live" by walking
    every live article through the status index, then probing ``related`` for each (8 ms at
    10,000 articles, growing with the catalogue) instead of reading X's dozen rows (0.03 ms).
    ``analysis_limit`` bounds the work on a large database; a read-only one is left alone.
    """
    try:
        with engine.begin() as conn:
            analysed = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first()
            if analysed is None:
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                conn.exec_driver_sql("ANALYZE")
    except SQLAlchemyError as exc:
        log.warning("could not analyse the SQLite database (%s); readers may be slower", exc)


def _dispose_pool_after_fork(engine: Engine) -> None:
    # A connection opened in the master and used by two workers corrupts both sides' state.
    ref = weakref.ref(engine)

    def in_child() -> None:
        alive = ref()
        if alive is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=in_child)
