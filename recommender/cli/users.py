"""CLI subcommands for editor accounts: ``users create|password|disable|enable|list``.

Passwords never appear on the command line (where ``ps`` and shell history would keep them): they
are typed twice at a hidden prompt, or read from stdin with ``--password-stdin`` for scripts.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from recommender import exits
from recommender.settings import Settings


def _read_password(from_stdin: bool) -> str:
    """The new password, or ValueError; from stdin it is the first line, without its newline."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise ValueError("the passwords do not match")
    return password


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    from recommender.accounts import users
    from recommender.storage.engine import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            if args.action == "list":
                for user in users.list_users(session):
                    state = "disabled" if user.disabled else "active"
                    print(f"{user.name}\t{state}\t{user.created:%Y-%m-%d %H:%M}Z")
                return exits.OK
            if not args.name:
                print(f"related-reading: error: users {args.action} needs NAME", file=sys.stderr)
                return exits.USAGE
            try:
                if args.action == "create":
                    users.check_name(args.name)
                    users.create_user(session, args.name, _read_password(args.password_stdin))
                elif args.action == "password":
                    users.set_password(session, args.name, _read_password(args.password_stdin))
                else:
                    users.set_disabled(session, args.name, args.action == "disable")
            except ValueError as exc:  # UserError included
                session.rollback()
                print(f"related-reading: error: {exc}", file=sys.stderr)
                return exits.USAGE
            session.commit()
            print(f"user {args.name}: {args.action} done")
            return exits.OK
    finally:
        engine.dispose()


def register(sub: Any) -> None:
    parser = sub.add_parser("users", help="editor accounts: create, password, disable, enable, "
                                          "list")
    parser.add_argument("action", choices=["create", "password", "disable", "enable", "list"])
    parser.add_argument("name", nargs="?", metavar="NAME")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of stdin (for scripts); "
                             "a password has at least 10 characters")
    parser.set_defaults(handler=cmd_users)
