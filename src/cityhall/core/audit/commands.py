"""``cityhall audit verify``: walk every hash chain and say what was changed or removed."""

from __future__ import annotations

import argparse
import json
from typing import Any


def cmd_verify(args: argparse.Namespace) -> int:
    from cityhall.core.audit.service import verify
    from cityhall.db import command_session

    with command_session() as session:
        checked, problems = verify(session)
    if args.json:
        print(
            json.dumps(
                {
                    "checked": checked,
                    "ok": not problems,
                    "problems": [p.__dict__ for p in problems],
                },
                ensure_ascii=False,
            )
        )
    else:
        for p in problems:
            print(f"TAMPERED [{p.kind}] {p.detail}")
        verdict = "intact" if not problems else f"{len(problems)} problem(s) found"
        print(f"audit log: {checked} events checked, {verdict}")
    return 0 if not problems else 1


def register(sub: argparse._SubParsersAction[Any]) -> None:
    audit = sub.add_parser("audit", help="the tamper-evident audit log").add_subparsers(
        dest="audit_command", required=True
    )
    p = audit.add_parser("verify", help="check every hash chain; exit 1 if tampered")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)
