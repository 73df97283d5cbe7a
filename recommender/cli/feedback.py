"""``related-reading stats``: what the related-reading box did over the last days."""

from __future__ import annotations

import argparse
import json
import sys

from recommender import exits
from recommender.settings import Settings


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from recommender.feedback.stats import render_text, summary
    from recommender.storage.engine import make_engine, make_session_factory

    if args.days < 1:
        print(f"related-reading: error: --days must be at least 1, not {args.days}",
              file=sys.stderr)
        return exits.USAGE
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            doc = summary(session, args.days)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(doc))
    else:
        print(render_text(doc))
    return exits.OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    stats = sub.add_parser("stats", help="impressions, clicks and CTR of the related-reading box")
    stats.add_argument("--days", type=int, default=30, help="the last N days, today included "
                                                            "(default 30)")
    stats.add_argument("--json", action="store_true", help="one JSON object as the last line")
    stats.set_defaults(handler=cmd_stats)
