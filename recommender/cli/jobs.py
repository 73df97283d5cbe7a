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
    from recommender.embedding.backends import make_encoder
    from recommender.jobs.engine import EngineUnavailable
    from recommender.jobs.evaluation import DatasetError, evaluate
    from recommender.settings import SettingsError

    directory = Path(args.directory)
    if args.k < 1:
        print(f"related-reading: error: --k must be at least 1, not {args.k}", file=sys.stderr)
        return exits.USAGE
    if not directory.is_dir():
        print(f"related-reading: error: not a directory: {directory}", file=sys.stderr)
        return exits.USAGE
    build_engine = None
    try:
        encoder = make_encoder(settings)  # --- #14: RELATED_ENCODER_BACKEND
    except SettingsError as exc:
        print(f"related-reading: error: bad setting: {exc}", file=sys.stderr)
        return exits.USAGE
    try:
        build_engine = _build_engine(args, settings)
        result = evaluate(directory, encoder, settings,
                          k=args.k, work_dir=Path(args.work_dir) if args.work_dir else None,
                          as_served=args.as_served, build_engine=build_engine)
    except DatasetError as exc:
        print(f"related-reading: error: {exc}", file=sys.stderr)
        return exits.USAGE
    except EngineUnavailable as exc:
        print(f"related-reading: error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        if build_engine is not None:
            build_engine.close()
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
    cap = result.get("exposure")
    if cap:  # #16: what the exposure cap costs in relevance
        k = next((key.split("@")[1] for key in cap if key.startswith("ndcg@")), "10")
        print(f"exposure cap {cap['cap']:.2%} (at most {cap['limit']} of {cap['slots']} slots "
              f"per article): {cap['moved']} slots moved, nDCG@{k} {cap[f'ndcg@{k}']:.4f} "
              f"(cost {cap[f'ndcg@{k}_cost']:+.4f})", file=stream)


def register(sub: Any) -> None:
    register_reindex(sub)
    # --- #17 item 2: scheduled articles going live
    pd = sub.add_parser("publish-due", help="give scheduled articles that went live their lists "
                                            "and put them in their neighbours' (cron, every minute)")
    pd.set_defaults(handler=cmd_publish_due)
    ev = sub.add_parser("eval", help="evaluate on a labelled set beside a TF-IDF baseline")
    ev.add_argument("directory", metavar="DIR")
    ev.add_argument("--k", type=int, default=10)
    ev.add_argument("--json", action="store_true", help="end with one JSON line")
    ev.add_argument("--work-dir", help="keep the temporary database and index here")
    ev.add_argument("--as-served", action="store_true",
                    help="keep recency and the fallback filler, as readers get the lists")
    _engine_options(ev)
    ev.set_defaults(handler=cmd_eval)


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    """Run the nightly job; the last line printed is always one JSON summary."""
    import logging

    from recommender.embedding.backends import make_encoder
    from recommender.jobs import reindex
    from recommender.jobs.build import peak_rss_mb
    from recommender.jobs.engine import EngineUnavailable
    from recommender.jobs.progress import progress_for
    from recommender.settings import SettingsError
    from recommender.storage.engine import make_engine, make_session_factory
    from recommender.storage.locks import LockBusy

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sources = list(settings.sources) + list(args.sources or [])
    summary = reindex.Summary(dry_run=args.dry_run, engine=args.engine)
    try:
        build_engine = _build_engine(args, settings)
    except EngineUnavailable as exc:
        summary.status, summary.error = "failed", str(exc)
        print(f"related-reading reindex: error: {exc}", file=sys.stderr)
        print(json.dumps(summary.to_dict()))
        return exc.exit_code
    engine = make_engine(settings.database_url)
    code = exits.OK
    try:
        summary = reindex.run(settings, make_session_factory(engine),
                              make_encoder(settings, threads=args.threads),
                              full=args.full, dry_run=args.dry_run, sources=sources,
                              progress=progress_for(tty=sys.stderr.isatty(), quiet=args.quiet),
                              engine=build_engine)
    except EngineUnavailable as exc:
        summary.status, summary.error = "failed", str(exc)
        code = exc.exit_code
    except LockBusy as exc:
        summary.status, summary.error = "locked", f"another reindex is running: {exc}"
        code = exits.LOCKED
    except SettingsError as exc:  # --- #14: a backend that cannot run here; nothing was changed
        summary.status, summary.error = "failed", f"bad setting: {exc}"
        code = exits.USAGE
    except Exception as exc:
        summary.status, summary.error = "failed", _describe(exc)
        code = exits.FAILED
    finally:
        engine.dispose()
        if build_engine is not None:
            build_engine.close()
    if summary.error:
        print(f"related-reading reindex: error: {summary.error}", file=sys.stderr)
    summary.peak_rss_mb = summary.peak_rss_mb or peak_rss_mb()
    print(json.dumps(summary.to_dict()))
    return code


def _build_engine(args: argparse.Namespace, settings: Settings) -> Any:
    """None for the local engine; the Ray engine (Ray imported only now) for ``--engine ray``,
    its actors building the same encoder as this process would."""
    if args.engine != "ray":
        return None
    if args.ray_actors is not None and args.ray_actors < 1:
        from recommender.jobs.engine import EngineUnavailable

        raise EngineUnavailable(f"--ray-actors must be at least 1, not {args.ray_actors}", exits.USAGE)
    import functools

    from recommender.embedding.backends import make_encoder
    from recommender.jobs.ray_engine import RayEngine

    factory = functools.partial(make_encoder, settings,  # RELATED_ENCODER_BACKEND, as here
                                threads=getattr(args, "threads", None) or 1)
    return RayEngine(settings.ray_address, factory, actors=args.ray_actors)


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
    _engine_options(ri)
    ri.set_defaults(handler=cmd_reindex)


def cmd_publish_due(args: argparse.Namespace, settings: Settings) -> int:
    """Refresh the lists of scheduled articles now live; one JSON line (``live.due``)."""
    del args
    from recommender.live.due import publish_due
    from recommender.live.recommender import Recommender
    from recommender.storage.engine import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        with factory() as session:
            report = publish_due(session, Recommender(settings, factory))
    except Exception as exc:
        print(f"related-reading publish-due: error: {_describe(exc)}", file=sys.stderr)
        return exits.FAILED
    finally:
        engine.dispose()
    print(json.dumps(report.to_dict()))
    return exits.OK


# --- #15 engines
def _engine_options(parser: Any) -> None:
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="where embedding and lists run: this process, or Ray "
                             "(RELATED_RAY_ADDRESS, else a local Ray)")
    parser.add_argument("--ray-actors", type=int, default=None, metavar="N",
                        help="embedding actors on Ray (default: one per CPU of the cluster)")
