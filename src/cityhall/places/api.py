"""HTTP routes: public reference data (no login) under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from cityhall.places import queries
from cityhall.places.schemas import (
    AgencyOut,
    AgencyQuery,
    FormerUnitOut,
    HistoryQuery,
    Page,
    UnitDetail,
    UnitOut,
    UnitQuery,
)
from cityhall.web.deps import DbSession

router = APIRouter(prefix="/api/v1", tags=["places"])

# Reference data changes a few times a year: let browsers and proxies keep it a while.
_CACHE = "public, max-age=3600"

UnitCode = Annotated[str, Path(max_length=64, description="Mã đơn vị hành chính.")]
AgencyCode = Annotated[str, Path(max_length=64, description="Mã cơ quan, ví dụ 000.00.01.H29.")]


@router.get("/units", summary="Đơn vị hành chính hiện hành")
def list_units(
    query: Annotated[UnitQuery, Query()], session: DbSession, response: Response
) -> Page[UnitOut]:
    """The city and its 168 wards, communes and special zone; search by name with or
    without diacritics."""
    response.headers["Cache-Control"] = _CACHE
    return queries.search_units(session, query)


@router.get("/units/history", summary="Tra cứu đơn vị hành chính cũ (trước 1/7/2025)")
def list_former_units(
    query: Annotated[HistoryQuery, Query()], session: DbSession, response: Response
) -> Page[FormerUnitOut]:
    """Resolve a former unit ("Phường Bến Nghé, Quận 1") to the current unit(s)."""
    response.headers["Cache-Control"] = _CACHE
    return queries.resolve_former(session, query)


@router.get("/units/history/{code}", summary="Một đơn vị hành chính cũ")
def get_former_unit(code: UnitCode, session: DbSession, response: Response) -> FormerUnitOut:
    response.headers["Cache-Control"] = _CACHE
    return queries.get_former_unit(session, code)


@router.get("/units/{code}", summary="Một đơn vị hành chính hiện hành")
def get_unit(code: UnitCode, session: DbSession, response: Response) -> UnitDetail:
    """The unit, with the former units that went (wholly or partly) into it."""
    response.headers["Cache-Control"] = _CACHE
    return queries.get_unit(session, code)


@router.get("/agencies", summary="Cơ quan, đơn vị")
def list_agencies(
    query: Annotated[AgencyQuery, Query()], session: DbSession, response: Response
) -> Page[AgencyOut]:
    response.headers["Cache-Control"] = _CACHE
    return queries.search_agencies(session, query)


@router.get("/agencies/{code}", summary="Một cơ quan, đơn vị")
def get_agency(code: AgencyCode, session: DbSession, response: Response) -> AgencyOut:
    response.headers["Cache-Control"] = _CACHE
    return queries.get_agency(session, code)
