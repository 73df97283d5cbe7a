"""CLI subcommands that build and measure: ``reindex`` and ``eval``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from recommender import exits
from recommender.settings import Settings


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from recommender.embedding.encoder import SentenceTransformerEncoder
    from recommender.jobs.evaluation import DatasetError, evaluate

    directory = Path(args.directory)
    if args.k < 1:
        print(f"related-reading: error: --k must be at least 1, not {args.k}", file=sys.stderr)
        return exits.USAGE
    if not directory.is_dir():
        print(f"related-reading: error: not a directory: {directory}", file=sys.stderr)
        return exits.USAGE
    try:
        result = evaluate(directory, SentenceTransformerEncoder(settings.model), settings,
                          k=args.k, work_dir=Path(args.work_dir) if args.work_dir else None,
                          as_served=args.as_served)
    except DatasetError as exc:
        print(f"related-reading: error: {exc}", file=sys.stderr)
        return exits.USAGE
    if not args.json:
        _print_table(result)
    else:
        _print_table(result, stream=sys.stderr)
        print(json.dumps(result))
    return exits.OK


def _print_table(result: dict[str, Any], stream: Any = sys.stdout) -> None:
    which = ("as served" if result["mode"] == "as served"
             else "recency and fallback off, --as-served keeps them")
    print(f"dataset {result['dataset']}: {result['articles']} articles, "
          f"{result['queries']} queries; policy: the site's (RELATED_RANKING_*), {which}",
          file=stream)
    metrics, base = result.get("metrics", {}), result.get("baseline", {}).get("tfidf", {})
    print(f"{'metric':<12}{'system':>10}{'tfidf':>10}{'delta':>10}", file=stream)
    for key, value in metrics.items():
        other = base.get(key)
        delta = f"{value - other:+.4f}" if isinstance(other, float) else ""
        print(f"{key:<12}{value:>10.4f}{(other or 0):>10.4f}{delta:>10}", file=stream)


def register(sub: Any) -> None:
    register_reindex(sub)
    ev = sub.add_parser("eval", help="evaluate on a labelled set beside a TF-IDF baseline")
    ev.add_argument("directory", metavar="DIR")
    ev.add_argument("--k", type=int, default=10)
    ev.add_argument("--json", action="store_true", help="end with one JSON line")
    ev.add_argument("--work-dir", help="keep the temporary database and index here")
    ev.add_argument("--as-served", action="store_true",
                    help="keep recency and the fallback filler, as readers get the lists")
    ev.set_defaults(handler=cmd_eval)


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    """Run the nightly job; the last line printed is always one JSON summary."""
    import logging

    from recommender.embedding.encoder import SentenceTransformerEncoder
    from recommender.jobs import reindex
    from recommender.jobs.build import peak_rss_mb
    from recommender.jobs.progress import progress_for
    from recommender.storage.engine import make_engine, make_session_factory
    from recommender.storage.locks import LockBusy

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sources = list(settings.sources) + list(args.sources or [])
    engine = make_engine(settings.database_url)
    summary = reindex.Summary(dry_run=args.dry_run)
    code = exits.OK
    try:
        summary = reindex.run(settings, make_session_factory(engine),
                              SentenceTransformerEncoder(settings.model, threads=args.threads),
                              full=args.full, dry_run=args.dry_run, sources=sources,
                              progress=progress_for(tty=sys.stderr.isatty(), quiet=args.quiet))
    except LockBusy as exc:
        summary.status, summary.error = "locked", f"another reindex is running: {exc}"
        code = exits.LOCKED
    except Exception as exc:
        summary.status, summary.error = "failed", _describe(exc)
        code = exits.FAILED
    finally:
        engine.dispose()
    if summary.error:
        print(f"related-reading reindex: error: {summary.error}", file=sys.stderr)
    summary.peak_rss_mb = summary.peak_rss_mb or peak_rss_mb()
    print(json.dumps(summary.to_dict()))
    return code


def _describe(exc: BaseException) -> str:
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        return f"database unreachable: {str(exc.orig).strip().splitlines()[0]}"
    cause = exc.__cause__
    return f"{exc}" + (f" ({type(cause).__name__})" if cause else "")


def register_reindex(sub: Any) -> None:
    ri = sub.add_parser("reindex", help="sync sources, embed what changed, rebuild, flip (cron)")
    ri.add_argument("--full", action="store_true", help="re-embed everything and resync in full")
    ri.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    ri.add_argument("--source", action="append", dest="sources", metavar="SPEC",
                    help="also sync this source (kind:URL), besides RELATED_SOURCES")
    ri.add_argument("--threads", type=int, default=None, help="torch threads for embedding")
    ri.add_argument("--quiet", action="store_true", help="no progress bar nor progress log lines")
    ri.set_defaults(handler=cmd_reindex)
