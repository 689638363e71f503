"""The Open311 GeoReport v2 server: every resource in JSON (validated against the GeoReport
v2 schemas in tests/feedback/schemas) and in XML (parsed, with the standard's names)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Role, system_admin
from cityhall.feedback import service
from cityhall.feedback.schemas import Action, ActionIn
from tests.feedback.conftest import POINT_A, WORKS, report

SCHEMAS = Path(__file__).parent / "schemas"
BASE = "/open311/v2"


def parse(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - our own server's output


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMAS / f"{name}.json").read_text()))


def valid(name: str, document: Any) -> Any:
    errors = sorted(validator(name).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    return document


@pytest.fixture
def api_key(session: Session) -> str:
    key = service.create_api_key(session, actor=system_admin(), name="Ứng dụng thử", contact=None)
    session.commit()
    return key


def post(client: TestClient, key: str | None, fmt: str = "json", **fields: Any) -> Any:
    data: dict[str, Any] = {
        "service_code": "flood.street",
        "lat": str(POINT_A[0]),
        "long": str(POINT_A[1]),
        "attribute[depth]": "20_50",
        "description": "Nước ngập ngang bánh xe sau cơn mưa.",
        "email": "nguoidan@example.vn",
        "first_name": "Lan",
        "device_id": "android-123",
    }
    if key is not None:
        data["api_key"] = key
    data.update(fields)
    return client.post(
        f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None}
    )


def test_discovery_services_and_definitions(client: TestClient) -> None:
    valid("discovery", client.get(f"{BASE}/discovery.json").json())
    services = valid("services", client.get(f"{BASE}/services.json").json())
    assert len(services) >= 36
    assert len({s["group"] for s in services}) == 12
    flood = next(s for s in services if s["service_code"] == "flood.street")
    assert flood["metadata"] is True
    assert "ngập" in flood["keywords"]
    definition = valid(
        "service-definition", client.get(f"{BASE}/services/flood.street.json").json()
    )
    depth = definition["attributes"][0]
    assert (depth["code"], depth["datatype"], depth["required"]) == (
        "depth",
        "singlevaluelist",
        True,
    )
    assert [v["key"] for v in depth["values"]] == ["lt20", "20_50", "gt50"]
    root = parse(client.get(f"{BASE}/services/flood.street.xml").content)
    assert root.tag == "service_definition"
    assert root.find("attributes/attribute/values/value/key") is not None
    services_xml = parse(client.get(f"{BASE}/services.xml").content)
    assert services_xml.tag == "services"
    assert services_xml.find("service/service_code") is not None
    disco = parse(client.get(f"{BASE}/discovery.xml").content)
    assert disco.find("endpoints/endpoint/formats/format") is not None


def test_errors_are_the_standard_list(client: TestClient, api_key: str) -> None:
    for path, status in (
        ("/services/no.such.json", 404),
        ("/requests/PA-0000-000000.json", 404),
        ("/tokens/nope.json", 404),
        ("/services.json?jurisdiction_id=hanoi.gov.vn", 404),
        ("/requests.json?status=pending", 400),
        ("/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", 400),
        ("/requests.json?start_date=yesterday", 400),
        ("/requests.json?page_size=5000", 400),
        ("/services.yaml", 404),
    ):
        r = client.get(BASE + path)
        assert r.status_code == status, (path, r.text)
        assert valid("errors", r.json())[0]["code"] == status
    assert post(client, None).status_code == 403
    assert post(client, "wrong-key").status_code == 403
    bad = post(client, api_key, **{"attribute[depth]": "knee"})
    assert bad.status_code == 400
    assert "attributes.depth" in valid("errors", bad.json())[0]["description"]
    assert post(client, api_key, lat="abc").status_code == 400
    assert post(client, api_key, service_code="no.such").status_code == 404
    assert post(client, api_key, lat=None, long=None).status_code == 400
    xml = client.get(f"{BASE}/services/no.such.xml")
    root = parse(xml.content)
    assert (xml.status_code, root.tag, root.findtext("error/code")) == (404, "errors", "404")


def test_post_then_read_back_by_id_and_token(
    client: TestClient, api_key: str, session: Session, settings: Settings
) -> None:
    r = post(client, api_key)
    assert r.status_code == 200, r.text
    created = valid("post-response", r.json())[0]
    pid, token = created["service_request_id"], created["token"]
    # A retry of the same POST gives the same request (no duplicate).
    assert post(client, api_key).json()[0]["service_request_id"] == pid
    assert valid("tokens", client.get(f"{BASE}/tokens/{token}.json").json()) == [
        {"service_request_id": pid, "token": token}
    ]
    one = valid("requests", client.get(f"{BASE}/requests/{pid}.json").json())[0]
    # Not moderated yet: the status, never the text or the place.
    assert one["status"] == "open"
    assert one["description"] is None
    assert one["lat"] is None
    assert one["requested_datetime"].endswith("+07:00")

    assert service.route(session, report_id=report(session, pid).id, settings=settings)
    assert report(session, pid).agency_code == WORKS  # flooding: Sở Xây dựng
    moderator = system_admin()
    from cityhall.identity import service as identity

    def actor(role: Role, agency: str) -> Any:
        from cityhall.identity.schemas import OfficialCreate, RoleGrantIn

        o = identity.create_official(
            session,
            actor=moderator,
            data=OfficialCreate(
                username=f"{role.value}-{agency[-8:-4]}-o311",
                full_name="Cán bộ",
                password="mat-khau-rat-dai-123",
                roles=[RoleGrantIn(role=role, agency_code=agency)],
            ),
        )
        return identity.official_as_actor(session, o.id)

    mod, unit = actor(Role.MODERATOR, "000.00.00.H29"), actor(Role.FEEDBACK_OFFICER, WORKS)
    for who, action, data in (
        (mod, Action.MODERATE, {"approve": True, "public_description": "Đường ngập sau mưa."}),
        (unit, Action.START, {}),
        (unit, Action.RESOLVE, {"note": "Đã nạo vét cống, nước đã rút."}),
    ):
        service.act(
            session,
            actor=who,
            public_id=pid,
            action=action,
            data=ActionIn.model_validate(data),
            settings=settings,
        )
    session.commit()
    one = valid("requests", client.get(f"{BASE}/requests/{pid}.json?extensions=true").json())[0]
    assert one["status"] == "closed"
    assert "Đã nạo vét cống" in one["status_notes"]
    assert one["description"] == "Đường ngập sau mưa."
    assert one["lat"] == POINT_A[0]
    assert one["agency_responsible"] == "Sở Xây dựng"
    assert [n["summary"] for n in one["notes"]][:2] == [
        "Tiếp nhận phản ánh",
        "Chuyển đến đơn vị xử lý",
    ]
    assert one["extended_attributes"]["state"] == "resolved"
    xml = parse(client.get(f"{BASE}/requests/{pid}.xml").content)
    assert xml.tag == "service_requests"
    assert xml.findtext("request/status") == "closed"

    listed = valid("requests", client.get(f"{BASE}/requests.json?status=closed").json())
    assert pid in [x["service_request_id"] for x in listed]
    assert pid not in [
        x["service_request_id"] for x in client.get(f"{BASE}/requests.json?status=open").json()
    ]
    by_id = client.get(f"{BASE}/requests.json?service_request_id={pid},PA-0000-000001").json()
    assert [x["service_request_id"] for x in by_id] == [pid]
    page = client.get(f"{BASE}/requests.json?page=1&page_size=1").json()
    assert len(valid("requests", page)) == 1

    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    updates = client.get(
        f"{BASE}/servicerequestupdates.json", params={"start_date": since, "api_key": api_key}
    )
    mine = [u for u in valid("updates", updates.json()) if u["service_request_id"] == pid]
    assert [u["status"] for u in mine][-2:] == ["IN_PROGRESS", "FIXED"]
    assert (
        client.get(f"{BASE}/servicerequestupdates.xml", params={"start_date": since}).status_code
        == 403
    )
    fms = parse(
        client.get(
            f"{BASE}/servicerequestupdates.xml", params={"start_date": since, "api_key": api_key}
        ).content
    )
    assert fms.tag == "service_requests_updates"
    assert fms.find("request_update/update_id") is not None


def test_multivaluelist_attributes_and_the_duplicate_notice(
    client: TestClient, api_key: str, session: Session, settings: Settings
) -> None:
    fields = {
        "service_code": "tree.danger",
        "attribute[depth]": None,
        "attribute[risk][]": ["leaning", "broken_branch"],
        "description": "Cây me nghiêng ra đường, cành gãy treo lơ lửng.",
    }
    r = client.post(
        f"{BASE}/requests.xml",
        data={
            "api_key": api_key,
            "lat": str(POINT_A[0]),
            "long": str(POINT_A[1]),
            **{k: v for k, v in fields.items() if v is not None},
        },
    )
    assert r.status_code == 200, r.text
    root = parse(r.content)
    pid = root.findtext("request/service_request_id")
    assert pid
    assert root.findtext("request/token")
    assert report(session, pid).attributes == {"risk": ["leaning", "broken_branch"]}
    # Once it is public, the next report of a tree nearby is told about it.
    from cityhall.identity import service as identity
    from cityhall.identity.schemas import OfficialCreate, RoleGrantIn

    mod = identity.create_official(
        session,
        actor=system_admin(),
        data=OfficialCreate(
            username="kiemduyet-o311-b",
            full_name="Kiểm duyệt",
            password="mat-khau-rat-dai-123",
            roles=[RoleGrantIn(role=Role.MODERATOR, agency_code="000.00.00.H29")],
        ),
    )
    service.act(
        session,
        actor=identity.official_as_actor(session, mod.id),  # type: ignore[arg-type]
        public_id=pid,
        action=Action.MODERATE,
        data=ActionIn(approve=True, public_description="Cây nghiêng ra đường."),
        settings=settings,
    )
    session.commit()
    second = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": api_key,
            "service_code": "tree.danger",
            "lat": str(POINT_A[0] + 0.0002),
            "long": str(POINT_A[1]),
            "attribute[risk][]": "leaning",
            "description": "Một cây khác bị nghiêng gần đó.",
        },
    )
    assert pid in valid("post-response", second.json())[0]["service_notice"]
