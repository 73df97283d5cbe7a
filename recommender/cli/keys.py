"""``related-reading keys create|list|revoke``: managing the publish webhook's API keys.

The plaintext of a key goes to stdout alone (so ``KEY=$(related-reading keys create cms)`` works)
and the warning that it is not stored goes to stderr. Bad input (a taken or unknown name) exits 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from recommender import exits
from recommender.settings import Settings


def _error(message: str) -> None:
    print(f"related-reading: error: {message}", file=sys.stderr)


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import inspect

    from recommender.accounts.apikeys import ApiKeyError, create_key, list_keys, revoke_key
    from recommender.storage.engine import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table("api_keys"):
            _error("the database has no api_keys table; run `related-reading db upgrade` first")
            return exits.FAILED
        with make_session_factory(engine)() as session:
            try:
                if args.action == "create":
                    key = create_key(session, args.name)
                    session.commit()
                    print(key)
                    print(f"created key {args.name.strip()!r}. This is the only time it is shown: "
                          "only its hash is stored, so copy it now (send it as "
                          "'Authorization: Bearer <key>').", file=sys.stderr)
                elif args.action == "revoke":
                    revoked = revoke_key(session, args.name)
                    session.commit()
                    print(f"revoked key {revoked.name!r} (prefix {revoked.prefix})")
                else:
                    _print_keys(list_keys(session))
            except ApiKeyError as exc:
                session.rollback()
                _error(str(exc))
                return exits.USAGE
    finally:
        engine.dispose()
    return exits.OK


def _print_keys(keys: list[Any]) -> None:
    if not keys:
        print("no API keys (create one with `related-reading keys create NAME`)")
        return
    width = max(4, *(len(k.name) for k in keys))
    print(f"{'name':<{width}}  {'prefix':<11}  {'created':<16}  {'last used':<16}  status")
    for key in keys:
        status = "active" if key.revoked_at is None else f"revoked {_when(key.revoked_at)}"
        print(f"{key.name:<{width}}  {key.prefix + '...':<11}  {_when(key.created):<16}  "
              f"{_when(key.last_used):<16}  {status}")


def register(sub: Any) -> None:
    keys = sub.add_parser("keys", help="manage API keys for the publish webhook")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key and print it (once)")
    create.add_argument("name", metavar="NAME", help="who uses it, e.g. cms-production")
    actions.add_parser("list", help="list keys (name, prefix, created, last used, status)")
    revoke = actions.add_parser("revoke", help="stop accepting a key")
    revoke.add_argument("name", metavar="NAME")
    keys.set_defaults(handler=cmd_keys)
