"""CLI subcommands that build and measure: ``reindex`` and ``eval``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from recommender.settings import Settings


def _progress_factory(enabled: bool):  # type: ignore[no-untyped-def]
    """tqdm bars on a terminal, nothing otherwise (log lines come from the caller)."""
    if not enabled:
        return None
    from tqdm import tqdm

    def make(name: str, total: int):  # type: ignore[no-untyped-def]
        bar = tqdm(total=total, desc=name, unit="art", leave=False, file=sys.stderr)
        return bar.update

    return make


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from recommender.encoder import SentenceTransformerEncoder
    from recommender.evaluation import DatasetError, evaluate

    directory = Path(args.directory)
    if not directory.is_dir():
        print(f"related-reading: error: not a directory: {directory}", file=sys.stderr)
        return 2
    try:
        result = evaluate(directory, SentenceTransformerEncoder(settings.model), settings,
                          k=args.k, work_dir=Path(args.work_dir) if args.work_dir else None)
    except DatasetError as exc:
        print(f"related-reading: error: {exc}", file=sys.stderr)
        return 2
    if not args.json:
        _print_table(result)
    else:
        _print_table(result, stream=sys.stderr)
        print(json.dumps(result))
    return 0


def _print_table(result: dict[str, Any], stream: Any = sys.stdout) -> None:
    print(f"dataset {result['dataset']}: {result['articles']} articles, "
          f"{result['queries']} queries; policy: the site's (RELATED_RANKING_*)", file=stream)
    metrics, base = result.get("metrics", {}), result.get("baseline", {}).get("tfidf", {})
    print(f"{'metric':<12}{'system':>10}{'tfidf':>10}{'delta':>10}", file=stream)
    for key, value in metrics.items():
        other = base.get(key)
        delta = f"{value - other:+.4f}" if isinstance(other, float) else ""
        print(f"{key:<12}{value:>10.4f}{(other or 0):>10.4f}{delta:>10}", file=stream)


def register(sub: Any) -> None:
    ev = sub.add_parser("eval", help="evaluate on a labelled set beside a TF-IDF baseline")
    ev.add_argument("directory", metavar="DIR")
    ev.add_argument("--k", type=int, default=10)
    ev.add_argument("--json", action="store_true", help="end with one JSON line")
    ev.add_argument("--work-dir", help="keep the temporary database and index here")
    ev.set_defaults(handler=cmd_eval)
