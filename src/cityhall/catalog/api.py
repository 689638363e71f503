"""HTTP routes of the public procedure catalogue (no login)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from cityhall.catalog import queries
from cityhall.catalog.schemas import FieldOut, ProcedureDetail, ProcedurePage, ProcedureQuery
from cityhall.web.deps import DbSession

router = APIRouter(prefix="/api/v1", tags=["catalog"])

# The catalogue changes when an administrator imports it: a short public cache.
_CACHE = "public, max-age=300"

ProcedureCode = Annotated[
    str, Path(max_length=32, description="Mã thủ tục quốc gia, ví dụ 1.001193.")
]


@router.get("/procedures", summary="Tìm thủ tục hành chính")
def list_procedures(
    query: Annotated[ProcedureQuery, Query()], session: DbSession, response: Response
) -> ProcedurePage:
    """Procedures in force today; `q` with or without diacritics, small typos forgiven."""
    response.headers["Cache-Control"] = _CACHE
    return queries.search_procedures(session, query)


@router.get("/procedures/{code}", summary="Một thủ tục: hồ sơ cần chuẩn bị, phí, thời hạn")
def get_procedure(code: ProcedureCode, session: DbSession, response: Response) -> ProcedureDetail:
    response.headers["Cache-Control"] = _CACHE
    return queries.get_procedure(session, code)


@router.get("/procedure-fields", summary="Lĩnh vực thủ tục")
def list_fields(session: DbSession, response: Response) -> list[FieldOut]:
    response.headers["Cache-Control"] = _CACHE
    return queries.list_fields(session)
