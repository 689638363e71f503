"""An existing Open311 client library from PyPI drives the server: ``georeport`` (GeoReport
v2 wrapper, Python 3.9+) reads services, definitions and requests in JSON and XML from a real
``cityhall serve``. It cannot create requests (its documentation says so; ``open311`` 1.1 and
``three`` 0.8, which could, are Python 2 only), so the POST is made with httpx, as a client
would send it: form-encoded, ``api_key`` in the query string."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from georeport import GeoReport
from sqlalchemy.orm import Session, sessionmaker

from cityhall.config import get_settings
from cityhall.core.actors import Role, system_admin
from cityhall.feedback import service
from cityhall.feedback.schemas import Action, ActionIn
from cityhall.identity import service as identity
from cityhall.identity.schemas import OfficialCreate, RoleGrantIn
from tests.feedback.conftest import POINT_B


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(fresh_db: str) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "CITYHALL_DATABASE_URL": fresh_db,
        "CITYHALL_PORT": str(port),
        "CITYHALL_BASE_URL": f"http://127.0.0.1:{port}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "cityhall", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "died")
            try:
                if httpx.get(url + "/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _moderate(factory: sessionmaker[Session], public_id: str) -> None:
    with factory() as session:
        official = identity.create_official(
            session,
            actor=system_admin(),
            data=OfficialCreate(
                username="kiemduyet-client",
                full_name="Kiểm duyệt",
                password="mat-khau-rat-dai-123",
                roles=[RoleGrantIn(role=Role.MODERATOR, agency_code="000.00.00.H29")],
            ),
        )
        moderator = identity.official_as_actor(session, official.id)
        assert moderator is not None
        service.act(
            session,
            actor=moderator,
            public_id=public_id,
            action=Action.MODERATE,
            data=ActionIn(approve=True, public_description="Đèn đường không sáng."),
            settings=get_settings(),
        )
        session.commit()


def test_the_georeport_client_reads_what_a_post_created(
    server: str, fresh_factory: sessionmaker[Session]
) -> None:
    with fresh_factory() as session:
        key = service.create_api_key(session, actor=system_admin(), name="georeport", contact=None)
        session.commit()
    endpoint = f"{server}/open311/v2"
    created = httpx.post(
        f"{endpoint}/requests.json",
        params={"api_key": key},
        data={
            "service_code": "light.streetlight",
            "lat": str(POINT_B[0]),
            "long": str(POINT_B[1]),
            "attribute[condition]": "off",
            "attribute[pole_number]": "LL-042",
            "description": "Trụ đèn LL-042 không sáng hai đêm nay.",
        },
    )
    assert created.status_code == 200, created.text
    public_id = created.json()[0]["service_request_id"]
    _moderate(fresh_factory, public_id)

    for fmt in ("json", "xml"):
        client = GeoReport(endpoint, jurisdiction="tphcm.gov.vn", output_format=fmt)
        services = client.get_service_list()
        light = next(s for s in services if s["service_code"] == "light.streetlight")
        assert light["group"] == "Chiếu sáng công cộng"
        definition = client.get_service_definition("light.streetlight")
        attributes = definition["attributes"]
        if fmt == "xml":  # xmltodict: <attributes><attribute>…</attribute></attributes>
            attributes = attributes["attribute"]
        assert {a["code"] for a in attributes} == {"pole_number", "condition"}
        one = client.get_service_request(public_id)
        if fmt == "xml":
            assert one["service_request_id"] == public_id
        assert one["status"] == "open"
        assert one["description"] == "Đèn đường không sáng."
        listed = client.get_service_requests(service_code="light.streetlight", status="open")
        if isinstance(listed, dict):  # xmltodict gives a dict for a single element
            listed = [listed]
        assert public_id in [r["service_request_id"] for r in listed]
