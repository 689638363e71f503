"""``cityhall exchange``: verify the message log, make a key pair for a client system,
call a service as the platform's one-stop system (to try a provider by hand)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def cmd_verify(args: argparse.Namespace) -> int:
    from cityhall.config import get_settings
    from cityhall.db import command_session
    from cityhall.exchange import log
    from cityhall.exchange.keys import gateway_key

    with command_session() as session:
        checked, problems = log.verify(session, gateway_key(get_settings()).public_jwk())
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
        print(f"exchange message log: {checked} entries checked, {verdict}")
    return 0 if not problems else 1


def cmd_keygen(args: argparse.Namespace) -> int:
    from cityhall.exchange.signing import KeyPair

    pair = KeyPair.generate(args.subsystem)
    print(json.dumps({"private_jwk": pair.private_jwk(), "public_jwk": pair.public_jwk()}))
    print(
        "Keep private_jwk on the client system only; register public_jwk with the platform "
        "(POST /api/v1/exchange/subsystems).",
        file=sys.stderr,
    )
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    from cityhall.config import get_settings
    from cityhall.db import default_engine, session_factory
    from cityhall.exchange.client import ExchangeClient

    client = ExchangeClient(get_settings(), session_factory(default_engine()))
    answer = client.call(
        "GET",
        args.service,
        args.path,
        purpose=args.purpose,
        subject=args.subject,
        acting="cli",
    )
    print(f"HTTP {answer.status} message {answer.message_id}", file=sys.stderr)
    sys.stdout.write(answer.body.decode("utf-8", "replace") + "\n")
    return 0 if answer.ok else 1


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands to ``cityhall``."""
    exchange = sub.add_parser("exchange", help="the data-sharing platform").add_subparsers(
        dest="exchange_command", required=True
    )
    p = exchange.add_parser("verify", help="check the message log's chains and signatures")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)
    p = exchange.add_parser("keygen", help="make an Ed25519 key pair for a client subsystem")
    p.add_argument("subsystem", help="VN/GOV/<member>/<subsystem>")
    p.set_defaults(func=cmd_keygen)
    p = exchange.add_parser("call", help="GET a service as the one-stop system (signed, logged)")
    p.add_argument("service", help="VN/GOV/<member>/<subsystem>/<service>")
    p.add_argument("path", help="path below the service, e.g. citizens/079090001234")
    p.add_argument("--purpose", default="administrative_procedure")
    p.add_argument("--subject", help="the 12-digit number of the person whose data it is")
    p.set_defaults(func=cmd_call)
