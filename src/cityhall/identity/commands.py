"""``cityhall identity …``: bootstrap and operate accounts from the command line."""

from __future__ import annotations

import argparse
import getpass
import os
from typing import Any


def cmd_create_admin(args: argparse.Namespace) -> int:
    """The first administrator of a new installation (password from a prompt or
    CITYHALL_NEW_ADMIN_PASSWORD, never from the command line, which `ps` shows)."""
    from cityhall.core.actors import Role, system_admin
    from cityhall.db import command_session
    from cityhall.errors import DomainError
    from cityhall.identity import service
    from cityhall.identity.schemas import OfficialCreate, RoleGrantIn

    password = os.environ.get("CITYHALL_NEW_ADMIN_PASSWORD") or getpass.getpass("Mật khẩu: ")
    bootstrap = system_admin("cli", "Dòng lệnh", args.agency)
    try:
        with command_session() as session:
            official = service.create_official(
                session,
                actor=bootstrap,
                data=OfficialCreate(
                    username=args.username,
                    full_name=args.full_name,
                    password=password,
                    roles=[RoleGrantIn(role=Role.ADMIN, agency_code=args.agency)],
                ),
            )
            print(f"đã tạo quản trị viên {official.username} (id {official.id})")
    except DomainError as exc:
        details = "; ".join(f"{e.field}: {e.message.format(**e.params)}" for e in exc.errors)
        print(f"lỗi: {exc}{' — ' + details if details else ''}")
        return 2
    return 0


def cmd_revoke_sessions(args: argparse.Namespace) -> int:
    from cityhall.core.actors import system_admin
    from cityhall.db import command_session
    from cityhall.identity import service

    operator = system_admin("cli", "Dòng lệnh")
    with command_session() as session:
        official_id = service.find_official_id(session, args.username)
        if official_id is None:
            print(f"không có cán bộ {args.username}")
            return 2
        count = service.revoke_all_sessions(session, actor=operator, official_id=official_id)
    print(f"đã thu hồi {count} phiên")
    return 0


def cmd_citizen_token(args: argparse.Namespace) -> int:
    """An API token for a citizen, for development and benchmarks only: in production a
    citizen's identity comes from the national e-ID login, never from a command."""
    from cityhall.config import get_settings
    from cityhall.core.actors import system_admin
    from cityhall.db import command_session
    from cityhall.errors import DomainError
    from cityhall.identity import service

    settings = get_settings()
    if settings.environment == "production":
        print("lỗi: lệnh này bị tắt trong môi trường production (dùng đăng nhập VNeID).")
        return 2
    try:
        with command_session() as session:
            citizen = service.ensure_citizen(
                session, actor=system_admin("cli", "Dòng lệnh"), pin=args.pin, full_name=args.name
            )
            _, token = service.open_citizen_session(
                session, citizen=citizen, kind="api", settings=settings, method="cli-development"
            )
    except DomainError as exc:
        print(f"lỗi: {exc}")
        return 2
    print(token)
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    identity = sub.add_parser("identity", help="accounts and sessions").add_subparsers(
        dest="identity_command", required=True
    )
    p = identity.add_parser("create-admin", help="create an administrator")
    p.add_argument("--username", required=True)
    p.add_argument("--full-name", required=True)
    p.add_argument("--agency", default="000.00.00.H29", help="agency code (default: the city)")
    p.set_defaults(func=cmd_create_admin)
    p = identity.add_parser(
        "citizen-token", help="an API token for a citizen (development only, not in production)"
    )
    p.add_argument("--pin", required=True, help="12-digit personal identification number")
    p.add_argument("--name", default="Công dân thử nghiệm", help="full name if new")
    p.set_defaults(func=cmd_citizen_token)
    p = identity.add_parser("revoke-sessions", help="log an official out everywhere")
    p.add_argument("username")
    p.set_defaults(func=cmd_revoke_sessions)
    register_eid(sub)


# --- the development e-ID provider ----------------------------------------------------------


def cmd_eid_serve(args: argparse.Namespace) -> int:
    """The development e-ID provider (simulated VNeID) as its own process; never production."""
    from cityhall.config import get_settings
    from cityhall.core import logs

    settings = get_settings()
    if settings.environment == "production":
        print(
            "lỗi: nhà cung cấp định danh mô phỏng không chạy trong môi trường production "
            "(CITYHALL_ENVIRONMENT=production); hãy cấu hình CITYHALL_EID_ISSUER trỏ tới VNeID."
        )
        return 2
    import uvicorn

    from cityhall.identity.eid.api import create_app, describe

    port = args.port or settings.eid_dev_port
    issuer = args.issuer or (
        settings.eid_issuer if args.port is None else f"http://{args.host}:{port}"
    )
    logs.configure(settings.log_level, json_lines=settings.log_json)
    app = create_app(
        settings,
        issuer=issuer,
        code_ttl=args.code_ttl,
        extra_redirect_uris=tuple(args.redirect_uri or ()),
    )
    print(f"VNeID mô phỏng: {describe(app)}", flush=True)
    uvicorn.run(app, host=args.host, port=port, log_config=None, timeout_graceful_shutdown=5)
    return 0


def register_eid(sub: argparse._SubParsersAction[Any]) -> None:
    eid = sub.add_parser(
        "eid", help="the development e-ID provider (not in production)"
    ).add_subparsers(dest="eid_command", required=True)
    p = eid.add_parser("serve", help="run the development OpenID Connect provider")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="default CITYHALL_EID_DEV_PORT")
    p.add_argument(
        "--issuer", help="issuer URL (default CITYHALL_EID_ISSUER, or http://HOST:PORT with --port)"
    )
    p.add_argument(
        "--code-ttl", type=float, default=60.0, help="lifetime of authorization codes, seconds"
    )
    p.add_argument(
        "--redirect-uri",
        action="append",
        help="another redirect URI to accept for the portal (repeatable)",
    )
    p.set_defaults(func=cmd_eid_serve)
