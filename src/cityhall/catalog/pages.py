"""Citizens' pages of the catalogue: the home page with its search, results, a procedure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from cityhall.catalog import queries
from cityhall.catalog.schemas import DocumentSource, Level, OnlineMode, ProcedureQuery
from cityhall.core.i18n import N_
from cityhall.web.auth import PageActor
from cityhall.web.deps import DbSession
from cityhall.web.templating import render

router = APIRouter(include_in_schema=False)

SOURCE_LABELS = {
    DocumentSource.POPULATION.value: N_("Có sẵn trong Cơ sở dữ liệu quốc gia về dân cư"),
    DocumentSource.BUSINESS.value: N_("Có sẵn trong Cơ sở dữ liệu đăng ký doanh nghiệp"),
    DocumentSource.LAND.value: N_("Có sẵn trong Cơ sở dữ liệu đất đai"),
    DocumentSource.STORE.value: N_("Lấy từ kho dữ liệu điện tử của bạn nếu đã được cấp"),
}
ONLINE_LABELS = {
    OnlineMode.END_TO_END.value: N_("Dịch vụ công trực tuyến toàn trình"),
    OnlineMode.PARTIAL.value: N_("Dịch vụ công trực tuyến một phần"),
    OnlineMode.NONE.value: N_("Chưa nộp trực tuyến được: nộp tại Bộ phận Một cửa"),
}
LEVEL_LABELS = {Level.WARD.value: N_("Cấp xã, phường"), Level.CITY.value: N_("Cấp thành phố")}
CHANNEL_LABELS = {
    "online": N_("Trực tuyến"),
    "counter": N_("Trực tiếp tại Bộ phận Một cửa"),
    "post": N_("Qua dịch vụ bưu chính"),
}


def _labels() -> dict[str, dict[str, str]]:
    return {
        "sources": SOURCE_LABELS,
        "online": ONLINE_LABELS,
        "levels": LEVEL_LABELS,
        "channels": CHANNEL_LABELS,
    }


@router.get("/")
def home(request: Request, actor: PageActor, session: DbSession) -> Response:
    fields = [f for f in queries.list_fields(session) if f.procedures]
    return render(request, "home.html", {"actor": actor, "fields": fields})


@router.get("/thu-tuc")
def search(
    request: Request,
    actor: PageActor,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200)] = None,
    field: Annotated[str | None, Query(max_length=40)] = None,
    level: Annotated[str | None, Query(max_length=8)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Works with or without JavaScript; with htmx the results refresh while typing."""
    error = None
    try:
        query = ProcedureQuery.model_validate(
            {
                "q": (q or "").strip() or None,
                "field": field or None,
                "level": level or None,
                "page": page,
                "page_size": 20,
            }
        )
    except ValidationError:
        error = N_("Bộ lọc không hợp lệ; đã hiển thị mọi thủ tục.")
        query = ProcedureQuery(page=1, page_size=20)
    results = queries.search_procedures(session, query)
    fields = [f for f in queries.list_fields(session) if f.procedures]
    pages = max(1, -(-results.total // query.page_size))
    return render(
        request,
        "catalog/search.html",
        {
            "actor": actor,
            "query": query,
            "results": results,
            "fields": fields,
            "pages": pages,
            "error": error,
            "labels": _labels(),
        },
        status_code=200,
    )


@router.get("/thu-tuc/{code}")
def procedure(request: Request, code: str, actor: PageActor, session: DbSession) -> Response:
    detail = queries.get_procedure(session, code[:32])
    return render(
        request,
        "catalog/procedure.html",
        {"actor": actor, "p": detail, "labels": _labels()},
    )
