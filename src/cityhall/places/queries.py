"""Read models: search and look up units, former units and agencies (public reference data).

Search compares ``lower(f_unaccent(text))`` on both sides, so "ben thanh" finds
"Phường Bến Thành", and uses pg_trgm word similarity so "ben tanh" does too. Both the
substring test (LIKE) and the similarity operator are served by the trigram GIN indexes.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Select, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from cityhall.core.search import TextSearch as _Search
from cityhall.core.search import norm as _norm
from cityhall.core.search import use_similarity_threshold as _use_similarity_threshold
from cityhall.core.search import words as _words
from cityhall.errors import NotFound
from cityhall.places.models import AdminUnit, Agency, FormerUnit, UnitSuccession
from cityhall.places.schemas import (
    AgencyOut,
    AgencyQuery,
    FormerUnitOut,
    FormerUnitRef,
    HistoryQuery,
    Page,
    SuccessorRef,
    UnitDetail,
    UnitOut,
    UnitQuery,
)


def _page(
    session: Session, stmt: Select[Any], order: list[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.scalars(stmt.order_by(*order).limit(limit).offset(offset)).all()
    return list(rows), int(total or 0)


# --- current units --------------------------------------------------------------------------


def search_units(session: Session, query: UnitQuery) -> Page[UnitOut]:
    stmt = select(AdminUnit)
    order: list[Any] = []
    if query.kind is not None:
        stmt = stmt.where(AdminUnit.kind == query.kind.value)
    if query.q and _words(query.q):
        search = _Search(query.q, AdminUnit.search_text, AdminUnit.short_name)
        _use_similarity_threshold(session)
        stmt = stmt.where(or_(search.condition(), AdminUnit.code == query.q.strip()))
        order = search.order()
    order += [AdminUnit.level, AdminUnit.code]
    rows, total = _page(session, stmt, order, query.limit, query.offset)
    return Page[UnitOut](
        items=[UnitOut.model_validate(r) for r in rows],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


def get_unit(session: Session, code: str) -> UnitDetail:
    unit = session.get(AdminUnit, code)
    if unit is None:
        raise NotFound("Không tìm thấy đơn vị hành chính có mã {code}.", code=code)
    former = session.execute(
        select(FormerUnit, UnitSuccession.is_main, UnitSuccession.whole)
        .join(UnitSuccession, UnitSuccession.former_code == FormerUnit.code)
        .where(UnitSuccession.unit_code == code)
        .order_by(FormerUnit.level.desc(), FormerUnit.province_code.desc(), FormerUnit.code)
    ).all()
    refs = [
        FormerUnitRef(
            code=f.code,
            level=f.level,
            kind=f.kind,
            name=f.name,
            full_name=f.full_name,
            is_main=is_main,
            whole=whole,
        )
        for f, is_main, whole in former
    ]
    return UnitDetail(**UnitOut.model_validate(unit).model_dump(), former_units=refs)


# --- former units -----------------------------------------------------------------------------


def _successors(session: Session, codes: list[str]) -> dict[str, list[SuccessorRef]]:
    rows = session.execute(
        select(UnitSuccession, AdminUnit.kind, AdminUnit.name)
        .join(AdminUnit, AdminUnit.code == UnitSuccession.unit_code)
        .where(UnitSuccession.former_code.in_(codes))
        .order_by(UnitSuccession.is_main.desc(), AdminUnit.code)
    ).all()
    out: dict[str, list[SuccessorRef]] = {c: [] for c in codes}
    for s, kind, name in rows:
        out[s.former_code].append(
            SuccessorRef(code=s.unit_code, kind=kind, name=name, is_main=s.is_main, whole=s.whole)
        )
    return out


def _former_out(units: list[FormerUnit], session: Session) -> list[FormerUnitOut]:
    successors = _successors(session, [u.code for u in units])
    return [
        FormerUnitOut(
            code=u.code,
            level=u.level,
            kind=u.kind,
            division_type=u.division_type,
            name=u.name,
            short_name=u.short_name,
            full_name=u.full_name,
            province_code=u.province_code,
            parent_code=u.parent_code,
            successors=successors[u.code],
        )
        for u in units
    ]


def resolve_former(session: Session, query: HistoryQuery) -> Page[FormerUnitOut]:
    """Find former units by name, optionally followed by the district and province
    ("Phường Bến Nghé, Quận 1"), each with the current unit(s) it went into; best first."""
    parts = [_words(p) for p in query.q.split(",")]
    parts = [p for p in parts if p]
    if not parts:
        return Page[FormerUnitOut](items=[], total=0, limit=query.limit, offset=query.offset)
    search = _Search(" ".join(parts), FormerUnit.search_text)
    first = _Search(parts[0], FormerUnit.search_text, FormerUnit.name, FormerUnit.short_name)
    _use_similarity_threshold(session)
    # full_name starts with the name, so a match of the first part is a substring of
    # search_text too: both conditions are served by the trigram index.
    stmt = select(FormerUnit).where(
        or_(search.condition(), FormerUnit.search_text.like(first.pattern, escape="\\"))
    )
    name_match = or_(_norm(FormerUnit.name) == first.qn, _norm(FormerUnit.short_name) == first.qn)
    order: list[Any] = [case((name_match, 0), else_=1)]
    if len(parts) > 1:
        parent = aliased(FormerUnit)
        second = _norm(literal(parts[1]))
        stmt = stmt.outerjoin(parent, parent.code == FormerUnit.parent_code)
        parent_match = or_(_norm(parent.name) == second, _norm(parent.short_name) == second)
        order.append(case((parent_match, 0), else_=1))
    order += [
        func.word_similarity(search.qn, FormerUnit.search_text).desc(),
        FormerUnit.level.desc(),
        FormerUnit.code,
    ]
    rows, total = _page(session, stmt, order, query.limit, query.offset)
    return Page[FormerUnitOut](
        items=_former_out(rows, session), total=total, limit=query.limit, offset=query.offset
    )


def get_former_unit(session: Session, code: str) -> FormerUnitOut:
    unit = session.get(FormerUnit, code)
    if unit is None:
        raise NotFound("Không tìm thấy đơn vị hành chính cũ có mã {code}.", code=code)
    return _former_out([unit], session)[0]


# --- agencies ---------------------------------------------------------------------------------


def search_agencies(session: Session, query: AgencyQuery) -> Page[AgencyOut]:
    stmt = select(Agency)
    order: list[Any] = []
    if query.kind is not None:
        stmt = stmt.where(Agency.kind == query.kind.value)
    if query.level is not None:
        stmt = stmt.where(Agency.level == query.level.value)
    if query.unit_code is not None:
        stmt = stmt.where(Agency.unit_code == query.unit_code)
    if query.q and _words(query.q):
        search = _Search(query.q, Agency.search_text, Agency.short_name)
        _use_similarity_threshold(session)
        stmt = stmt.where(or_(search.condition(), Agency.code == query.q.strip()))
        order = search.order()
    order.append(Agency.code)
    rows, total = _page(session, stmt, order, query.limit, query.offset)
    return Page[AgencyOut](
        items=[AgencyOut.model_validate(r) for r in rows],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


def get_agency(session: Session, code: str) -> AgencyOut:
    agency = session.get(Agency, code)
    if agency is None:
        raise NotFound("Không tìm thấy cơ quan có mã {code}.", code=code)
    return AgencyOut.model_validate(agency)


# Agencies are reference data, changed by `cityhall places import` a few times a year and
# never deleted: the dossier paths (which name agencies on every response and message) keep
# them a few minutes per process instead of asking the database each time.
AGENCY_CACHE_SECONDS = 300.0
_AGENCIES: dict[str, tuple[float, AgencyOut]] = {}
_WARD_AGENCIES: dict[str, tuple[float, AgencyOut]] = {}


def _fresh(cache: dict[str, tuple[float, AgencyOut]], key: str) -> AgencyOut | None:
    hit = cache.get(key)
    if hit is None or hit[0] < time.monotonic():
        return None
    return hit[1]


def _remember(cache: dict[str, tuple[float, AgencyOut]], key: str, agency: AgencyOut) -> None:
    if len(cache) > 4096:
        cache.clear()
    cache[key] = (time.monotonic() + AGENCY_CACHE_SECONDS, agency)


def agencies_by_code(session: Session, codes: list[str]) -> dict[str, AgencyOut]:
    """The agencies among ``codes`` that exist (unknown codes are simply absent)."""
    found: dict[str, AgencyOut] = {}
    missing = []
    for code in set(codes):
        agency = _fresh(_AGENCIES, code)
        if agency is None:
            missing.append(code)
        else:
            found[code] = agency
    if missing:
        rows = session.scalars(select(Agency).where(Agency.code.in_(sorted(missing)))).all()
        for row in rows:
            found[row.code] = AgencyOut.model_validate(row)
            _remember(_AGENCIES, row.code, found[row.code])
    return found


def ward_agency(session: Session, unit_code: str) -> AgencyOut:
    """The People's Committee of a current ward, commune or special zone."""
    cached = _fresh(_WARD_AGENCIES, unit_code)
    if cached is not None:
        return cached
    agency = session.scalars(
        select(Agency).where(Agency.kind == "ward_committee", Agency.unit_code == unit_code)
    ).first()
    if agency is None:
        raise NotFound(
            "Không có phường, xã hoặc đặc khu hiện hành nào mang mã {code}.", code=unit_code
        )
    out = AgencyOut.model_validate(agency)
    _remember(_WARD_AGENCIES, unit_code, out)
    return out


def unit_exists(session: Session, code: str) -> bool:
    return session.scalar(select(AdminUnit.code).where(AdminUnit.code == code)) is not None
