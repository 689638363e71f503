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
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from cityhall.config import Settings
from cityhall.exchange import directory, log, signing
from cityhall.exchange.keys import gateway_key

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


def _client(snap: directory.Snapshot, client: str) -> directory.Client:
    if SUBSYSTEM_ID.match(client) is None:
        raise _refuse(UNKNOWN_CLIENT, f"iss {client!r} is not VN/GOV/<member>/<subsystem>")
    found = snap.clients.get(client)
    if found is None:
        raise _refuse(UNKNOWN_CLIENT, f"{client} is not a registered client subsystem")
    if found.disabled:
        raise _refuse(DISABLED_CLIENT, f"{client} is disabled")
    return found


def _verify_token(
    snap: directory.Snapshot, req: GatewayRequest, now: float, freshness: int
) -> tuple[directory.Client, dict[str, Any]]:
    if not req.token:
        raise _refuse(MALFORMED, "the X-Exchange-Request header (a compact JWS) is missing")
    try:
        token = signing.parse(req.token)
    except signing.SignatureError as exc:
        raise _refuse(MALFORMED, str(exc)) from exc
    claims = token.claims
    client_id = str(claims.get("iss", ""))
    if token.header.get("kid") != client_id:
        raise _refuse(MALFORMED, "the JWS kid must be the client subsystem id (iss)")
    client = _client(snap, client_id)
    try:
        signing.verify(token, client.jwk)
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
    return client, claims


def _safe_path(path: str) -> None:
    """The path stays below the service: no dot segments (a client granted one service must
    not reach the provider's other paths through ``../``), no backslashes."""
    segments = path.split("?", 1)[0].split("/")
    if any(seg in (".", "..") for seg in segments) or "\\" in path or "%2e" in path.lower():
        raise _refuse(MALFORMED, "the path must not contain '.' or '..' segments")


def _service(snap: directory.Snapshot, target: str) -> directory.Service:
    _parse_target(target)
    found = snap.services.get(target)
    if found is None:
        raise _refuse(UNKNOWN_SERVICE, f"{target} is not a published service")
    return found


def _check_right(
    snap: directory.Snapshot,
    client: directory.Client,
    service: directory.Service,
    claims: dict[str, Any],
) -> None:
    key = (client.id, service.id)
    if key not in snap.rights:
        raise _refuse(NO_RIGHT, f"{client.full_id} has no right to {service.code}")
    granted = snap.rights[key]
    purpose = claims.get("pur")
    if not isinstance(purpose, str) or not purpose:
        raise _refuse(NO_PURPOSE, "the pur claim (purpose) is missing")
    if purpose not in service.purposes or (granted is not None and purpose not in granted):
        raise _refuse(WRONG_PURPOSE, f"purpose {purpose!r} is not allowed")
    if service.classification in ("personal", "sensitive"):
        subject = claims.get("sub")
        if not isinstance(subject, str) or not PIN.match(subject):
            raise _refuse(SUBJECT_REQUIRED, "sub must be the 12-digit number of the data subject")


# Small limits are counted exactly on one row; large ones on one of several rows chosen by
# the message id, so that concurrent requests of one busy client do not queue behind one
# row lock (each row allows its share of the limit).
_EXACT_BELOW = 600
_SLOTS = 16


def _claim_and_count(
    session: Session, client: directory.Client, message_id: str, now: datetime
) -> None:
    """Claim the message id (a replay is refused) and count the call against the client's
    rate, in one statement; run last in the transaction, so the rate row's lock is held
    only until the commit that follows."""
    slots = 1 if client.rate_per_minute < _EXACT_BELOW else _SLOTS
    slot = 0 if slots == 1 else int(signing.body_hash(message_id.encode())[:4], 16) % slots
    row = session.execute(
        text(
            """
            WITH claimed AS (
                INSERT INTO exchange_replay_guard (client, message_id) VALUES (:client, :m)
                ON CONFLICT DO NOTHING RETURNING 1
            ), counted AS (
                INSERT INTO exchange_rate_windows (client_id, minute, calls)
                SELECT :c, :minute, 1 FROM claimed
                ON CONFLICT (client_id, minute) DO UPDATE
                SET calls = exchange_rate_windows.calls + 1 RETURNING calls
            )
            SELECT (SELECT count(*) FROM claimed), (SELECT calls FROM counted)
            """
        ),
        {
            "client": client.full_id,
            "m": message_id,
            "c": client.id,
            "minute": now.replace(second=0, microsecond=0) + timedelta(microseconds=slot),
        },
    ).one()
    if not row[0]:
        raise _refuse(REPLAYED, f"message {message_id} of {client.full_id} was already received")
    share = -(-client.rate_per_minute // slots)
    if row[1] > share:
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
            snap = directory.snapshot(session)
            client, claims = _verify_token(
                snap, req, now.timestamp(), settings.exchange_freshness_seconds
            )
            service = _service(snap, req.target)
            _safe_path(req.path)
            _check_right(snap, client, service, claims)
            checked = _Checked(client.full_id, claims, service.upstream)
            log.append(
                session,
                direction="request",
                body_sha256=signing.body_hash(req.body),
                signature=req.token or "",
                logged_at=now,
                **_entry_values(req, claims, checked.client, claims["jti"]),
            )
            _claim_and_count(session, client, claims["jti"], now)
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
