"""The nightly reindex: sync sources, embed what changed, build, recompute lists, flip, prune.

Meant for cron: one run at a time (a second exits at once with its own code), a progress bar on
a terminal and plain log lines otherwise, and one JSON summary as the last line printed. Any
failure exits non-zero with the previous build still serving.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from recommender.build import BuildReport, ProgressFactory, peak_rss_mb

__all__ = ["peak_rss_mb"]
from recommender.embeddings import stale_articles
from recommender.encoder import Encoder
from recommender.locking import file_lock
from recommender.models import IndexBuild
from recommender.service import Recommender
from recommender.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 75  # 75: EX_TEMPFAIL, "try later"
SYNC_OVERLAP = timedelta(hours=1)  # re-ask sources a little before the last run: clocks drift
log = logging.getLogger("related_reading.reindex")


@dataclass
class Summary:
    """The JSON line cron mail and monitoring read."""

    status: str = "ok"
    seen: int = 0
    added: int = 0
    updated: int = 0
    withdrawn: int = 0
    embedded: int = 0
    skipped: int = 0
    build_id: str | None = None
    lists: int = 0
    index_kind: str | None = None
    dry_run: bool = False
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _last_success(session: Session) -> Any:
    return session.scalar(select(func.max(IndexBuild.started)).where(IndexBuild.status == "ready"))


def sync_sources(session: Session, sources: Sequence[str], *, full: bool, summary: Summary,
                 commit: bool = True) -> None:
    """Each source all-or-nothing, committed on its own: one failing feed loses nothing else."""
    from recommender.sources import sync_source

    last = None if full else _last_success(session)
    since = last - SYNC_OVERLAP if last is not None else None
    for spec in sources:
        log.info("syncing %s%s", spec, f" (changes since {since:%Y-%m-%d %H:%M})" if since else "")
        withdraw = full and not spec.startswith(("rss:", "atom:"))
        report = sync_source(session, spec, since=since, withdraw_missing=withdraw)
        if commit:
            session.commit()
        counts = report.summary()
        summary.seen += counts["seen"]
        summary.added += counts["added"]
        summary.updated += counts["updated"]
        summary.withdrawn += counts["withdrawn"]
        summary.skipped += counts["skipped"]
        for where, reason in report.skipped:
            log.warning("skipped %s: %s", where, reason)


def run(settings: Settings, session_factory: sessionmaker[Session], encoder: Encoder, *,
        full: bool = False, dry_run: bool = False, sources: Sequence[str] | None = None,
        progress: ProgressFactory | None = None) -> Summary:
    """One locked reindex; raises LockBusy, or the failure (previous build still serving)."""
    started = time.perf_counter()
    summary = Summary(dry_run=dry_run)
    with file_lock(settings.index_dir / "reindex.lock", blocking=False):
        with session_factory() as session:
            session.execute(text("SELECT 1"))  # fail fast, before any work, if the DB is down
            if dry_run:
                _dry_run(session, encoder, sources or (), summary)
                session.rollback()
            else:
                sync_sources(session, sources or (), full=full, summary=summary)
        if not dry_run:
            recommender = Recommender(settings, session_factory, encoder=encoder)
            report: BuildReport = recommender.reindex(full=full, progress=progress)
            summary.embedded, summary.build_id = report.embedded, report.build_id
            summary.seen = max(summary.seen, report.articles)
            summary.lists, summary.index_kind = report.lists, report.index_kind
            summary.timings = report.seconds
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.peak_rss_mb = peak_rss_mb()
    return summary


def _dry_run(session: Session, encoder: Encoder, sources: Sequence[str], summary: Summary) -> None:
    """What a run would do: sources synced into a transaction the caller rolls back."""
    sync_sources(session, sources, full=False, summary=summary, commit=False)
    session.flush()
    summary.embedded = len(stale_articles(session, encoder.model_id))
