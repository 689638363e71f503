"""The gateway: what it forwards, what it signs, and every way it refuses."""

from __future__ import annotations

import time
import uuid

from fastapi.testclient import TestClient
from joserfc import jws
from joserfc.jwk import OKPKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.core.actors import system_admin
from cityhall.exchange import service, signing
from cityhall.exchange.models import ExchangeLogEntry
from tests.exchange.conftest import (
    CLIENT_ID,
    SERVICE_ID,
    Parties,
    Provider,
    register_parties,
    send,
)


def _log(session: Session, message_id: str) -> list[ExchangeLogEntry]:
    return list(
        session.scalars(
            select(ExchangeLogEntry)
            .where(ExchangeLogEntry.message_id == message_id)
            .order_by(ExchangeLogEntry.id)
        )
    )


def test_a_signed_request_is_forwarded_and_the_answer_signed(
    client: TestClient, parties: Parties, provider: Provider, session: Session
) -> None:
    message_id = uuid.uuid4().hex
    response = send(client, parties.key, message_id=message_id)
    assert response.status_code == 200, response.text
    assert response.json()["path"] == "/v1/citizens/079090001234"
    forwarded = provider.seen[-1]["headers"]
    assert forwarded["x-exchange-client"] == CLIENT_ID
    assert forwarded["x-exchange-message-id"] == message_id
    assert forwarded["x-exchange-purpose"] == "administrative_procedure"

    # The answer's signature verifies with the gateway's published key, in an independent
    # JOSE library, and binds this message and this body.
    jwks = client.get("/exchange/v1/keys").json()["keys"]
    token = jws.deserialize_compact(
        response.headers["x-exchange-response"], OKPKey.import_key(jwks[0]), algorithms=["Ed25519"]
    )
    import json

    claims = json.loads(token.payload)
    assert claims["jti"] == message_id
    assert claims["status"] == 200
    assert claims["bsh"] == signing.body_hash(response.content)

    entries = _log(session, message_id)
    assert [e.direction for e in entries] == ["request", "response"]
    request, answer = entries
    assert request.subject_pin == "079090001234"
    assert request.purpose == "administrative_procedure"
    assert request.acting == "official:42:Nguyễn Văn Thử"
    assert answer.status == 200
    assert answer.latency_ms is not None
    assert answer.error is None


def test_request_signatures_interoperate_with_joserfc(parties: Parties) -> None:
    token = signing.sign(parties.key, {"jti": "abc12345"}, signing.REQUEST_TYPE)
    public = OKPKey.import_key(parties.key.public_jwk())
    assert jws.deserialize_compact(token, public, algorithms=["Ed25519"]).payload == (
        b'{"jti":"abc12345"}'
    )
    # And the other way round: a token made by joserfc verifies here.
    private = OKPKey.import_key(parties.key.private_jwk())
    other = jws.serialize_compact(
        {"alg": "Ed25519", "kid": CLIENT_ID}, b'{"a":1}', private, algorithms=["Ed25519"]
    )
    assert signing.verify(signing.parse(other), parties.key.public_jwk()) == {"a": 1}


def _refused(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code
    assert problem["title"]
    assert problem["detail"]
    assert response.headers["x-exchange-response"]  # refusals are signed too


def test_missing_signature(client: TestClient, parties: Parties) -> None:
    _refused(send(client, None), 400, "malformed_request")


def test_bad_signature(client: TestClient, parties: Parties) -> None:
    impostor = signing.KeyPair.generate(CLIENT_ID)
    _refused(send(client, impostor), 401, "bad_signature")


def test_unknown_client(client: TestClient, parties: Parties) -> None:
    stranger = signing.KeyPair.generate("VN/GOV/999/NOBODY")
    _refused(send(client, stranger, issuer="VN/GOV/999/NOBODY"), 401, "unknown_client")


def test_disabled_client(client: TestClient, parties: Parties, session: Session) -> None:
    service.set_subsystem_disabled(session, actor=system_admin(), full_id=CLIENT_ID, disabled=True)
    session.commit()
    _refused(send(client, parties.key), 403, "client_disabled")


def test_body_other_than_signed(client: TestClient, parties: Parties) -> None:
    response = send(
        client, parties.key, "search", method="POST", body=b'{"a":1}', tamper_body=b'{"a":2}'
    )
    _refused(response, 401, "signature_mismatch")


def test_replayed_message_id(client: TestClient, parties: Parties) -> None:
    message_id = uuid.uuid4().hex
    assert send(client, parties.key, message_id=message_id).status_code == 200
    _refused(send(client, parties.key, message_id=message_id), 409, "replayed_message")


def test_stale_and_future_timestamps(client: TestClient, parties: Parties) -> None:
    _refused(send(client, parties.key, issued_at=time.time() - 600), 401, "stale_timestamp")
    _refused(send(client, parties.key, issued_at=time.time() + 600), 401, "stale_timestamp")


def test_no_right_and_revoked_right(client: TestClient, parties: Parties, session: Session) -> None:
    service.revoke_right(session, actor=system_admin(), right_id=parties.right_id)
    session.commit()
    _refused(send(client, parties.key), 403, "no_access_right")


def test_purpose_missing_or_not_granted(client: TestClient, parties: Parties) -> None:
    _refused(send(client, parties.key, purpose=None), 400, "purpose_required")
    # "statistics" is a purpose of the service, but this client was granted only one other.
    _refused(send(client, parties.key, purpose="statistics"), 403, "purpose_not_allowed")
    _refused(send(client, parties.key, purpose="marketing"), 403, "purpose_not_allowed")


def test_personal_data_needs_its_subject(client: TestClient, parties: Parties) -> None:
    _refused(send(client, parties.key, subject=None), 400, "subject_required")


def test_unknown_service(client: TestClient, parties: Parties) -> None:
    _refused(
        send(client, parties.key, target="VN/GOV/TESTPROV/SYS/nothing"), 404, "unknown_service"
    )


def test_over_the_rate_limit(client: TestClient, session: Session, provider: Provider) -> None:
    parties = register_parties(session, provider.url, rate=3)
    for _ in range(3):
        assert send(client, parties.key).status_code == 200
    response = send(client, parties.key)
    _refused(response, 429, "rate_limited")
    assert 0 < int(response.headers["retry-after"]) <= 60


def test_provider_down(client: TestClient, parties: Parties, session: Session) -> None:
    from cityhall.exchange.schemas import SubsystemIn

    service.register_subsystem(
        session,
        actor=system_admin(),
        # Nothing listens on the discard port.
        data=SubsystemIn(
            member_code="TESTPROV", code="SYS", name="CSDL thử", base_url="http://127.0.0.1:9"
        ),
    )
    session.commit()
    _refused(send(client, parties.key), 502, "provider_unavailable")


def test_refusals_are_logged_with_their_reason(
    client: TestClient, parties: Parties, session: Session
) -> None:
    message_id = uuid.uuid4().hex
    send(client, parties.key, message_id=message_id, purpose="marketing")
    entries = _log(session, message_id)
    assert [(e.direction, e.error) for e in entries] == [
        ("request", "purpose_not_allowed"),
        ("response", "purpose_not_allowed"),
    ]
    assert entries[1].status == 403


def test_the_provider_answer_passes_through(client: TestClient, parties: Parties) -> None:
    response = send(client, parties.key, "citizens/missing")
    assert response.status_code == 404  # the provider's own answer, signed by the gateway
    assert response.headers["x-exchange-response"]
    assert SERVICE_ID


def test_old_message_ids_are_forgotten_but_stay_refused_as_stale(
    client: TestClient, parties: Parties, session: Session, settings
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from cityhall.exchange.gateway import purge_replay_guard

    message_id = uuid.uuid4().hex
    old = time.time() - 3 * settings.exchange_freshness_seconds
    assert send(client, parties.key, message_id=message_id).status_code == 200
    session.execute(
        text("UPDATE exchange_replay_guard SET seen_at = to_timestamp(:t) WHERE message_id = :m"),
        {"t": old, "m": message_id},
    )
    assert purge_replay_guard(session, settings) == 1
    session.commit()
    # Forgotten by the guard, the old message is still refused: its timestamp is stale.
    _refused(
        send(client, parties.key, message_id=message_id, issued_at=old), 401, "stale_timestamp"
    )


def test_a_path_cannot_climb_out_of_the_service(client: TestClient, parties: Parties) -> None:
    from cityhall.exchange import gateway
    from cityhall.exchange.client import signed_claims

    # Signed by a client with a right, but aimed above the service's own paths.
    path = "citizens/../../admin"
    claims = signed_claims(
        client=CLIENT_ID,
        method="GET",
        target=SERVICE_ID,
        path=path,
        body=b"",
        purpose="administrative_procedure",
        subject="079090001234",
        acting=None,
    )
    token = signing.sign(parties.key, claims, signing.REQUEST_TYPE)
    answer = gateway.handle(
        client.app.state.session_factory,  # type: ignore[attr-defined]
        client.app.state.settings,  # type: ignore[attr-defined]
        gateway.GatewayRequest("GET", SERVICE_ID, path, b"", token),
    )
    assert answer.status == 400
    assert answer.refusal is gateway.MALFORMED
