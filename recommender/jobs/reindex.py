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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from recommender.catalog.live import LIVE_STATUSES
from recommender.embedding.backends import TORCH, backend_of
from recommender.embedding.cache import stale_articles
from recommender.embedding.encoder import Encoder
from recommender.jobs.build import (
    BuildReport,
    ProgressFactory,
    builder_stamp,
    full_build,
    peak_rss_mb,
)
from recommender.jobs.engine import BuildEngine
from recommender.live.recommender import Recommender
from recommender.settings import Settings
from recommender.storage.locks import file_lock
from recommender.storage.schema import Article, IndexBuild, utcnow

if TYPE_CHECKING:
    from recommender.catalog.sources.auth import CredentialStore

SYNC_OVERLAP = timedelta(hours=1)
REBUILD_SHARE = 0.05
REBUILD_AFTER = timedelta(days=7)  # re-ask sources a little before the last run: clocks drift
log = logging.getLogger("related_reading.reindex")


@dataclass
class Summary:
    """The JSON line cron mail and monitoring read."""

    status: str = "ok"
    mode: str = "build"  # build | incremental | unchanged | dry-run
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
    # --- #16 readers' feedback: the nightly rollup and prune of widget events
    feedback: dict[str, int] = field(default_factory=dict)
    exposure: dict[str, Any] = field(default_factory=dict)  # the cap's moved slots (full builds)
    # --- #15 engines
    engine: str = "local"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _last_success(session: Session) -> Any:
    return session.scalar(select(func.max(IndexBuild.started)).where(IndexBuild.status == "ready"))


def sync_sources(session: Session, sources: Sequence[str], *, full: bool, summary: Summary,
                 commit: bool = True, credentials: CredentialStore | None = None) -> None:
    """Each source all-or-nothing, committed on its own: one failing feed loses nothing else.

    Then what no source of a site lists any more is withdrawn, on plain runs too: WordPress and
    sitemap listings are complete even when only changed posts are fetched."""
    from recommender.catalog.sources import SyncRun, sync_source

    last = None if full else _last_success(session)
    since = last - SYNC_OVERLAP if last is not None else None
    run = SyncRun()
    for spec in sources:
        log.info("syncing %s%s", spec, f" (changes since {since:%Y-%m-%d %H:%M})" if since else "")
        report = sync_source(session, spec, since=since, credentials=credentials, run=run)
        if commit:
            session.commit()
        counts = report.summary()
        summary.seen += counts["seen"]
        summary.added += counts["added"]
        summary.updated += counts["updated"]
        summary.skipped += counts["skipped"]
        for note in report.notes:
            log.info("%s", note)
        for where, reason in report.skipped:
            log.warning("skipped %s: %s", where, reason)
    withdrawn = run.withdraw(session)
    summary.withdrawn += len(withdrawn)
    if withdrawn:
        log.info("withdrawn (no source of their site lists them): %s", ", ".join(withdrawn[:50]))
    if commit:
        session.commit()


def _credentials(settings: Settings) -> CredentialStore:
    from recommender.catalog.sources.auth import CredentialStore

    return CredentialStore.load(settings.wordpress_auth, settings.wordpress_auth_file or None)


def run(settings: Settings, session_factory: sessionmaker[Session], encoder: Encoder, *,
        full: bool = False, dry_run: bool = False, sources: Sequence[str] | None = None,
        progress: ProgressFactory | None = None, engine: BuildEngine | None = None) -> Summary:
    """One locked reindex; raises LockBusy, or the failure (previous build still serving).
    ``engine`` runs a build's embedding and lists (default: this process)."""
    started = time.perf_counter()
    summary = Summary(dry_run=dry_run, engine=engine.name if engine else "local")
    with file_lock(settings.index_dir / "reindex.lock", blocking=False):
        with session_factory() as session:
            session.execute(text("SELECT 1"))  # fail fast, before any work, if the DB is down
            if not dry_run:
                fail_interrupted_builds(session)
            if dry_run:
                _dry_run(session, encoder, sources or (), summary)
                session.rollback()
            else:
                sync_sources(session, sources or (), full=full, summary=summary,
                             credentials=_credentials(settings))
        if dry_run:
            summary.mode = "dry-run"
        else:
            recommender = Recommender(settings, session_factory, encoder=encoder)
            with session_factory() as session:
                summary.mode, changed = plan(session, recommender, full=full)
                summary.seen = max(summary.seen, _count(session))
                if summary.mode != "build":
                    meta = recommender.store.current_meta() or {}
                    summary.build_id = meta.get("build_id")
                    summary.index_kind = meta.get("index_kind")
                if summary.mode == "incremental":
                    log.info("%d articles changed since the last build: updating their lists",
                             len(changed))
                    refreshed = recommender.refresh(session, changed)
                    summary.embedded, summary.lists = refreshed.embedded, len(refreshed.lists_updated)
            if summary.mode == "build":
                report: BuildReport = full_build(recommender, full=full, progress=progress,
                                                 engine=engine)
                summary.embedded, summary.build_id = report.embedded, report.build_id
                summary.lists, summary.index_kind = report.lists, report.index_kind
                summary.timings = report.seconds
                summary.exposure = report.exposure
            summary.feedback = _roll_up_feedback(settings, session_factory)
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.peak_rss_mb = peak_rss_mb()
    return summary


def fail_interrupted_builds(session: Session) -> list[str]:
    """Mark ``building`` rows of this host ``failed``: their run died (killed, crashed) mid-build.

    Only safe while holding the reindex lock (``run`` calls it there): every build on this host
    holds it, so a row still ``building`` then belongs to a process that is gone, and would read
    as in progress forever. A row another host stamped (``jobs.build.builder_stamp``: several
    hosts sharing one PostgreSQL) may be a live build there, and is left alone. Commits; returns
    the ids marked.
    """
    host = builder_stamp()["host"]
    marked = []
    for build in session.scalars(select(IndexBuild).where(IndexBuild.status == "building")):
        if (build.stats or {}).get("host", host) != host:
            continue
        log.warning("build %s (started %s) was interrupted before it finished: marking it failed",
                    build.id, build.started.isoformat(timespec="seconds"))
        build.status, build.finished = "failed", utcnow()
        build.stats = {**(build.stats or {}), "error": "interrupted: the run ended before the build "
                       "finished (killed or crashed); found by the next run"}
        marked.append(build.id)
    session.commit()
    return marked


def _roll_up_feedback(settings: Settings, session_factory: sessionmaker[Session]) -> dict[str, int]:
    """Yesterday's (and any missed day's) widget events summed; raw rows past retention pruned."""
    from recommender.feedback.rollup import rollup_and_prune

    with session_factory() as session:
        return rollup_and_prune(session, settings.events_retention_days).to_dict()


def _experiment_name(session: Session) -> str | None:
    from recommender.feedback.experiments import running

    experiment = running(session)
    return experiment.name if experiment is not None else None


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Article)) or 0


def plan(session: Session, recommender: Recommender, *, full: bool) -> tuple[str, list[int]]:
    """Rebuild only when it pays: ("build" | "incremental" | "unchanged", changed article ids).

    A rebuild with nothing changed is pure cost, and a few changed articles are cheaper to slot
    into the existing lists (the same path as a publish) than to rebuild 10,000 lists. A full
    build still happens when asked (--full), for a new model, for a ranking policy other than the
    build's (saved by editors, or changed in the settings or by an upgrade's defaults), when
    more than REBUILD_SHARE of the catalogue changed, or when the build is older than
    REBUILD_AFTER (so the brute-force delta stays small).
    """
    meta = recommender.store.current_meta()
    if full or meta is None or meta.get("model_id") != recommender.encoder.model_id:
        return "build", []
    if meta.get("backend", TORCH) != backend_of(recommender.encoder):
        return "build", []  # #14: another encoder backend re-embeds everything, never mixes
    snapshot = datetime.fromisoformat(meta["snapshot"])
    now = utcnow()
    if now - snapshot > REBUILD_AFTER:
        return "build", []
    if meta.get("policy") != recommender.policy(session).to_dict():
        return "build", []  # stored lists and smoothing follow the build's policy: stale
    if meta.get("experiment") != _experiment_name(session):
        return "build", []  # #16: an experiment started or ended: lists per arm, or not
    changed = sorted(set(session.scalars(select(Article.id).where(
        (Article.modified >= snapshot)
        | (Article.status.in_(LIVE_STATUSES) & (Article.published_at >= snapshot)
           & (Article.published_at <= now))))))  # scheduled articles that went live
    if not changed:
        return "unchanged", []
    if len(changed) > REBUILD_SHARE * max(1, _count(session)):
        return "build", []
    return "incremental", changed


def _dry_run(session: Session, encoder: Encoder, sources: Sequence[str], summary: Summary) -> None:
    """What a run would do: sources synced into a transaction the caller rolls back."""
    sync_sources(session, sources, full=False, summary=summary, commit=False)
    session.flush()
    summary.embedded = len(stale_articles(session, encoder.model_id, backend=backend_of(encoder)))
