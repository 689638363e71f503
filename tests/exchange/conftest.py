"""Fixtures of the exchange tests: a provider that speaks real HTTP, and a client system.

The provider is the outside world (another agency's information system): a small threaded
HTTP server that answers JSON and remembers what the gateway sent it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityhall.core.actors import system_admin
from cityhall.exchange import service, signing
from cityhall.exchange.client import signed_claims
from cityhall.exchange.schemas import MemberIn, Purpose, RightIn, ServiceIn, SubsystemIn


@dataclass
class Provider:
    url: str
    seen: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
            if self.path.endswith("/slow"):
                time.sleep(1.5)
            payload = json.dumps({"path": self.path, "echo": body.decode()}).encode()
            self.send_response(404 if "missing" in self.path else 200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer  # noqa: N815 (http.server's names)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Provider(f"http://127.0.0.1:{server.server_address[1]}", seen)
    server.shutdown()


CLIENT_ID = "VN/GOV/000.00.05.H29/HTTEST"
SERVICE_ID = "VN/GOV/TESTPROV/SYS/echo"


@dataclass
class Parties:
    key: signing.KeyPair
    right_id: int


def register_parties(session: Session, provider_url: str, *, rate: int = 6000) -> Parties:
    root = system_admin()
    key = signing.KeyPair.generate(CLIENT_ID)
    service.register_member(session, actor=root, data=MemberIn(code="TESTPROV", name="Bộ Thử"))
    service.register_subsystem(
        session,
        actor=root,
        data=SubsystemIn(
            member_code="TESTPROV", code="SYS", name="CSDL thử", base_url=provider_url
        ),
    )
    service.publish_service(
        session,
        actor=root,
        data=ServiceIn(
            member_code="TESTPROV",
            subsystem_code="SYS",
            code="echo",
            name="Dịch vụ thử",
            owner="Cục Thử",
            classification="personal",
            purposes=[
                Purpose(code="administrative_procedure", name="Giải quyết TTHC"),
                Purpose(code="statistics", name="Thống kê"),
            ],
            upstream_path="v1",
            openapi={"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": {}},
        ),
    )
    service.register_member(session, actor=root, data=MemberIn(code="000.00.05.H29", name="Sở Thử"))
    service.register_subsystem(
        session,
        actor=root,
        data=SubsystemIn(
            member_code="000.00.05.H29",
            code="HTTEST",
            name="Hệ thống gọi thử",
            public_jwk=key.public_jwk(),
            rate_per_minute=rate,
        ),
    )
    right = service.grant_right(
        session,
        actor=root,
        data=RightIn(client=CLIENT_ID, service=SERVICE_ID, purposes=["administrative_procedure"]),
    )
    session.commit()
    return Parties(key, right.id)


@pytest.fixture
def parties(session: Session, provider: Provider) -> Parties:
    return register_parties(session, provider.url)


def send(
    client: TestClient,
    key: signing.KeyPair | None,
    path: str = "citizens/079090001234",
    *,
    method: str = "GET",
    body: bytes = b"",
    purpose: str | None = "administrative_procedure",
    subject: str | None = "079090001234",
    issuer: str = CLIENT_ID,
    message_id: str | None = None,
    issued_at: float | None = None,
    target: str = SERVICE_ID,
    tamper_body: bytes | None = None,
) -> Any:
    headers = {}
    if key is not None:
        claims = signed_claims(
            client=issuer,
            method=method,
            target=target,
            path=path,
            body=body,
            purpose=purpose or "",
            subject=subject,
            acting="official:42:Nguyễn Văn Thử",
            message_id=message_id,
            issued_at=issued_at,
        )
        if purpose is None:
            claims.pop("pur")
        headers["x-exchange-request"] = signing.sign(
            signing.KeyPair(key.private, issuer), claims, signing.REQUEST_TYPE
        )
    url = "/exchange/v1/" + target.removeprefix("VN/GOV/") + "/" + path
    return client.request(method, url, content=tamper_body or body or None, headers=headers)
