"""How the platform's own systems call a service through the exchange.

The client signs each request with its subsystem's key, then either hands it to the gateway
in this process (the default: same checks, same log, no extra hop) or sends it over HTTP to
the gateway named by ``CITYHALL_EXCHANGE_GATEWAY_URL`` (a separate security server).
Either way the provider is reached only through the gateway.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy.orm import Session, sessionmaker

from cityhall.config import Settings
from cityhall.exchange import gateway, signing
from cityhall.exchange.keys import ONE_STOP_ID, own_client_key


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    message_id: str
    signature: str | None
    refusal: str | None  # the gateway's refusal code, if it refused

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body)


def signed_claims(
    *,
    client: str,
    method: str,
    target: str,
    path: str,
    body: bytes,
    purpose: str,
    subject: str | None,
    acting: str | None,
    message_id: str | None = None,
    issued_at: float | None = None,
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": client,
        "jti": message_id or uuid.uuid4().hex,
        "iat": int(issued_at if issued_at is not None else time.time()),
        "svc": target,
        "htm": method.upper(),
        "htu": gateway.request_path(target, path),
        "bsh": signing.body_hash(body),
        "pur": purpose,
    }
    if subject is not None:
        claims["sub"] = subject
    if acting is not None:
        claims["act"] = acting
    return claims


class ExchangeClient:
    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        *,
        client: str = ONE_STOP_ID,
        key: signing.KeyPair | None = None,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.client = client
        self.key = key or own_client_key(settings, client)

    def call(
        self,
        method: str,
        target: str,
        path: str,
        *,
        purpose: str,
        subject: str | None = None,
        acting: str | None = None,
        params: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> Answer:
        if params:
            path = f"{path}?{urlencode(params)}"
        claims = signed_claims(
            client=self.client,
            method=method,
            target=target,
            path=path,
            body=body,
            purpose=purpose,
            subject=subject,
            acting=acting,
        )
        token = signing.sign(self.key, claims, signing.REQUEST_TYPE)
        if self.settings.exchange_gateway_url:
            return self._over_http(method, target, path, body, token)
        answer = gateway.handle(
            self.factory,
            self.settings,
            gateway.GatewayRequest(method, target, path, body, token, "application/json"),
        )
        return Answer(
            answer.status,
            answer.body,
            answer.message_id or claims["jti"],
            answer.headers.get("x-exchange-response"),
            answer.refusal.code if answer.refusal else None,
        )

    def _over_http(self, method: str, target: str, path: str, body: bytes, token: str) -> Answer:
        assert self.settings.exchange_gateway_url is not None
        url = self.settings.exchange_gateway_url.rstrip("/") + gateway.request_path(target, path)
        response = httpx.request(
            method,
            url,
            content=body or None,
            headers={"x-exchange-request": token, "content-type": "application/json"},
            timeout=self.settings.exchange_timeout_seconds + 5,
        )
        refusal = None
        if response.headers.get("content-type", "").startswith("application/problem+json"):
            try:
                refusal = str(response.json().get("code"))
            except ValueError:
                refusal = None
        return Answer(
            response.status_code,
            response.content,
            response.headers.get("x-exchange-message-id", ""),
            response.headers.get("x-exchange-response"),
            refusal,
        )
