"""The exchange's reference setup: the platform itself, the national databases as members
with their services, and the one-stop system's rights to them (``data/national.yaml``).

Run by ``cityhall setup`` on every installation; the providers' base URLs come from the
settings, so production points the same services at the real national endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Actor
from cityhall.exchange import service
from cityhall.exchange.keys import ONE_STOP_ID, ONE_STOP_SUBSYSTEM, PLATFORM_MEMBER, own_client_key
from cityhall.exchange.models import ExchangeRight, ExchangeService
from cityhall.exchange.schemas import (
    MemberIn,
    Purpose,
    RightIn,
    ServiceIn,
    SubsystemIn,
)

DATA = Path(__file__).with_name("data") / "national.yaml"


@dataclass(frozen=True)
class Registry:
    """One national database as the platform's callers know it."""

    name: str  # "population", "business", "land"
    service_id: str  # VN/GOV/<member>/<subsystem>/<service>
    title: str  # the database's Vietnamese name


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return loaded


def purposes() -> dict[str, dict[str, str]]:
    return {k: {"code": k, **v} for k, v in _data()["purposes"].items()}


def registries() -> dict[str, Registry]:
    found: dict[str, Registry] = {}
    for member in _data()["members"]:
        for sub in member["subsystems"]:
            for svc in sub["services"]:
                found[svc["registry"]] = Registry(
                    svc["registry"],
                    f"VN/GOV/{member['code']}/{sub['code']}/{svc['code']}",
                    sub["name"],
                )
    return found


def openapi_for(name: str, description: str, paths: list[str]) -> dict[str, Any]:
    """An OpenAPI 3.1 description of a read-only JSON service with these paths."""
    spec_paths: dict[str, Any] = {}
    for path in paths:
        params = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in (part[1:-1] for part in path.split("/") if part.startswith("{"))
        ]
        spec_paths[path] = {
            "get": {
                "summary": name,
                "parameters": params,
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {}}},
                    "404": {
                        "description": "Không có dữ liệu",
                        "content": {"application/problem+json": {}},
                    },
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": name, "version": "1", "description": description},
        "paths": spec_paths,
    }


def register_platform(session: Session, *, actor: Actor, settings: Settings) -> int:
    """Idempotent; returns the number of services published."""
    known = purposes()
    service.register_member(
        session,
        actor=actor,
        data=MemberIn(code=PLATFORM_MEMBER, name="Ủy ban nhân dân Thành phố Hồ Chí Minh"),
    )
    service.register_subsystem(
        session,
        actor=actor,
        data=SubsystemIn(
            member_code=PLATFORM_MEMBER,
            code=ONE_STOP_SUBSYSTEM,
            name="Hệ thống thông tin giải quyết thủ tục hành chính Thành phố",
            public_jwk=own_client_key(settings, ONE_STOP_ID).public_jwk(),
        ),
    )
    count = 0
    for member in _data()["members"]:
        service.register_member(
            session, actor=actor, data=MemberIn(code=member["code"], name=member["name"])
        )
        for sub in member["subsystems"]:
            service.register_subsystem(
                session,
                actor=actor,
                data=SubsystemIn(
                    member_code=member["code"],
                    code=sub["code"],
                    name=sub["name"],
                    base_url=getattr(settings, sub["url_setting"]),
                ),
            )
            for svc in sub["services"]:
                row = service.publish_service(
                    session,
                    actor=actor,
                    data=ServiceIn(
                        member_code=member["code"],
                        subsystem_code=sub["code"],
                        code=svc["code"],
                        name=svc["name"],
                        description=svc["description"],
                        owner=svc["owner"],
                        classification=svc["classification"],
                        purposes=[Purpose(**known[p]) for p in svc["purposes"]],
                        upstream_path=svc["upstream_path"],
                        openapi=openapi_for(svc["name"], svc["description"], svc["paths"]),
                    ),
                )
                count += 1
                _grant_once(session, actor, row, f"VN/GOV/{member['code']}/{sub['code']}")
    return count


def _grant_once(session: Session, actor: Actor, row: ExchangeService, provider: str) -> None:
    # Only ever once: a right an administrator revoked stays revoked across setups.
    client = service.subsystem_by_id(session, ONE_STOP_ID)
    exists = session.scalars(
        select(ExchangeRight.id).where(
            ExchangeRight.client_id == client.id,
            ExchangeRight.service_id == row.id,
        )
    ).first()
    if exists is None:
        service.grant_right(
            session,
            actor=actor,
            data=RightIn(client=ONE_STOP_ID, service=f"{provider}/{row.code}", purposes=None),
        )
