"""``cityhall registry …``: run a registry stand-in, or look into its synthetic data."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from cityhall.registries.codes import KINDS

SYNTHETIC_NOTICE = (
    "DỮ LIỆU TỔNG HỢP — không phải người thật, không phải cơ sở dữ liệu quốc gia "
    "(synthetic data: a stand-in, not the national registry)"
)


def serve_command(kind: str, port: int) -> list[str]:
    """The argv that starts the stand-in ``kind`` on ``port`` as its own process (seed and
    number of people from the settings, which the child reads from the same environment).

    It is ``cityhall registry serve`` through this package's own entry point
    (``python -m cityhall.registries``): the same parser and code, without importing every
    domain's commands first, so the process is up a few seconds sooner."""
    if kind not in KINDS:
        raise ValueError(f"unknown registry {kind!r}: one of {', '.join(KINDS)}")
    return [sys.executable, "-m", "cityhall.registries", "serve", kind, "--port", str(port)]


def main(argv: list[str] | None = None) -> int:
    """``python -m cityhall.registries serve|show …``: the ``cityhall registry`` commands."""
    parser = argparse.ArgumentParser(prog="cityhall registry")
    register_commands(parser.add_subparsers(dest="registry_command", required=True))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from cityhall.config import get_settings
    from cityhall.core import logs
    from cityhall.registries.apps import build_app, port_of

    settings = get_settings()
    logs.configure(settings.log_level, json_lines=settings.log_json)
    seed = settings.registry_seed if args.seed is None else args.seed
    people = settings.registry_people if args.people is None else args.people
    if people < 100:
        print("lỗi: --people phải từ 100 trở lên (các hộ gia đình mẫu cần chỗ).")
        return 2
    port = args.port or port_of(args.kind, settings)
    started = time.perf_counter()
    app = build_app(args.kind, seed=seed, people=people, settings=settings)
    seconds = time.perf_counter() - started
    print(
        f"{SYNTHETIC_NOTICE}\n"
        f"registry {args.kind}: seed {seed}, {people} people, generated in {seconds:.2f} s; "
        f"http://{args.host}:{port}"
        + (" (bearer token required)" if settings.registry_token else ""),
        flush=True,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """One record as the service would answer it, without starting the service."""
    from cityhall.config import get_settings
    from cityhall.registries import synthetic

    settings = get_settings()
    seed = settings.registry_seed if args.seed is None else args.seed
    people = settings.registry_people if args.people is None else args.people
    data = synthetic.generate(seed, people, kinds=(args.kind,))
    record: Any
    if args.kind == "population":
        record = data.population.people.get(args.id) or data.population.households.get(args.id)
    elif args.kind == "business":
        record = data.businesses.get(args.id)
    else:
        record = data.parcels.get(args.id)
    if record is None:
        print(f"không có {args.id} trong registry {args.kind} (seed {seed}, {people} người)")
        return 3
    print(json.dumps(record.as_json(), ensure_ascii=False, indent=2))
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands to ``cityhall``."""
    registry = sub.add_parser(
        "registry", help="stand-ins for the national databases (synthetic data)"
    ).add_subparsers(dest="registry_command", required=True)
    register_commands(registry)


def register_commands(registry: argparse._SubParsersAction[Any]) -> None:
    p = registry.add_parser("serve", help="run one registry stand-in as a web service")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="default CITYHALL_REGISTRY_<KIND>_PORT")
    p.add_argument("--seed", type=int, help="default CITYHALL_REGISTRY_SEED")
    p.add_argument("--people", type=int, help="default CITYHALL_REGISTRY_PEOPLE")
    p.set_defaults(func=cmd_serve)
    p = registry.add_parser("show", help="print one record of a registry's synthetic data")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("id", help="pin or household id, tax code, or parcel id")
    p.add_argument("--seed", type=int, help="default CITYHALL_REGISTRY_SEED")
    p.add_argument("--people", type=int, help="default CITYHALL_REGISTRY_PEOPLE")
    p.set_defaults(func=cmd_show)
