"""Command-line subcommands: ``cityhall places import``."""

from __future__ import annotations

import argparse
import json
from typing import Any


def cmd_import(args: argparse.Namespace) -> int:
    from cityhall.config import get_settings
    from cityhall.db import default_engine, ensure_database, session_factory, unit_of_work
    from cityhall.places.service import load_reference_data

    ensure_database(get_settings())
    with unit_of_work(session_factory(default_engine())) as session:
        counts = load_reference_data(session)
    print(json.dumps(counts, ensure_ascii=False, indent=2))
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands to ``cityhall``."""
    places = sub.add_parser("places", help="administrative units and agencies").add_subparsers(
        dest="places_command", required=True
    )
    places.add_parser(
        "import", help="load or update units, former units and agencies (idempotent)"
    ).set_defaults(func=cmd_import)
