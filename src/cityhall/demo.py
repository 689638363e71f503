"""Demo data for ``make run``: reference data, the calendar, demo officials and citizens.

Demo passwords are generated on first seeding and kept in ``<data_dir>/demo-accounts.json``
(mode 0600, never committed); ``cityhall demo accounts --json`` prints them.
"""

from __future__ import annotations

import argparse
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Actor, Role, system_admin

# The two demo wards (current names), by their unit names.
DEMO_WARDS = ("Phường Sài Gòn", "Phường Bến Thành", "Phường Tân Định")
DEMO_SLUGS = ("saigon", "benthanh", "tandinh")


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: str
    agency_code: str
    agency_name: str
    unit_code: str | None
    password: str = ""


def _seeder() -> Actor:
    return system_admin("demo", "Dữ liệu mẫu")


def _agency(session: Session, *, kind: str, q: str | None = None) -> tuple[str, str, str]:
    from cityhall.places.queries import search_agencies
    from cityhall.places.schemas import AgencyQuery

    page = search_agencies(session, AgencyQuery.model_validate({"kind": kind, "q": q, "limit": 5}))
    if not page.items:
        raise LookupError(f"no agency of kind {kind} matching {q!r}: load places first")
    exact = [a for a in page.items if q is None or a.name.endswith(q)]
    agency = (exact or page.items)[0]
    return agency.code, agency.name, agency.unit_code


def account_plan(session: Session) -> list[DemoAccount]:
    city_code, city_name, _ = _agency(session, kind="city_committee")
    centre_code, centre_name, _ = _agency(session, kind="service_centre")
    justice_code, justice_name, _ = _agency(session, kind="department", q="Sở Tư pháp")
    plan = [
        DemoAccount("quantri", "Nguyễn Quản Trị", Role.ADMIN, city_code, city_name, None),
        DemoAccount("dieuhanh", "Lê Điều Hành", Role.OPERATIONS_VIEWER, city_code, city_name, None),
        DemoAccount(
            "chuyenvien.sotuphap",
            "Trần Chuyên Viên",
            Role.HANDLER,
            justice_code,
            justice_name,
            None,
        ),
        DemoAccount(
            "tiepnhan.ttphvhcc",
            "Võ Tiếp Nhận",
            Role.INTAKE_OFFICER,
            centre_code,
            centre_name,
            None,
        ),
    ]
    for ward, slug in zip(DEMO_WARDS, DEMO_SLUGS, strict=True):
        code, name, unit = _agency(session, kind="ward_committee", q=ward)
        plan += [
            DemoAccount(
                f"tiepnhan.{slug}",
                f"Phạm Tiếp Nhận ({ward})",
                Role.INTAKE_OFFICER,
                code,
                name,
                unit,
            ),
            DemoAccount(f"thuly.{slug}", f"Đỗ Thụ Lý ({ward})", Role.HANDLER, code, name, unit),
            DemoAccount(
                f"lanhdao.{slug}", f"Hoàng Lãnh Đạo ({ward})", Role.APPROVER, code, name, unit
            ),
        ]
    plan += _feedback_accounts(session, city_code, city_name)
    return plan


def _feedback_accounts(session: Session, city_code: str, city_name: str) -> list[DemoAccount]:
    # feedback (1022): the hotline, the city's dispatcher and moderator, focal officers
    works_code, works_name, _ = _agency(session, kind="department", q="Sở Xây dựng")
    plan = [
        DemoAccount(
            "tongdai.1022", "Lý Tổng Đài", Role.HOTLINE_OPERATOR, city_code, city_name, None
        ),
        DemoAccount("dieuphoi.1022", "Mai Điều Phối", Role.DISPATCHER, city_code, city_name, None),
        DemoAccount(
            "kiemduyet.1022", "Đặng Kiểm Duyệt", Role.MODERATOR, city_code, city_name, None
        ),
        DemoAccount(
            "phananh.soxaydung",
            "Bùi Đầu Mối (Sở Xây dựng)",
            Role.FEEDBACK_OFFICER,
            works_code,
            works_name,
            None,
        ),
    ]
    for ward, slug in zip(DEMO_WARDS, DEMO_SLUGS, strict=True):
        code, name, unit = _agency(session, kind="ward_committee", q=ward)
        plan.append(
            DemoAccount(
                f"phananh.{slug}",
                f"Trịnh Đầu Mối ({ward})",
                Role.FEEDBACK_OFFICER,
                code,
                name,
                unit,
            )
        )
    return plan


def _accounts_file(settings: Settings) -> Path:
    return settings.data_dir / "demo-accounts.json"


def seed_accounts(session: Session, settings: Settings) -> list[DemoAccount]:
    """Create the demo officials (idempotent). Passwords come from the accounts file; an
    account without a known password gets a new one."""
    from cityhall.identity import service
    from cityhall.identity.schemas import OfficialCreate, RoleGrantIn

    path = _accounts_file(settings)
    known: dict[str, str] = {}
    if path.exists():
        known = {a["username"]: a["password"] for a in json.loads(path.read_text())}
    actor = _seeder()
    result = []
    for account in account_plan(session):
        password = known.get(account.username) or secrets.token_urlsafe(12)
        official_id = service.find_official_id(session, account.username)
        if official_id is None:
            service.create_official(
                session,
                actor=actor,
                data=OfficialCreate(
                    username=account.username,
                    full_name=account.full_name,
                    password=password,
                    roles=[
                        RoleGrantIn(
                            role=Role(account.role),
                            agency_code=account.agency_code,
                            unit_code=account.unit_code,
                        )
                    ],
                ),
            )
        elif account.username not in known:
            service.set_password(session, actor=actor, official_id=official_id, password=password)
        result.append(DemoAccount(**{**asdict(account), "password": password}))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(a) for a in result], ensure_ascii=False, indent=2))
    tmp.chmod(0o600)
    tmp.replace(path)
    return result


DEMO_CITIZENS = (
    ("079090001234", "Nguyễn Văn An", date(1990, 5, 12)),
    ("079185004321", "Trần Thị Bình", date(1985, 11, 3)),
    ("074201007788", "Lê Hoàng Cường", date(2001, 2, 27)),
)


def load_reference(session: Session) -> dict[str, Any]:
    """Reference data every installation needs (not demo data): audit chains, places,
    public holidays, the procedure catalogue. Idempotent and fast on a second run."""
    from cityhall.catalog.service import import_catalog
    from cityhall.core.audit.service import ensure_chains
    from cityhall.core.calendar.service import seed_from_holidays_package
    from cityhall.places.service import load_reference_data

    ensure_chains(session)
    places = load_reference_data(session)
    year = datetime.now(UTC).year
    holidays = seed_from_holidays_package(session, range(year - 2, year + 3))
    catalog = import_catalog(session, actor=_seeder())
    exchange_services = _register_exchange(session)
    feedback_categories = _import_feedback_categories(session)
    return {
        "feedback_categories_changed": feedback_categories,
        "exchange_services": exchange_services,
        "places": places,
        "holidays_changed": holidays,
        "procedures": catalog.procedures,
        "catalog_changed": catalog.changed,
    }


def _register_exchange(session: Session) -> int:
    from cityhall.config import get_settings
    from cityhall.exchange.national import register_platform

    return register_platform(session, actor=_seeder(), settings=get_settings())


def _import_feedback_categories(session: Session) -> int:
    # feedback: the 1022 line's categories (Open311 services) are reference data
    from cityhall.config import get_settings
    from cityhall.feedback.categories import import_categories

    return import_categories(session, actor=_seeder(), settings=get_settings())


def seed_all(settings: Settings, *, demo: bool = True, dossiers: bool = True) -> dict[str, Any]:
    from cityhall.db import default_engine, session_factory, unit_of_work
    from cityhall.identity import service as identity

    with unit_of_work(session_factory(default_engine())) as session:
        summary = load_reference(session)
        if demo:
            summary["accounts"] = len(seed_accounts(session, settings))
            for pin, name, born in DEMO_CITIZENS:
                identity.ensure_citizen(
                    session, actor=_seeder(), pin=pin, full_name=name, birth_date=born
                )
            if dossiers:
                summary["dossiers"] = seed_demo_dossiers(session, settings)
            summary.update(seed_domains(session, settings))
    return summary


def seed_domains(session: Session, settings: Settings) -> dict[str, int]:
    """Each later domain's own demo data, in dependency order."""
    from cityhall.engagement import demo as engagement
    from cityhall.exchange import demo as exchange
    from cityhall.feedback import demo as feedback

    return {
        "exchange": exchange.seed(session, settings),
        "feedback": feedback.seed(session, settings),
        "engagement": engagement.seed(session, settings),
    }


def seed_demo_dossiers(session: Session, settings: Settings) -> int:
    from cityhall.dossiers.demo import seed_dossiers

    wards = []
    for ward, slug in zip(DEMO_WARDS, DEMO_SLUGS, strict=True):
        _, _, unit = _agency(session, kind="ward_committee", q=ward)
        wards.append((unit, slug))
    return seed_dossiers(session, settings, wards)


def _migrate_and_seed(settings: Settings, *, dossiers: bool = True) -> dict[str, Any]:
    from cityhall.db import ensure_database
    from cityhall.migrate import upgrade

    upgrade(ensure_database(settings))
    return seed_all(settings, dossiers=dossiers)


def cmd_seed(args: argparse.Namespace) -> int:
    from cityhall.config import get_settings

    print(json.dumps(_migrate_and_seed(get_settings()), ensure_ascii=False))
    return 0


def cmd_accounts(args: argparse.Namespace) -> int:
    from cityhall.config import get_settings

    settings = get_settings()
    path = _accounts_file(settings)
    if not path.exists():
        _migrate_and_seed(settings, dossiers=False)  # the accounts are enough here
    accounts = json.loads(path.read_text())
    if args.json:
        print(json.dumps(accounts, ensure_ascii=False, indent=2))
    else:
        for a in accounts:
            print(f"{a['username']:<22} {a['password']:<18} {a['role']:<18} {a['agency_name']}")
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    demo = sub.add_parser("demo", help="demo data").add_subparsers(
        dest="demo_command", required=True
    )
    demo.add_parser("seed", help="load the demo data (idempotent)").set_defaults(func=cmd_seed)
    p = demo.add_parser("accounts", help="print the demo accounts and passwords")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_accounts)
