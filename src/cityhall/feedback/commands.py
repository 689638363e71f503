"""Command-line subcommands: ``cityhall feedback api-key create|revoke``,
``cityhall feedback import-categories``, ``cityhall feedback escalate``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _session() -> Any:
    from cityhall.config import get_settings
    from cityhall.db import default_engine, ensure_database, session_factory, unit_of_work

    ensure_database(get_settings())
    return unit_of_work(session_factory(default_engine()))


def cmd_api_key_create(args: argparse.Namespace) -> int:
    from cityhall.core.actors import system_admin
    from cityhall.errors import DomainError
    from cityhall.feedback.service import create_api_key

    try:
        with _session() as session:
            key = create_api_key(
                session,
                actor=system_admin("cli", "Dòng lệnh"),
                name=args.name,
                contact=args.contact,
            )
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(key)
    print("Khóa API chỉ hiện một lần; hãy lưu lại.", file=sys.stderr)
    return 0


def cmd_api_key_revoke(args: argparse.Namespace) -> int:
    from cityhall.core.actors import system_admin
    from cityhall.errors import DomainError
    from cityhall.feedback.service import revoke_api_key

    try:
        with _session() as session:
            revoke_api_key(session, actor=system_admin("cli", "Dòng lệnh"), client_id=args.id)
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cityhall.config import get_settings
    from cityhall.core.actors import system_admin
    from cityhall.errors import DomainError
    from cityhall.feedback.categories import DATA_FILE, import_categories

    try:
        with _session() as session:
            changed = import_categories(
                session,
                actor=system_admin("cli", "Dòng lệnh"),
                settings=get_settings(),
                path=Path(args.file) if args.file else DATA_FILE,
            )
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        for e in exc.errors:
            print(f"  {e.field}: {e.message}", file=sys.stderr)
        return 2
    print(json.dumps({"changed": changed}))
    return 0


def cmd_escalate(args: argparse.Namespace) -> int:
    from cityhall.config import get_settings
    from cityhall.feedback.service import escalate_overdue

    with _session() as session:
        count = escalate_overdue(session, settings=get_settings())
    print(json.dumps({"escalated": count}))
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands to ``cityhall``."""
    feedback = sub.add_parser("feedback", help="feedback (1022) and Open311").add_subparsers(
        dest="feedback_command", required=True
    )
    keys = feedback.add_parser("api-key", help="Open311 API keys").add_subparsers(
        dest="api_key_command", required=True
    )
    p = keys.add_parser("create", help="create a key for an Open311 client (printed once)")
    p.add_argument("--name", required=True, help="the client application's name")
    p.add_argument("--contact", help="who to contact about it")
    p.set_defaults(func=cmd_api_key_create)
    p = keys.add_parser("revoke", help="revoke a client's key")
    p.add_argument("--id", type=int, required=True, help="the client's number")
    p.set_defaults(func=cmd_api_key_revoke)
    p = feedback.add_parser("import-categories", help="import the categories (idempotent)")
    p.add_argument("--file", help="a categories YAML file (default: the packaged one)")
    p.set_defaults(func=cmd_import)
    feedback.add_parser(
        "escalate", help="flag overdue reports and notify the heads now"
    ).set_defaults(func=cmd_escalate)
