"""The population registry stand-in (Cơ sở dữ liệu quốc gia về dân cư, mô phỏng):
citizens by personal identification number, and households."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
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
from cityhall.registries.synthetic import Population, digest, dumps

_HOUSEHOLD_ID = re.compile(r"^HK-[0-9]{5}-[0-9]{6}$")


def check_pin(pin: str) -> None:
    """400 for a malformed personal identification number, with the precise reason."""
    error = codes.pin_error(pin)
    if error is not None:
        raise RegistryError(400, "invalid-pin", error, pin=pin[:40], code=pin[:3])


def create_app(population: Population, settings: Settings) -> FastAPI:
    people, households = population.people, population.households
    app = create_base_app(
        registry="population",
        title="Cơ sở dữ liệu quốc gia về dân cư (mô phỏng)",
        description=(
            "Bản mô phỏng với dữ liệu tổng hợp (không phải người thật): công dân theo số định "
            "danh cá nhân, nơi thường trú, nơi ở hiện tại và hộ gia đình. Gọi qua nền tảng "
            "chia sẻ dữ liệu; tiêu đề `X-Exchange-Message-Id` được gửi lại trong trả lời."
        ),
        settings=settings,
        seed=population.seed,
        people=len(people),
        records=lambda: len(people),
        digest=lambda: digest(people.values()),
    )

    def encode_citizen(pin: str) -> bytes | None:
        person = people.get(pin)
        return None if person is None else dumps(person.as_json())

    def encode_household(household_id: str) -> bytes | None:
        household = households.get(household_id)
        return None if household is None else dumps(household.as_json())

    citizens_cache, households_cache = Cache(encode_citizen), Cache(encode_household)

    @app.get(
        "/v1/citizens/{pin}",
        response_model=None,
        responses={200: {"model": schemas.CitizenOut}, **PROBLEM_RESPONSES},
        summary="Thông tin công dân theo số định danh cá nhân",
    )
    async def citizen(pin: str, request: Request) -> Response:
        body = citizens_cache.get(pin)
        if body is None:
            check_pin(pin)
            raise RegistryError(
                404,
                "citizen-not-found",
                N_("Không có công dân nào mang số định danh cá nhân {pin}."),
                pin=pin,
            )
        return json_bytes(body)

    @app.get(
        "/v1/households/{household_id}",
        response_model=None,
        responses={200: {"model": schemas.HouseholdOut}, **PROBLEM_RESPONSES},
        summary="Hộ gia đình: chủ hộ, địa chỉ thường trú và các thành viên",
    )
    async def household(household_id: str, request: Request) -> Response:
        body = households_cache.get(household_id)
        if body is None:
            if not _HOUSEHOLD_ID.match(household_id):
                raise RegistryError(
                    400,
                    "invalid-household-id",
                    N_(
                        "Mã hộ phải có dạng HK-<mã đơn vị 5 chữ số>-<6 chữ số> "
                        "(nhận được: “{household_id}”)."
                    ),
                    household_id=household_id[:40],
                )
            raise RegistryError(
                404,
                "household-not-found",
                N_("Không có hộ gia đình nào mang mã {household_id}."),
                household_id=household_id,
            )
        return json_bytes(body)

    app.state.fast_paths.append(FastPath("/v1/citizens/", "/v1/citizens/{pin}", citizens_cache))
    app.state.fast_paths.append(
        FastPath("/v1/households/", "/v1/households/{household_id}", households_cache)
    )
    return app
