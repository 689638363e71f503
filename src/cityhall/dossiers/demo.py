"""Demo dossiers for ``make run``: a few hundred, in every state, across several wards and
city departments, driven through the real service functions (so their history, audit and
notifications are what production would write), then spread back in time so that the
inboxes show overdue, due-today and due-soon work."""

from __future__ import annotations

import logging
import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cityhall.catalog import queries as catalog
from cityhall.catalog.schemas import ProcedureQuery
from cityhall.config import Settings
from cityhall.core.actors import Actor, Role
from cityhall.dossiers import service
from cityhall.dossiers.lifecycle import State
from cityhall.dossiers.models import Dossier, DossierEvent
from cityhall.dossiers.schemas import ActionIn, DossierSubmit
from cityhall.errors import DomainError
from cityhall.identity import service as identity

log = logging.getLogger(__name__)

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi")
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Hoàng", "Thanh", "Quốc", "Thu", "Gia", "Bảo")
GIVEN = (
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Khang",
    "Lan",
    "Linh",
    "Mai",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
)
STREETS = (
    "Lê Lợi",
    "Nguyễn Huệ",
    "Đồng Khởi",
    "Hai Bà Trưng",
    "Lý Tự Trọng",
    "Pasteur",
    "Nam Kỳ Khởi Nghĩa",
    "Tôn Đức Thắng",
    "Lê Thánh Tôn",
    "Trần Hưng Đạo",
)

# The state each demo dossier is driven to, and how many of each (per ward).
PLAN: tuple[tuple[State, int], ...] = (
    (State.SUBMITTED, 9),
    (State.INTAKE_SUPPLEMENT, 4),
    (State.NOT_ACCEPTED, 3),
    (State.RECEIVED, 7),
    (State.IN_PROGRESS, 18),
    (State.SUPPLEMENT_REQUESTED, 6),
    (State.PAYMENT_REQUESTED, 3),
    (State.WITHDRAWAL_REQUESTED, 3),
    (State.STOPPED, 3),
    (State.RESOLVED, 9),
    (State.RETURNED, 18),
)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


# Values for the patterns the catalogue's forms use (a generic regex sampler is overkill).
_SAMPLES: dict[str, Any] = {
    "^[0-9]{12}$": lambda rng: "079" + _digits(rng, 9),
    "^[0-9]{10}(-[0-9]{3})?$": lambda rng: "03" + _digits(rng, 8),
    "^0[0-9]{9}$": lambda rng: "09" + _digits(rng, 8),
    "^([0-9]{10}|[0-9]{12})$": lambda rng: "079" + _digits(rng, 9),
    "^[0-9]{6,20}$": lambda rng: _digits(rng, 10),
    "^[0-9]{4}$": lambda rng: str(rng.randint(1990, 2026)),
    "^[A-Z0-9]{6,12}$": lambda rng: "C" + _digits(rng, 7),
    "^[0-3][0-9]/[01][0-9]$": lambda rng: f"{rng.randint(10, 28)}/{rng.randint(10, 12)}",
    "^20[0-9]{2}-20[0-9]{2}$": lambda rng: "2026-2027",
    "^([01][0-9]|2[0-3]):[0-5][0-9]$": lambda rng: f"{rng.randint(10, 16)}:00",
}


def sample_value(name: str, spec: dict[str, Any], rng: random.Random) -> Any:
    """A plausible value for one JSON Schema property (demo forms)."""
    if "enum" in spec:
        return rng.choice(spec["enum"])
    if "const" in spec:
        return spec["const"]
    kind = spec.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind in ("integer", "number"):
        low = spec.get("minimum", spec.get("exclusiveMinimum", 0) + 1)
        high = spec.get("maximum", max(low, 1) * 10)
        return rng.randint(int(low), int(max(low, high)))
    if kind == "boolean":
        return True
    if kind == "array":
        items = spec.get("items", {"type": "string"})
        return [sample_value(name, items, rng) for _ in range(max(1, spec.get("minItems", 1)))]
    if kind == "object":
        return sample_form(spec, rng)
    if spec.get("format") == "date":
        return (date(2026, 11, 1) - timedelta(days=rng.randint(0, 9000))).isoformat()
    if spec.get("format") == "email":
        return "demo@example.vn"
    pattern = spec.get("pattern", "")
    if pattern:
        return _SAMPLES.get(pattern, (lambda _rng: None))(rng)  # unknown: leave it out
    title = spec.get("title", name)
    value = f"{title} (dữ liệu mẫu)"
    return value[: spec.get("maxLength", 200)].ljust(spec.get("minLength", 0), ".")


def sample_form(schema: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    form: dict[str, Any] = {}
    for name, spec in schema.get("properties", {}).items():
        if name in schema.get("required", []) or rng.random() < 0.5:
            value = sample_value(name, spec, rng)
            if value is not None:
                form[name] = value
    return form


def _person(rng: random.Random) -> tuple[str, str]:
    name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    pin = "079" + "".join(rng.choice("0123456789") for _ in range(9))
    return pin, name


def _official(session: Session, username: str) -> Actor:
    official_id = identity.find_official_id(session, username)
    if official_id is None:
        raise LookupError(f"demo official {username} missing: seed accounts first")
    actor = identity.official_as_actor(session, official_id)
    assert actor is not None
    return actor


def _drive(
    session: Session,
    settings: Settings,
    code: str,
    target: State,
    staff: dict[str, Actor],
    owner: Actor,
) -> None:
    def do(action: str, actor: Actor, **data: Any) -> Dossier:
        return service.act(
            session,
            actor=actor,
            code=code,
            action=action,
            data=ActionIn(**data),
            settings=settings,
        )

    if target is State.SUBMITTED:
        return
    if target is State.INTAKE_SUPPLEMENT:
        do("request-supplement", staff["desk"], missing=["Bản chính giấy tờ tùy thân"])
        return
    if target is State.NOT_ACCEPTED:
        do("refuse", staff["desk"], reasons=["Hồ sơ không thuộc thẩm quyền giải quyết"])
        return
    do("accept", staff["desk"])
    if target is State.RECEIVED:
        return
    if target in (State.WITHDRAWAL_REQUESTED, State.STOPPED):
        do("withdraw", owner, note="Tôi không còn nhu cầu")
        if target is State.STOPPED:
            do("stop", staff["desk"], note="Dừng xử lý theo đề nghị của người nộp")
        return
    d = do("assign", staff["head"], handler_id=int(staff["handler"].id or 0))
    if target is State.IN_PROGRESS:
        return
    if target is State.SUPPLEMENT_REQUESTED:
        do("request-supplement", staff["handler"], missing=["Bản sao có chứng thực giấy tờ"])
        return
    if target is State.PAYMENT_REQUESTED:
        do("request-payment", staff["handler"], amount=50_000)
        return
    version = service.version_of(session, d.procedure_version_id)
    while version.steps[d.current_step].role is not Role.APPROVER:
        d = do("forward", staff["handler"], note="Đã thẩm định")
    do("approve", staff["head"], note="Đồng ý")
    if target is State.RETURNED:
        do("return-result", staff["desk"])


def _backdate(session: Session, code: str, days: int) -> None:
    shift = timedelta(days=days)
    d = session.scalars(select(Dossier).where(Dossier.code == code)).one()
    for column in (
        "submitted_at",
        "received_at",
        "due_at",
        "step_due_at",
        "resolved_at",
        "returned_at",
        "closed_at",
        "original_due_at",
        "apologized_at",
    ):
        value = getattr(d, column)
        if value is not None:
            setattr(d, column, value - shift)
    session.execute(
        update(DossierEvent)
        .where(DossierEvent.dossier_id == d.id)
        .values(at=DossierEvent.at - shift, due_at=DossierEvent.due_at - shift)
    )


def seed_dossiers(
    session: Session, settings: Settings, wards: list[tuple[str, str]], *, seed: int = 2026
) -> int:
    """Create the demo dossiers once (nothing if any dossier exists). ``wards``: (unit code,
    account slug) of the wards with demo officials. Returns how many were created."""
    if session.scalar(select(func.count()).select_from(Dossier)):
        return 0
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    ward_procedures = catalog.search_procedures(
        session,
        ProcedureQuery(level="ward", page_size=100),
    ).items
    created = 0
    for unit_code, slug in wards:
        staff = {
            "desk": _official(session, f"tiepnhan.{slug}"),
            "handler": _official(session, f"thuly.{slug}"),
            "head": _official(session, f"lanhdao.{slug}"),
        }
        for target, count in PLAN:
            for _ in range(count):
                for _attempt in range(6):  # a form the sampler cannot fill: another procedure
                    if _one(
                        session,
                        settings,
                        rng,
                        rng.choice(ward_procedures).code,
                        unit_code,
                        target,
                        staff,
                    ):
                        created += 1
                        break
    return created


def _one(
    session: Session,
    settings: Settings,
    rng: random.Random,
    procedure_code: str,
    unit_code: str,
    target: State,
    staff: dict[str, Actor],
) -> bool:
    detail = catalog.get_procedure(session, procedure_code)
    pin, name = _person(rng)
    citizen = identity.ensure_citizen(session, actor=staff["desk"], pin=pin, full_name=name)
    owner = identity.citizen_actor(citizen)
    online = "online" in detail.channels and rng.random() < 0.6
    body = {
        "procedure_code": procedure_code,
        "channel": "online" if online else "counter",
        "applicant": {
            "id_number": pin,
            "full_name": name,
            "phone": "09" + "".join(rng.choice("0123456789") for _ in range(8)),
            "email": None,
            "address": {
                "street": f"{rng.randint(1, 300)} {rng.choice(STREETS)}",
                "unit_code": unit_code,
            },
        },
        "form": sample_form(detail.form_schema, rng),
    }
    try:
        with session.begin_nested():
            submitted = service.submit_dossier(
                session,
                actor=owner if online else staff["desk"],
                data=DossierSubmit.model_validate(body),
                settings=settings,
            )
            code = submitted.dossier.code
            _drive(session, settings, code, target, staff, owner)
            _backdate(session, code, rng.choice((0, 0, 1, 2, 3, 5, 8, 13)))
    except DomainError as exc:
        log.debug("demo dossier for %s skipped: %s %s", procedure_code, exc, exc.errors)
        return False
    return True
