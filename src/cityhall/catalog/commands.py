"""Command-line subcommands: ``cityhall catalog import|check``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def cmd_check(args: argparse.Namespace) -> int:
    from cityhall.catalog.files import read_catalog

    catalog = read_catalog(args.path)
    for problem in catalog.problems:
        print(problem, file=sys.stderr)
    print(f"{len(catalog.procedures)} thủ tục, {len(catalog.problems)} lỗi")
    return 1 if catalog.problems else 0


def cmd_import(args: argparse.Namespace) -> int:
    from cityhall.catalog.service import CatalogInvalid, import_catalog
    from cityhall.config import get_settings
    from cityhall.core.actors import system_admin
    from cityhall.db import default_engine, ensure_database, session_factory, unit_of_work

    ensure_database(get_settings())
    try:
        with unit_of_work(session_factory(default_engine())) as session:
            report = import_catalog(session, actor=system_admin(), root=args.path)
    except CatalogInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} lỗi: không có gì được nhập.", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "fields": report.fields,
                "procedures": report.procedures,
                "versions": report.versions,
                "created": report.created,
                "new_versions": report.new_versions,
                "superseded": report.superseded,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands to ``cityhall``."""
    from cityhall.catalog.files import DATA_DIR

    catalog = sub.add_parser("catalog", help="the procedure catalogue").add_subparsers(
        dest="catalog_command", required=True
    )
    for name, func, text in (
        ("import", cmd_import, "validate and import the procedure files (all or nothing)"),
        ("check", cmd_check, "validate the procedure files without a database"),
    ):
        parser = catalog.add_parser(name, help=text)
        parser.add_argument("path", nargs="?", type=Path, default=DATA_DIR, help="catalogue folder")
        parser.set_defaults(func=func)
