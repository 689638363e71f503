"""Read models of the catalogue: search, a procedure's detail, the version in force."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from cityhall.catalog.models import Procedure, ProcedureField, ProcedureVersion
from cityhall.catalog.schemas import (
    FieldOut,
    ProcedureDetail,
    ProcedureOut,
    ProcedurePage,
    ProcedureQuery,
    TimeLimitOut,
    Version,
    VersionRef,
    VersionRow,
)
from cityhall.core.calendar.rules import TimeUnit
from cityhall.core.search import TextSearch, norm, use_similarity_threshold, words
from cityhall.errors import NotFound
from cityhall.places import queries as places

_UNIT_TEXT = {
    TimeUnit.WORKING_DAYS: "ngày làm việc",
    TimeUnit.WORKING_HOURS: "giờ làm việc",
    TimeUnit.CALENDAR_DAYS: "ngày",
}


def time_limit_text(value: Decimal, unit: TimeUnit) -> str:
    amount = format(value.normalize(), "f").replace(".", ",")
    return f"{amount} {_UNIT_TEXT[unit]}"


def _in_force(day: date) -> Any:
    return and_(
        ProcedureVersion.superseded_at.is_(None),
        ProcedureVersion.suspended_at.is_(None),
        ProcedureVersion.valid_from <= day,
        or_(ProcedureVersion.valid_to.is_(None), ProcedureVersion.valid_to >= day),
    )


def _out(p: Procedure, field_name: str, v: ProcedureVersion) -> ProcedureOut:
    unit = TimeUnit(v.time_limit_unit)
    value = Decimal(v.time_limit_value)
    return ProcedureOut(
        code=p.code,
        name=p.name,
        field=p.field_code,
        field_name=field_name,
        level=p.level,
        agency_code=p.agency_code,
        time_limit=TimeLimitOut(value=float(value), unit=unit, text=time_limit_text(value, unit)),
        online_mode=v.online_mode,
    )


def search_procedures(
    session: Session, query: ProcedureQuery, *, today: date | None = None
) -> ProcedurePage:
    """Procedures with a version in force ``today``; ranked by relevance when ``q`` is
    given (exact name, name containing the words, keywords containing them, similarity),
    else by name."""
    day = today or date.today()  # noqa: DTZ011 - the catalogue's dates are local dates
    stmt = (
        select(Procedure, ProcedureField.name, ProcedureVersion)
        .join(ProcedureField, ProcedureField.code == Procedure.field_code)
        .join(
            ProcedureVersion,
            and_(ProcedureVersion.procedure_code == Procedure.code, _in_force(day)),
        )
    )
    if query.field:
        stmt = stmt.where(Procedure.field_code == query.field)
    if query.level:
        stmt = stmt.where(Procedure.level == query.level.value)
    order: list[Any] = []
    if query.q and words(query.q):
        search = TextSearch(query.q, Procedure.search_text, Procedure.name)
        use_similarity_threshold(session)
        name_norm = norm(Procedure.name)
        stmt = stmt.where(search.condition())
        order = [
            case(
                (name_norm == search.qn, 0),
                (name_norm.like(search.pattern, escape="\\"), 1),
                (Procedure.search_text.like(search.pattern, escape="\\"), 2),
                else_=3,
            ),
            func.word_similarity(search.qn, name_norm).desc(),
            func.word_similarity(search.qn, Procedure.search_text).desc(),
            func.length(Procedure.name),
        ]
    order += [Procedure.name, Procedure.code]
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.execute(
        stmt.order_by(*order).limit(query.page_size).offset((query.page - 1) * query.page_size)
    ).all()
    return ProcedurePage(
        items=[_out(p, field_name, v) for p, field_name, v in rows],
        total=int(total or 0),
        page=query.page,
        page_size=query.page_size,
    )


def _version_row(session: Session, code: str, day: date) -> ProcedureVersion:
    row = session.scalars(
        select(ProcedureVersion)
        .where(ProcedureVersion.procedure_code == code, _in_force(day))
        .order_by(ProcedureVersion.valid_from.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(
            "Không có thủ tục mã {code} đang có hiệu lực vào ngày {day}.",
            code=code,
            day=day.strftime("%d/%m/%Y"),
        )
    return row


def get_procedure(session: Session, code: str, *, day: date | None = None) -> ProcedureDetail:
    """Everything a citizen needs to prepare, from the version in force on ``day``."""
    day = day or date.today()  # noqa: DTZ011
    found = session.execute(
        select(Procedure, ProcedureField.name)
        .join(ProcedureField, ProcedureField.code == Procedure.field_code)
        .where(Procedure.code == code)
    ).first()
    if found is None:
        raise NotFound("Không tìm thấy thủ tục mã {code}.", code=code)
    procedure, field_name = found
    return _detail(session, procedure, field_name, _version_row(session, code, day))


def _detail(
    session: Session, procedure: Procedure, field_name: str, row: ProcedureVersion
) -> ProcedureDetail:
    version = Version.model_validate(row.content)
    versions = session.execute(
        select(ProcedureVersion.id, ProcedureVersion.valid_from, ProcedureVersion.valid_to)
        .where(
            ProcedureVersion.procedure_code == procedure.code,
            ProcedureVersion.superseded_at.is_(None),
        )
        .order_by(ProcedureVersion.valid_from)
    ).all()
    agency_name = None
    if procedure.agency_code:
        agency = places.agencies_by_code(session, [procedure.agency_code]).get(
            procedure.agency_code
        )
        agency_name = agency.name if agency else None
    base = _out(procedure, field_name, row)
    return ProcedureDetail(
        **base.model_dump(),
        version=VersionRef(id=row.id, valid_from=row.valid_from, valid_to=row.valid_to),
        versions=[VersionRef(id=i, valid_from=f, valid_to=t) for i, f, t in versions],
        agency_name=agency_name,
        legal_basis=version.legal_basis,
        fees=version.fees,
        channels=version.channels,
        partial_reason=version.partial_reason,
        supplement_clock=version.supplement_clock,
        result=version.result,
        documents=version.documents,
        form_schema=version.form_schema,
        steps=version.steps,
        inter_agency=version.inter_agency,
        keywords=[k for k in procedure.keywords.split(" | ") if k],
    )


def get_version(session: Session, version_id: int) -> ProcedureDetail:
    """A version by id, superseded or not: what a dossier was received under."""
    found = session.execute(
        select(Procedure, ProcedureField.name, ProcedureVersion)
        .join(ProcedureField, ProcedureField.code == Procedure.field_code)
        .join(ProcedureVersion, ProcedureVersion.procedure_code == Procedure.code)
        .where(ProcedureVersion.id == version_id)
    ).first()
    if found is None:
        raise NotFound("Không tìm thấy phiên bản thủ tục {id}.", id=version_id)
    procedure, field_name, row = found
    return _detail(session, procedure, field_name, row)


def list_fields(session: Session) -> list[FieldOut]:
    rows = session.execute(
        select(ProcedureField, func.count(Procedure.code))
        .outerjoin(Procedure, Procedure.field_code == ProcedureField.code)
        .group_by(ProcedureField.code)
        .order_by(ProcedureField.name)
    ).all()
    return [
        FieldOut(code=f.code, name=f.name, name_en=f.name_en, procedures=int(n)) for f, n in rows
    ]


def search_version_id(session: Session, code: str, day: date) -> int:
    """The id of ``code``'s version in force on ``day`` (what a dossier received then keeps)."""
    found = session.scalar(
        select(ProcedureVersion.id)
        .where(ProcedureVersion.procedure_code == code, _in_force(day))
        .order_by(ProcedureVersion.valid_from.desc())
        .limit(1)
    )
    if found is None:
        raise NotFound(
            "Không có thủ tục mã {code} đang có hiệu lực vào ngày {day}.",
            code=code,
            day=day.strftime("%d/%m/%Y"),
        )
    return int(found)


def list_versions(session: Session) -> list[VersionRow]:
    """Every stored version, superseded and suspended ones included, by procedure name."""
    rows = session.execute(
        select(
            Procedure.code.label("procedure_code"),
            Procedure.name.label("procedure_name"),
            ProcedureVersion.id,
            ProcedureVersion.valid_from,
            ProcedureVersion.valid_to,
            ProcedureVersion.imported_at,
            ProcedureVersion.superseded_at,
            ProcedureVersion.suspended_at,
        )
        .join(ProcedureVersion, ProcedureVersion.procedure_code == Procedure.code)
        .order_by(Procedure.name, ProcedureVersion.valid_from, ProcedureVersion.id)
    ).all()
    return [VersionRow.model_validate(dict(row._mapping)) for row in rows]
