"""The gateway (the security server): check a signed request, forward it, sign the answer.

``handle`` is the whole use case, free of any web framework: the HTTP route at
``/exchange/v1/...`` and the platform's in-process client both call it, so both pass the
same checks and leave the same log. It owns its transactions: the request entry is
committed before the provider is called (what was asked is on record even if the gateway
dies mid-call), the response entry after; the provider is never called while a database
lock is held.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, sessionmaker

from cityhall.config import Settings
from cityhall.exchange import log, signing
from cityhall.exchange.keys import gateway_key
from cityhall.exchange.models import (
    ExchangeReplayGuard,
    ExchangeRight,
    ExchangeService,
    ExchangeSubsystem,
)

SUBSYSTEM_ID = re.compile(r"^VN/GOV/([A-Za-z0-9.\-]{1,32})/([A-Za-z0-9_\-]{1,64})$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9._:\-]{8,64}$")
PIN = re.compile(r"^\d{12}$")
# Headers of the provider's answer worth passing on; the rest is the hop's business.
_PASS_HEADERS = ("content-type", "content-language", "cache-control", "etag", "last-modified")


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    title: str


# Every way the gateway says no, with the status and the Vietnamese title a caller sees.
MALFORMED = Refusal(400, "malformed_request", "Yêu cầu không kèm chữ ký hợp lệ về cấu trúc.")
UNKNOWN_CLIENT = Refusal(401, "unknown_client", "Hệ thống gửi yêu cầu chưa được đăng ký.")
DISABLED_CLIENT = Refusal(403, "client_disabled", "Hệ thống gửi yêu cầu đã bị tạm dừng.")
BAD_SIGNATURE = Refusal(401, "bad_signature", "Chữ ký của yêu cầu không đúng.")
MISMATCH = Refusal(
    401, "signature_mismatch", "Chữ ký không khớp với nội dung, đường dẫn hoặc dịch vụ."
)
STALE = Refusal(401, "stale_timestamp", "Thời điểm ký yêu cầu quá cũ hoặc ở tương lai.")
REPLAYED = Refusal(409, "replayed_message", "Mã thông điệp đã được dùng: yêu cầu bị lặp lại.")
UNKNOWN_SERVICE = Refusal(404, "unknown_service", "Không có dịch vụ chia sẻ dữ liệu này.")
NO_RIGHT = Refusal(403, "no_access_right", "Hệ thống chưa được cấp quyền dùng dịch vụ này.")
NO_PURPOSE = Refusal(400, "purpose_required", "Yêu cầu phải nêu mục đích sử dụng dữ liệu.")
WRONG_PURPOSE = Refusal(
    403, "purpose_not_allowed", "Mục đích này không được phép với dịch vụ hoặc quyền đã cấp."
)
SUBJECT_REQUIRED = Refusal(
    400, "subject_required", "Dịch vụ dữ liệu cá nhân: phải nêu số định danh của người có dữ liệu."
)
RATE_LIMITED = Refusal(429, "rate_limited", "Hệ thống gửi vượt hạn mức số yêu cầu mỗi phút.")
PROVIDER_DOWN = Refusal(502, "provider_unavailable", "Hệ thống cung cấp dữ liệu không phản hồi.")
PROVIDER_TIMEOUT = Refusal(504, "provider_timeout", "Hệ thống cung cấp dữ liệu phản hồi quá lâu.")


class Refused(Exception):
    def __init__(self, refusal: Refusal, detail: str) -> None:
        super().__init__(detail)
        self.refusal = refusal
        self.detail = detail


@dataclass(frozen=True)
class GatewayRequest:
    method: str
    target: str  # VN/GOV/<member>/<subsystem>/<service>
    path: str  # below the service, with its query string: "citizens/079…?x=1"
    body: bytes
    token: str | None  # the X-Exchange-Request header
    content_type: str | None = None


@dataclass
class GatewayResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    refusal: Refusal | None = None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class _Checked:
    client: str
    claims: dict[str, Any]
    upstream: str


def request_path(target: str, path: str) -> str:
    """What ``htu`` signs: the path below /exchange/v1, with the query string."""
    return f"/{target}/{path.lstrip('/')}"


@lru_cache(maxsize=1)
def _http() -> httpx.Client:
    # One pooled client per process: keep-alive to the providers is most of the speed.
    return httpx.Client(
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        trust_env=False,
    )


def _refuse(refusal: Refusal, detail: str) -> Refused:
    return Refused(refusal, detail)


def _parse_target(target: str) -> tuple[str, str, str]:
    parts = target.split("/")
    if len(parts) != 5 or parts[:2] != ["VN", "GOV"] or not all(parts[2:]):
        raise _refuse(UNKNOWN_SERVICE, f"{target!r} is not VN/GOV/<member>/<subsystem>/<service>")
    return parts[2], parts[3], parts[4]


def _client_row(session: Session, client: str) -> ExchangeSubsystem:
    match = SUBSYSTEM_ID.match(client)
    if match is None:
        raise _refuse(UNKNOWN_CLIENT, f"iss {client!r} is not VN/GOV/<member>/<subsystem>")
    row = session.scalars(
        select(ExchangeSubsystem).where(
            ExchangeSubsystem.member_code == match.group(1),
            ExchangeSubsystem.code == match.group(2),
        )
    ).first()
    if row is None or row.public_jwk is None:
        raise _refuse(UNKNOWN_CLIENT, f"{client} is not a registered client subsystem")
    if row.disabled_at is not None:
        raise _refuse(DISABLED_CLIENT, f"{client} is disabled")
    return row


def _verify_token(
    session: Session, req: GatewayRequest, now: float, freshness: int
) -> tuple[ExchangeSubsystem, dict[str, Any]]:
    if not req.token:
        raise _refuse(MALFORMED, "the X-Exchange-Request header (a compact JWS) is missing")
    try:
        token = signing.parse(req.token)
    except signing.SignatureError as exc:
        raise _refuse(MALFORMED, str(exc)) from exc
    claims = token.claims
    client = str(claims.get("iss", ""))
    if token.header.get("kid") != client:
        raise _refuse(MALFORMED, "the JWS kid must be the client subsystem id (iss)")
    row = _client_row(session, client)
    assert row.public_jwk is not None
    try:
        signing.verify(token, row.public_jwk)
    except signing.SignatureError as exc:
        raise _refuse(BAD_SIGNATURE, str(exc)) from exc
    mismatched = [
        name
        for name, expected in (
            ("svc", req.target),
            ("htm", req.method.upper()),
            ("htu", request_path(req.target, req.path)),
            ("bsh", signing.body_hash(req.body)),
        )
        if claims.get(name) != expected
    ]
    if mismatched:
        raise _refuse(MISMATCH, "signed claims differ from the request: " + ", ".join(mismatched))
    message_id = claims.get("jti")
    if not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
        raise _refuse(MALFORMED, "jti must be 8-64 characters of A-Z a-z 0-9 . _ : -")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or abs(now - float(iat)) > freshness:
        raise _refuse(STALE, f"iat must be within {freshness} s of the gateway's clock")
    return row, claims


def _service(session: Session, target: str) -> tuple[ExchangeService, ExchangeSubsystem]:
    member, subsystem, code = _parse_target(target)
    found = session.execute(
        select(ExchangeService, ExchangeSubsystem)
        .join(ExchangeSubsystem, ExchangeSubsystem.id == ExchangeService.subsystem_id)
        .where(
            ExchangeSubsystem.member_code == member,
            ExchangeSubsystem.code == subsystem,
            ExchangeService.code == code,
            ExchangeService.published.is_(True),
        )
    ).first()
    if found is None or found[1].base_url is None or found[1].disabled_at is not None:
        raise _refuse(UNKNOWN_SERVICE, f"{target} is not a published service")
    return found[0], found[1]


def _check_right(
    session: Session, client: ExchangeSubsystem, service: ExchangeService, claims: dict[str, Any]
) -> None:
    right = session.scalars(
        select(ExchangeRight).where(
            ExchangeRight.client_id == client.id,
            ExchangeRight.service_id == service.id,
            ExchangeRight.revoked_at.is_(None),
        )
    ).first()
    if right is None:
        raise _refuse(NO_RIGHT, f"{client.full_id} has no right to {service.code}")
    purpose = claims.get("pur")
    if not isinstance(purpose, str) or not purpose:
        raise _refuse(NO_PURPOSE, "the pur claim (purpose) is missing")
    allowed = {str(p.get("code")) for p in service.purposes}
    if purpose not in allowed or (right.purposes is not None and purpose not in right.purposes):
        raise _refuse(WRONG_PURPOSE, f"purpose {purpose!r} is not allowed")
    if service.classification in ("personal", "sensitive"):
        subject = claims.get("sub")
        if not isinstance(subject, str) or not PIN.match(subject):
            raise _refuse(SUBJECT_REQUIRED, "sub must be the 12-digit number of the data subject")


def _claim_message(session: Session, client: str, message_id: str) -> None:
    inserted = session.execute(
        pg_insert(ExchangeReplayGuard)
        .values(client=client, message_id=message_id)
        .on_conflict_do_nothing()
        .returning(ExchangeReplayGuard.message_id)
    ).first()
    if inserted is None:
        raise _refuse(REPLAYED, f"message {message_id} of {client} was already received")


def _count_call(session: Session, client: ExchangeSubsystem, now: datetime) -> None:
    minute = now.replace(second=0, microsecond=0)
    calls = session.execute(
        text(
            "INSERT INTO exchange_rate_windows (client_id, minute, calls) VALUES (:c, :m, 1) "
            "ON CONFLICT (client_id, minute) DO UPDATE "
            "SET calls = exchange_rate_windows.calls + 1 RETURNING calls"
        ),
        {"c": client.id, "m": minute},
    ).scalar_one()
    if calls > client.rate_per_minute:
        raise _refuse(RATE_LIMITED, f"more than {client.rate_per_minute} calls in this minute")


def _entry_values(
    req: GatewayRequest, claims: dict[str, Any], client: str, message_id: str
) -> dict[str, Any]:
    def short(name: str, limit: int) -> str | None:
        value = claims.get(name)
        return str(value)[:limit] if value is not None else None

    subject = claims.get("sub")
    return {
        "message_id": message_id[:64],
        "client": client[:200],
        "service": req.target[:300],
        "method": req.method.upper()[:8],
        "path": request_path(req.target, req.path)[:1000],
        "purpose": short("pur", 64),
        "subject_pin": subject if isinstance(subject, str) and PIN.match(subject) else None,
        "acting": short("act", 200),
    }


def _sign_response(
    settings: Settings, message_id: str, status: int, body: bytes, request_token: str | None
) -> str:
    claims = {
        "iss": gateway_key(settings).kid,
        "jti": message_id,
        "iat": int(time.time()),
        "status": status,
        "bsh": signing.body_hash(body),
        # Binds the answer to the exact request it answers.
        "rqh": signing.body_hash((request_token or "").encode()),
    }
    return signing.sign(gateway_key(settings), claims, signing.RESPONSE_TYPE)


def _problem(refused: Refused, message_id: str) -> bytes:
    return json.dumps(
        {
            "type": f"https://cityhall.hochiminhcity.gov.vn/problems/exchange/{refused.refusal.code}",
            "title": refused.refusal.title,
            "status": refused.refusal.status,
            "code": refused.refusal.code,
            "detail": refused.detail,
            "message_id": message_id,
        },
        ensure_ascii=False,
    ).encode()


def _unverified_claims(token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return signing.parse(token).claims
    except signing.SignatureError:
        return {}


def handle(
    factory: sessionmaker[Session], settings: Settings, req: GatewayRequest
) -> GatewayResponse:
    started = time.perf_counter()
    now = datetime.now(UTC)
    try:
        with factory() as session, session.begin():
            client_row, claims = _verify_token(
                session, req, now.timestamp(), settings.exchange_freshness_seconds
            )
            service, provider = _service(session, req.target)
            _check_right(session, client_row, service, claims)
            _claim_message(session, client_row.full_id, claims["jti"])
            _count_call(session, client_row, now)
            assert provider.base_url is not None
            upstream = provider.base_url.rstrip("/") + "/" + service.upstream_path.strip("/")
            checked = _Checked(client_row.full_id, claims, upstream.rstrip("/"))
            log.append(
                session,
                direction="request",
                body_sha256=signing.body_hash(req.body),
                signature=req.token or "",
                logged_at=now,
                **_entry_values(req, claims, checked.client, claims["jti"]),
            )
    except Refused as refused:
        return _refusal(factory, settings, req, refused, now, started)
    return _forward(factory, settings, req, checked, started)


def _refusal(
    factory: sessionmaker[Session],
    settings: Settings,
    req: GatewayRequest,
    refused: Refused,
    now: datetime,
    started: float,
) -> GatewayResponse:
    """Log the refused request (as presented) and the signed refusal, and return it."""
    claims = _unverified_claims(req.token)
    client = str(claims.get("iss") or "unknown")
    raw_id = claims.get("jti")
    message_id = raw_id if isinstance(raw_id, str) and MESSAGE_ID.match(raw_id) else "-"
    body = _problem(refused, message_id)
    signature = _sign_response(settings, message_id, refused.refusal.status, body, req.token)
    with factory() as session, session.begin():
        values = _entry_values(req, claims, client, message_id)
        log.append(
            session,
            direction="request",
            body_sha256=signing.body_hash(req.body),
            signature=(req.token or "")[:8000],
            error=refused.refusal.code,
            logged_at=now,
            **values,
        )
        log.append(
            session,
            direction="response",
            body_sha256=signing.body_hash(body),
            signature=signature,
            status=refused.refusal.status,
            error=refused.refusal.code,
            latency_ms=(time.perf_counter() - started) * 1000,
            **values,
        )
    headers = {
        "content-type": "application/problem+json",
        "x-exchange-message-id": message_id,
        "x-exchange-response": signature,
    }
    if refused.refusal is RATE_LIMITED:
        headers["retry-after"] = str(60 - now.second)
    return GatewayResponse(refused.refusal.status, body, headers, message_id, refused.refusal)


def _forward(
    factory: sessionmaker[Session],
    settings: Settings,
    req: GatewayRequest,
    checked: _Checked,
    started: float,
) -> GatewayResponse:
    claims = checked.claims
    message_id = str(claims["jti"])
    headers = {
        "x-exchange-client": checked.client,
        "x-exchange-message-id": message_id,
        "x-exchange-purpose": str(claims.get("pur", "")),
    }
    if req.content_type:
        headers["content-type"] = req.content_type
    refusal: Refusal | None = None
    try:
        answer = _http().request(
            req.method.upper(),
            checked.upstream + "/" + req.path.lstrip("/"),
            content=req.body or None,
            headers=headers,
            timeout=settings.exchange_timeout_seconds,
        )
        status, body = answer.status_code, answer.content
        passed = {k: answer.headers[k] for k in _PASS_HEADERS if k in answer.headers}
    except httpx.TimeoutException as exc:
        refusal = PROVIDER_TIMEOUT
        body = _problem(Refused(refusal, f"{type(exc).__name__}"), message_id)
        status, passed = refusal.status, {"content-type": "application/problem+json"}
    except httpx.HTTPError as exc:
        refusal = PROVIDER_DOWN
        body = _problem(Refused(refusal, f"{type(exc).__name__}: {exc}"[:300]), message_id)
        status, passed = refusal.status, {"content-type": "application/problem+json"}
    signature = _sign_response(settings, message_id, status, body, req.token)
    with factory() as session, session.begin():
        log.append(
            session,
            direction="response",
            body_sha256=signing.body_hash(body),
            signature=signature,
            status=status,
            error=refusal.code if refusal else None,
            latency_ms=(time.perf_counter() - started) * 1000,
            **_entry_values(req, claims, checked.client, message_id),
        )
    passed.update({"x-exchange-message-id": message_id, "x-exchange-response": signature})
    return GatewayResponse(status, body, passed, message_id, refusal)


def purge_replay_guard(session: Session, settings: Settings) -> int:
    """Forget message ids older than twice the freshness window (they are refused as stale
    anyway). Run periodically."""
    result = session.execute(
        text("DELETE FROM exchange_replay_guard WHERE seen_at < now() - make_interval(secs => :s)"),
        {"s": 2 * settings.exchange_freshness_seconds},
    )
    session.execute(
        text("DELETE FROM exchange_rate_windows WHERE minute < now() - interval '10 minutes'")
    )
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["GatewayRequest", "GatewayResponse", "Refusal", "handle", "request_path"]
