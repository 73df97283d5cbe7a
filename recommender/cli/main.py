"""The ``related-reading`` command: thin argument parsing over the library.

Each subcommand returns an exit code; bad input is a message on stderr and a non-zero exit,
never a traceback (exit 2 for bad input or settings, 1 for a failed operation).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from recommender import exits
from recommender.settings import Settings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DEMO_DIR = Path(__file__).resolve().parents[1] / "demo_data"

Handler = Callable[[argparse.Namespace, Settings], int]


def _error(message: str) -> None:
    print(f"related-reading: error: {message}", file=sys.stderr)


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from recommender.storage import migrations

    if args.action == "upgrade":
        migrations.upgrade(settings.database_url, args.revision or "head")
    elif args.action == "downgrade":
        migrations.downgrade(settings.database_url, args.revision or "-1")
    print(f"database at revision {migrations.current(settings.database_url) or 'base'}")
    return exits.OK


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """A session on a new engine, disposed on the way out: a command leaves no connection open
    (on PostgreSQL an abandoned pooled connection is only closed by the garbage collector)."""
    from recommender.storage.engine import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _source_options(args: argparse.Namespace) -> tuple[list[str], datetime | None]:
    """--source specs (checked before anything is fetched) and --since, or ValueError."""
    sources: list[str] = getattr(args, "sources", None) or []
    if not args.files and not sources:
        raise ValueError("import needs FILE... or --source SPEC")
    for spec in sources:
        from recommender.catalog.sources import parse_spec

        parse_spec(spec)
    if getattr(args, "withdraw_missing", False) and all(
            s.startswith(("rss:", "atom:")) for s in sources):
        raise ValueError("--withdraw-missing needs a wordpress or sitemap source "
                         "(a feed lists only its latest entries)")
    since = getattr(args, "since", None)
    try:
        return sources, datetime.fromisoformat(since) if since else None
    except ValueError:
        raise ValueError(f"--since: expected an ISO 8601 date, got {since!r}") from None


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from recommender.catalog.importing import ImportFailed, import_file

    paths = [Path(p) for p in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        _error(f"no such file: {', '.join(missing)}")
        return exits.USAGE
    try:
        sources, since = _source_options(args)
    except ValueError as exc:
        _error(str(exc))
        return exits.USAGE
    started = time.perf_counter()
    totals: dict[str, int] = {}
    changed: list[int] = []  # added or updated: their lists are refreshed now, not next night
    with _session(settings) as session:
        for path in paths:
            try:
                report = import_file(session, path, fmt=args.format, skip_invalid=args.skip_invalid)
            except ImportFailed as exc:
                session.rollback()
                for err in exc.errors:
                    print(f"invalid: {err}", file=sys.stderr)
                _error(f"{path}: {exc}; fix the rows or pass --skip-invalid")
                return exits.USAGE
            except ValueError as exc:
                session.rollback()
                _error(str(exc))
                return exits.USAGE
            changed += report.added + report.updated
            for err in report.skipped:
                print(f"skipped: {err}", file=sys.stderr)
            for key, value in report.summary().items():
                totals[key] = totals.get(key, 0) + value
        if sources:
            from recommender.catalog.sources import SourceError, SyncRun, sync_source
            from recommender.catalog.sources.auth import CredentialStore

            run = SyncRun()  # withdrawal is decided per site over all the --source specs
        for spec in sources:
            try:
                synced = sync_source(session, spec, since=since, run=run,
                                     withdraw_missing=args.withdraw_missing
                                     and not spec.startswith(("rss:", "atom:")),
                                     credentials=CredentialStore.load(
                                         settings.wordpress_auth, settings.wordpress_auth_file))
            except SourceError as exc:
                session.rollback()
                _error(f"{exc}; nothing imported")
                return exits.FAILED
            except ValueError as exc:
                session.rollback()
                _error(str(exc))
                return exits.USAGE
            changed += synced.added + synced.updated
            for note in synced.notes:
                print(f"note: {note}", file=sys.stderr)
            for where, reason in synced.skipped:
                print(f"skipped: {where}: {reason}", file=sys.stderr)
            for key, value in synced.summary().items():
                totals[key] = totals.get(key, 0) + value
        if sources and args.withdraw_missing:
            totals["withdrawn"] = len(run.withdraw(session))
        session.commit()
        from recommender.live.imports import refresh_after_import

        totals["lists_updated"] = refresh_after_import(settings, session, changed)
    totals["seconds"] = round(time.perf_counter() - started, 2)  # type: ignore[assignment]
    print(json.dumps(totals))
    return exits.OK


def cmd_demo_load(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate and import the bundled demo articles (what the README's demo command runs)."""
    from recommender.storage import migrations

    migrations.upgrade(settings.database_url)
    files = sorted(str(p) for p in DEMO_DIR.glob("*.jsonl"))
    return cmd_import(argparse.Namespace(files=files, format="jsonl", skip_invalid=False),
                      settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="related-reading", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="migrate the database")
    db.add_argument("action", choices=["upgrade", "downgrade", "current"])
    db.add_argument("revision", nargs="?", help="target revision (default: head / -1)")
    db.set_defaults(handler=cmd_db)

    imp = sub.add_parser("import", help="import articles from JSON Lines or CSV files, feeds, "
                                        "WordPress or sitemaps")
    imp.add_argument("files", nargs="*", metavar="FILE")
    imp.add_argument("--format", choices=["jsonl", "csv"], help="default: from the extension")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="import the valid rows and list the skipped ones")
    imp.add_argument("--source", action="append", dest="sources", metavar="SPEC",
                     help="rss:|atom:|wordpress:|sitemap: followed by a URL or path (repeatable)")
    imp.add_argument("--since", metavar="ISO", help="--source: only what changed since then")
    imp.add_argument("--withdraw-missing", action="store_true",
                     help="full wordpress/sitemap sync: unpublish stored articles no longer listed")
    imp.set_defaults(handler=cmd_import)

    demo = sub.add_parser("demo-load", help="migrate and import the bundled demo articles")
    demo.set_defaults(handler=cmd_demo_load)
    for register in _EXTENSIONS:
        register(sub)
    return parser


# Later modules add subcommands here (reindex, eval, serve, users, keys) without growing this file.
_EXTENSIONS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        _error(f"bad setting: {exc}")
        return exits.USAGE
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        _error("interrupted")
        return exits.INTERRUPTED
    except Exception as exc:
        from sqlalchemy.exc import DBAPIError, OperationalError

        if isinstance(exc, DBAPIError) and _unmigrated(exc):
            _error(f"the database has no tables yet ({settings.database_url.split('@')[-1]}): "
                   "run `related-reading db upgrade` first (same RELATED_* settings)")
            return exits.FAILED
        if isinstance(exc, OperationalError):
            _error(f"database unreachable or failing ({settings.database_url.split('@')[-1]}): "
                   f"{exc.orig}")
            return exits.FAILED
        raise


def _unmigrated(exc: Exception) -> bool:
    """The error is a missing table: SQLite's "no such table", PostgreSQL's UndefinedTable."""
    orig = getattr(exc, "orig", None)
    return "no such table" in str(orig) or type(orig).__name__ == "UndefinedTable"


def _register_jobs() -> None:
    from recommender.cli import jobs as cli_jobs
    from recommender.cli import keys as cli_keys
    from recommender.cli import serve as cli_serve
    from recommender.cli import users as cli_users

    _EXTENSIONS.append(cli_jobs.register)
    _EXTENSIONS.append(cli_serve.register)
    _EXTENSIONS.append(cli_users.register)
    _EXTENSIONS.append(cli_keys.register)
    from recommender.cli import feedback as cli_feedback  # --- #16 readers' feedback

    _EXTENSIONS.append(cli_feedback.register)


_register_jobs()
