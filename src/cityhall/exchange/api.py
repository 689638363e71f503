"""HTTP routes of the data-sharing platform.

- ``/api/v1/exchange/...``: the public catalogue (no login) and the administrators' writes.
- ``/exchange/v1/...``: the gateway other agencies' systems call with signed requests, and
  the gateway's public keys (JWKS) to verify its signed answers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from cityhall.exchange import gateway, metrics, queries, service
from cityhall.exchange.keys import gateway_key
from cityhall.exchange.schemas import (
    MemberIn,
    Page,
    RightIn,
    RightOut,
    ServiceDetail,
    ServiceIn,
    ServiceOut,
    ServiceQuery,
    StatsRow,
    SubsystemIn,
)
from cityhall.web.auth import CurrentActor
from cityhall.web.deps import AppSettings, DbSession

api = APIRouter(prefix="/api/v1/exchange", tags=["exchange"])
gateway_router = APIRouter(prefix="/exchange/v1", tags=["exchange gateway"])

ServiceId = Annotated[
    str,
    Path(
        max_length=300,
        pattern=r"^VN/GOV/[^/]+/[^/]+/[^/]+$",
        description="VN/GOV/<thành viên>/<hệ thống>/<dịch vụ>",
    ),
]


@api.get("/services", summary="Danh mục dịch vụ chia sẻ dữ liệu (công khai)")
def list_services(query: Annotated[ServiceQuery, Query()], session: DbSession) -> Page[ServiceOut]:
    return queries.search_services(session, query)


@api.get("/services/{service_id:path}/openapi.json", summary="Mô tả OpenAPI của dịch vụ")
def service_openapi(service_id: ServiceId, session: DbSession) -> dict[str, Any]:
    return queries.get_service(session, service_id).openapi


@api.get("/services/{service_id:path}", summary="Một dịch vụ chia sẻ dữ liệu")
def get_service(service_id: ServiceId, session: DbSession) -> ServiceDetail:
    return queries.get_service(session, service_id)


@api.post("/members", status_code=201, summary="Kết nạp thành viên (quản trị nền tảng)")
def add_member(
    data: Annotated[MemberIn, Body()], actor: CurrentActor, session: DbSession
) -> dict[str, str]:
    member = service.register_member(session, actor=actor, data=data)
    return {"code": member.code, "name": member.name}


@api.post("/subsystems", status_code=201, summary="Đăng ký hệ thống thông tin")
def add_subsystem(
    data: Annotated[SubsystemIn, Body()], actor: CurrentActor, session: DbSession
) -> dict[str, Any]:
    row = service.register_subsystem(session, actor=actor, data=data)
    return {"id": row.full_id, "name": row.name, "has_key": row.public_jwk is not None}


@api.post("/services", status_code=201, summary="Công bố dịch vụ chia sẻ dữ liệu")
def add_service(
    data: Annotated[ServiceIn, Body()], actor: CurrentActor, session: DbSession
) -> ServiceDetail:
    service.publish_service(session, actor=actor, data=data)
    full = f"VN/GOV/{data.member_code}/{data.subsystem_code}/{data.code}"
    return queries.get_service(session, full)


@api.get("/rights", summary="Quyền truy cập đang hiệu lực (quản trị nền tảng)")
def list_rights(actor: CurrentActor, session: DbSession) -> list[RightOut]:
    return queries.list_rights(session, actor=actor)


@api.post("/rights", status_code=201, summary="Cấp quyền cho hệ thống gọi một dịch vụ")
def grant(data: Annotated[RightIn, Body()], actor: CurrentActor, session: DbSession) -> RightOut:
    right = service.grant_right(session, actor=actor, data=data)
    return next(r for r in queries.list_rights(session, actor=actor) if r.id == right.id)


@api.delete("/rights/{right_id}", status_code=204, summary="Thu hồi quyền")
def revoke(
    right_id: Annotated[int, Path(ge=1, le=2**31 - 1)], actor: CurrentActor, session: DbSession
) -> Response:
    service.revoke_right(session, actor=actor, right_id=right_id)
    return Response(status_code=204)


@api.get("/monitoring", summary="Giám sát vận hành: lượt gọi, lỗi, độ trễ (24 giờ)")
def monitoring(actor: CurrentActor, session: DbSession) -> list[StatsRow]:
    return queries.stats(session, actor=actor)


@gateway_router.get("/keys", summary="Khóa công khai của cổng (JWKS)")
def keys(settings: AppSettings) -> dict[str, Any]:
    return {"keys": [gateway_key(settings).public_jwk()]}


_MAX_BODY = 1_048_576


async def exchange(
    request: Request, member: str, subsystem: str, service_code: str, path: str
) -> Response:
    body = await request.body()
    target = f"VN/GOV/{member}/{subsystem}/{service_code}"
    query = request.url.query
    req = gateway.GatewayRequest(
        method=request.method,
        target=target,
        path=f"{path}?{query}" if query else path,
        body=body[: _MAX_BODY + 1],
        token=request.headers.get("x-exchange-request"),
        content_type=request.headers.get("content-type"),
    )
    # The gateway is synchronous (database and provider calls): keep it off the event loop.
    answer = await run_in_threadpool(
        gateway.handle, request.app.state.session_factory, request.app.state.settings, req
    )
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


for _method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
    gateway_router.add_api_route(
        "/{member}/{subsystem}/{service_code}/{path:path}",
        exchange,
        methods=[_method],
        operation_id=f"exchange_gateway_{_method.lower()}",
        summary="Cổng trao đổi dữ liệu: yêu cầu có chữ ký (X-Exchange-Request, JWS Ed25519)",
    )

router = APIRouter()
router.include_router(api)
router.include_router(gateway_router)


def install(app: FastAPI) -> None:
    metrics.register(app.state.session_factory)
