"""Submitting a dossier: online by a citizen, or at a desk by an intake officer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cityhall.catalog import queries as catalog
from cityhall.catalog.schemas import Channel, Level, OnlineMode, ProcedureDetail
from cityhall.config import Settings
from cityhall.core.actors import Actor, ActorKind, Role
from cityhall.core.blobs import service as blobs
from cityhall.dossiers import clock
from cityhall.dossiers import permissions as perms
from cityhall.dossiers.lifecycle import (
    NATIONAL_STATUS,
    State,
)
from cityhall.dossiers.models import (
    Dossier,
    DossierDocument,
    DossierRegistryLookup,
    IdempotencyKey,
)
from cityhall.dossiers.prefill import Prefill
from cityhall.dossiers.schemas import DocumentIn, DossierSubmit
from cityhall.dossiers.service.common import (
    _ctx,
    _event,
    _form_errors,
    _limit,
    _notify,
    actor_ref,
    next_code,
    version_of,
)
from cityhall.errors import (
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
)
from cityhall.identity import service as identity
from cityhall.places import queries as places

# --- submitting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    dossier: Dossier
    replayed: bool  # an Idempotency-Key seen before: the dossier it created


def _request_hash(data: DossierSubmit) -> str:
    return hashlib.sha256(data.model_dump_json().encode()).hexdigest()


def _idempotent_replay(
    session: Session, actor: Actor, key: str, data: DossierSubmit
) -> Dossier | None:
    ref = actor_ref(actor)
    # Serialise submissions that carry the same key: the second waits for the first to
    # commit, then finds its key row.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 7))"), {"k": f"{ref}|{key}"}
    )
    row = session.get(IdempotencyKey, (ref, key))
    if row is None:
        return None
    if row.request_hash != _request_hash(data):
        raise Conflict(
            "Khóa Idempotency-Key này đã được dùng cho một hồ sơ khác; hãy dùng khóa mới.",
            errors=[FieldError("Idempotency-Key", "Khóa đã được dùng cho yêu cầu khác.")],
        )
    dossier = session.get(Dossier, row.dossier_id)
    assert dossier is not None
    return dossier


def _applicant_errors(
    session: Session, actor: Actor, data: DossierSubmit
) -> tuple[list[FieldError], int | None]:
    errors = [
        FieldError("applicant.id_number", p)
        for p in identity.pin_problems(data.applicant.id_number)
    ]
    citizen_id: int | None = None
    if actor.kind is ActorKind.CITIZEN:
        me = identity.get_own_citizen(session, actor=actor)
        citizen_id = me.id
        if data.applicant.id_number != me.pin:
            errors.append(
                FieldError(
                    "applicant.id_number",
                    "Số định danh phải là của chính người đăng nhập (lấy từ định danh điện tử).",
                )
            )
    return errors, citizen_id


def _competent(
    session: Session, version: ProcedureDetail, data: DossierSubmit
) -> tuple[str, str, list[FieldError]]:
    """(unit code, competent agency code, problems)."""
    if version.level is Level.CITY:
        assert version.agency_code
        return "79", version.agency_code, []
    unit = data.unit_code or data.applicant.address.unit_code
    where = "unit_code" if data.unit_code else "applicant.address.unit_code"
    try:
        agency = places.ward_agency(session, unit)
    except NotFound:
        return (
            unit,
            "",
            [
                FieldError(
                    where, "Không có phường, xã hoặc đặc khu hiện hành mã {code}.", {"code": unit}
                )
            ],
        )
    return unit, agency.code, []


def _document_rows(
    session: Session,
    version: ProcedureDetail,
    documents: list[DocumentIn],
    *,
    source: str,
    field_prefix: str,
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    known = {d.code: d for d in version.documents}
    rows, errors = [], []
    for i, doc in enumerate(documents):
        where = f"{field_prefix}.{i}"
        if doc.code not in known:
            errors.append(
                FieldError(
                    f"{where}.code",
                    "Thủ tục không có thành phần hồ sơ mã {code}.",
                    {"code": doc.code},
                )
            )
            continue
        try:
            blobs.get_blob(session, doc.sha256)
        except NotFound:
            errors.append(FieldError(f"{where}.sha256", "Chưa tải lên tệp có mã SHA-256 này."))
            continue
        rows.append(
            {
                "document_code": doc.code,
                "name": known[doc.code].name,
                "source": source,
                "blob_sha256": bytes.fromhex(doc.sha256),
                "pages": doc.pages,
            }
        )
    return rows, errors


def _record_registries(
    session: Session,
    dossier: Dossier,
    version: ProcedureDetail,
    prefill: Prefill,
    doc_rows: list[dict[str, Any]],
    actor: Actor,
    event_seq: int,
) -> None:
    """What the registries answered stands in for documents the citizen did not upload, and
    the dossier keeps which registries were consulted, for what and on what basis."""
    uploaded = {row["document_code"] for row in doc_rows}
    names = {d.code: d.name for d in version.documents}
    for code in prefill.satisfied:
        if code in uploaded:
            continue
        session.add(
            DossierDocument(
                dossier_id=dossier.id,
                document_code=code,
                name=names[code],
                source="registry",
                blob_sha256=None,
                added_by=actor_ref(actor),
                event_seq=event_seq,
            )
        )
    for c in prefill.lookups():
        session.add(
            DossierRegistryLookup(
                dossier_id=dossier.id,
                source=c.source,
                service=c.service,
                purpose=c.purpose,
                basis=c.basis,
                basis_detail=c.basis_detail,
                message_id=c.message_id,
                consulted_at=c.at,
                used_for=list(c.used_for),
            )
        )


def _may_submit(actor: Actor, channel: str) -> str | None:
    """The receiving desk's agency for an official's counter/post intake; raises if the
    actor may not submit on this channel."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise Unauthenticated("Cần đăng nhập bằng định danh điện tử để nộp hồ sơ.")
    if actor.kind is ActorKind.CITIZEN:
        if channel != Channel.ONLINE:
            raise Forbidden("Công dân nộp hồ sơ trực tuyến (channel online).")
        return None
    if actor.kind is ActorKind.OFFICIAL:
        desks = sorted(perms.agencies(actor, Role.INTAKE_OFFICER))
        if not desks:
            raise Forbidden("Chỉ cán bộ tiếp nhận được nhập hồ sơ tại quầy.")
        if channel == Channel.ONLINE:
            raise Forbidden("Cán bộ nhập hồ sơ nộp tại quầy hoặc qua bưu chính.")
        return desks[0]
    raise Forbidden()


def submit_dossier(
    session: Session,
    *,
    actor: Actor,
    data: DossierSubmit,
    settings: Settings,
    idempotency_key: str | None = None,
    prefill: Prefill | None = None,
) -> Submitted:
    """A citizen's online submission, or an intake officer entering a counter/post dossier
    on an applicant's behalf (with scans). The dossier starts ``submitted`` (waiting for
    intake), its code given by the receiving desk."""
    desk = _may_submit(actor, data.channel)
    if idempotency_key is not None:
        replay = _idempotent_replay(session, actor, idempotency_key, data)
        if replay is not None:
            return Submitted(replay, True)
    ctx = _ctx(session, actor, settings)
    day = ctx.calendar.local(ctx.now).date()
    try:
        found = catalog.search_version_id(session, data.procedure_code, day)
    except NotFound as exc:
        raise Invalid(
            exc.message,
            errors=[FieldError("procedure_code", exc.message, exc.params)],
            **exc.params,
        ) from None
    version = version_of(session, found)
    errors: list[FieldError] = []
    if data.channel not in version.channels:
        errors.append(
            FieldError(
                "channel",
                "Thủ tục này không nhận hồ sơ qua kênh {channel}.",
                {"channel": data.channel},
            )
        )
    if data.channel == "online" and version.online_mode is OnlineMode.NONE:
        errors.append(FieldError("channel", "Thủ tục này chưa cung cấp dịch vụ công trực tuyến."))
    applicant_errors, citizen_id = _applicant_errors(session, actor, data)
    errors += applicant_errors
    unit_code, competent, unit_errors = _competent(session, version, data)
    errors += unit_errors
    # The address's ward was checked already when it is the competent one.
    address_checked = any(e.field == "applicant.address.unit_code" for e in errors) or (
        version.level is Level.WARD and unit_code == data.applicant.address.unit_code
    )
    if not address_checked and not places.unit_exists(session, data.applicant.address.unit_code):
        errors.append(
            FieldError(
                "applicant.address.unit_code",
                "Không có phường, xã hoặc đặc khu hiện hành mã {code}.",
                {"code": data.applicant.address.unit_code},
            )
        )
    errors += _form_errors(version, data.form)
    source = "upload" if data.channel == "online" else "scan"
    doc_rows, doc_errors = _document_rows(
        session, version, data.documents, source=source, field_prefix="documents"
    )
    errors += doc_errors
    if errors:
        raise Invalid("Hồ sơ chưa hợp lệ: {count} lỗi.", errors=errors, count=len(errors))

    if citizen_id is None:
        citizen_id = identity.ensure_citizen(
            session,
            actor=actor,
            pin=data.applicant.id_number,
            full_name=data.applicant.full_name,
        ).id
    receiving = desk or competent
    limit = _limit(version)
    dossier = Dossier(
        code=next_code(session, receiving, ctx.calendar, ctx.now),
        procedure_code=version.code,
        procedure_version_id=version.version.id,
        channel=data.channel,
        state=State.SUBMITTED.value,
        national_status=NATIONAL_STATUS[State.SUBMITTED],
        applicant_citizen_id=citizen_id,
        applicant_pin=data.applicant.id_number,
        applicant_name=data.applicant.full_name,
        applicant=data.applicant.model_dump(mode="json"),
        form=data.form,
        unit_code=unit_code,
        receiving_agency_code=receiving,
        competent_agency_code=competent,
        submitted_by=actor_ref(actor),
        current_step=0,
        submitted_at=ctx.now,
        received_at=ctx.now,
        due_at=clock.due(ctx.calendar, ctx.now, limit),
        step_due_at=clock.step_due(ctx.calendar, ctx.now, limit, version.steps, 0),
        last_event_seq=0,
    )
    session.add(dossier)
    session.flush()
    event = _event(
        ctx,
        dossier,
        "submit",
        None,
        to_agency=receiving,
        to_unit=version.steps[0].unit,
        due_at=dossier.step_due_at,
        data={"channel": data.channel, "documents": len(doc_rows)},
    )
    for row in doc_rows:
        session.add(
            DossierDocument(
                dossier_id=dossier.id, added_by=actor_ref(actor), event_seq=event.seq, **row
            )
        )
    if prefill is not None:
        _record_registries(session, dossier, version, prefill, doc_rows, actor, event.seq)
    if idempotency_key is not None:
        session.add(
            IdempotencyKey(
                actor_ref=actor_ref(actor),
                key=idempotency_key,
                request_hash=_request_hash(data),
                dossier_id=dossier.id,
            )
        )
    session.flush()
    _notify(ctx, dossier, version, event)
    return Submitted(dossier, False)
