"""The business registration stand-in (Cơ sở dữ liệu quốc gia về đăng ký doanh nghiệp, mô
phỏng): enterprises and household businesses by tax code, or by legal representative."""

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
from cityhall.registries.synthetic import Enterprise, Population, digest, dumps


def create_app(
    population: Population, businesses: dict[str, Enterprise], settings: Settings
) -> FastAPI:
    by_representative: dict[str, list[Enterprise]] = {}
    for record in businesses.values():
        by_representative.setdefault(record.representative.pin, []).append(record)
    app = create_base_app(
        registry="business",
        title="Cơ sở dữ liệu quốc gia về đăng ký doanh nghiệp (mô phỏng)",
        description=(
            "Bản mô phỏng với dữ liệu tổng hợp: doanh nghiệp (mã số thuế 10 chữ số có chữ số "
            "kiểm tra) và hộ kinh doanh (mã số thuế là số định danh cá nhân 12 chữ số của "
            "người đại diện), với địa chỉ, người đại diện theo pháp luật, tình trạng pháp lý "
            "và ngành nghề kinh doanh chính (VSIC 2018)."
        ),
        settings=settings,
        seed=population.seed,
        people=len(population.people),
        records=lambda: len(businesses),
        digest=lambda: digest(businesses.values()),
    )

    def encode_enterprise(tax_code: str) -> bytes | None:
        enterprise = businesses.get(tax_code)
        return None if enterprise is None else dumps(enterprise.as_json())

    def encode_list(pin: str) -> bytes:
        items = by_representative.get(pin, [])
        return dumps({"items": [e.as_json() for e in items]})

    enterprises_cache, lists_cache = Cache(encode_enterprise), Cache(encode_list)

    @app.get(
        "/v1/enterprises/{tax_code}",
        response_model=None,
        responses={200: {"model": schemas.EnterpriseOut}, **PROBLEM_RESPONSES},
        summary="Doanh nghiệp hoặc hộ kinh doanh theo mã số thuế",
    )
    async def enterprise(tax_code: str, request: Request) -> Response:
        body = enterprises_cache.get(tax_code)
        if body is None:
            error = codes.tax_code_error(tax_code)
            if error is not None:
                raise RegistryError(
                    400,
                    "invalid-tax-code",
                    error,
                    tax_code=tax_code[:40],
                    pin=tax_code[:40],
                    code=tax_code[:3],
                    expected=codes.expected_check_digit(tax_code),
                )
            raise RegistryError(
                404,
                "enterprise-not-found",
                N_("Không có doanh nghiệp hay hộ kinh doanh nào mang mã số thuế {tax_code}."),
                tax_code=tax_code,
            )
        return json_bytes(body)

    @app.get(
        "/v1/enterprises",
        response_model=None,
        responses={200: {"model": schemas.EnterpriseList}, **PROBLEM_RESPONSES},
        summary="Các doanh nghiệp, hộ kinh doanh mà một người là đại diện theo pháp luật",
    )
    async def enterprises(
        request: Request,
        representative_pin: Annotated[
            str | None,
            Query(
                description="Số định danh cá nhân (12 chữ số) của người đại diện theo pháp luật."
            ),
        ] = None,
    ) -> Response:
        if representative_pin is None:
            raise RegistryError(
                400,
                "missing-parameter",
                N_("Cần tham số representative_pin (số định danh cá nhân của người đại diện)."),
            )
        check_pin(representative_pin)
        return json_bytes(lists_cache.get(representative_pin) or b'{"items":[]}')

    app.state.fast_paths.append(
        FastPath("/v1/enterprises/", "/v1/enterprises/{tax_code}", enterprises_cache)
    )
    return app
