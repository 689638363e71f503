"""The land registry stand-in (Cơ sở dữ liệu đất đai, mô phỏng): parcels by id (unit, map
sheet, parcel number), or by owner."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from cityhall.config import Settings
from cityhall.core.i18n import N_
from cityhall.registries import codes, schemas
from cityhall.registries.http import (
    PROBLEM_RESPONSES,
    Cache,
    FastPath,
    RegistryError,
    create_base_app,
    json_bytes,
)
from cityhall.registries.population import check_pin
from cityhall.registries.synthetic import Parcel, Population, digest, dumps, units


def create_app(population: Population, parcels: dict[str, Parcel], settings: Settings) -> FastAPI:
    by_owner: dict[str, list[Parcel]] = {}
    for record in parcels.values():
        for owner in record.owners:
            by_owner.setdefault(owner.person.pin, []).append(record)
    unit_codes = {u.code for u in units()}
    app = create_base_app(
        registry="land",
        title="Cơ sở dữ liệu đất đai (mô phỏng)",
        description=(
            "Bản mô phỏng với dữ liệu tổng hợp: thửa đất theo đơn vị hành chính, số tờ bản đồ "
            "và số thửa, với địa chỉ, diện tích, mục đích sử dụng (ký hiệu ODT, ONT, CLN, LUC, "
            "TMD, SKC…), người sử dụng đất và số Giấy chứng nhận."
        ),
        settings=settings,
        seed=population.seed,
        people=len(population.people),
        records=lambda: len(parcels),
        digest=lambda: digest(parcels.values()),
    )

    def encode_parcel(parcel_id: str) -> bytes | None:
        parcel = parcels.get(parcel_id)
        return None if parcel is None else dumps(parcel.as_json())

    def encode_list(pin: str) -> bytes:
        return dumps({"items": [p.as_json() for p in by_owner.get(pin, [])]})

    parcels_cache, lists_cache = Cache(encode_parcel), Cache(encode_list)

    @app.get(
        "/v1/parcels/{parcel_id}",
        response_model=None,
        responses={200: {"model": schemas.ParcelOut}, **PROBLEM_RESPONSES},
        summary="Thửa đất theo mã <mã đơn vị>-<số tờ>-<số thửa>",
    )
    async def parcel(parcel_id: str, request: Request) -> Response:
        body = parcels_cache.get(parcel_id)
        if body is None:
            parsed = codes.parse_parcel_id(parcel_id)
            if parsed is None:
                raise RegistryError(
                    400,
                    "invalid-parcel-id",
                    N_(
                        "Mã thửa đất phải có dạng <mã đơn vị 5 chữ số>-<số tờ bản đồ>-<số thửa>, "
                        "ví dụ 26740-12-345 (nhận được: “{parcel_id}”)."
                    ),
                    parcel_id=parcel_id[:40],
                )
            if parsed[0] not in unit_codes:
                raise RegistryError(
                    404,
                    "unit-not-found",
                    N_("{unit_code} không phải mã một phường, xã, đặc khu của Thành phố."),
                    unit_code=parsed[0],
                )
            raise RegistryError(
                404,
                "parcel-not-found",
                N_("Không có thửa đất số {number}, tờ bản đồ số {sheet} tại {unit_code}."),
                number=str(parsed[2]),
                sheet=str(parsed[1]),
                unit_code=parsed[0],
            )
        return json_bytes(body)

    @app.get(
        "/v1/parcels",
        response_model=None,
        responses={200: {"model": schemas.ParcelList}, **PROBLEM_RESPONSES},
        summary="Các thửa đất của một người sử dụng đất",
    )
    async def parcels_of(
        request: Request,
        owner_pin: Annotated[
            str | None, Query(description="Số định danh cá nhân (12 chữ số) của người sử dụng đất.")
        ] = None,
    ) -> Response:
        if owner_pin is None:
            raise RegistryError(
                400,
                "missing-parameter",
                N_("Cần tham số owner_pin (số định danh cá nhân của người sử dụng đất)."),
            )
        check_pin(owner_pin)
        return json_bytes(lists_cache.get(owner_pin) or b'{"items":[]}')

    app.state.fast_paths.append(FastPath("/v1/parcels/", "/v1/parcels/{parcel_id}", parcels_cache))
    return app
