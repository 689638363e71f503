"""Citizens' pages of the one-stop system: applying online (the form generated from the
procedure, uploads with progress, drafts). Their dossiers afterwards: ``own_pages``.

Everything is a plain HTML form (works without JavaScript); htmx and a small upload script
make it smoother. What the citizen typed and uploaded is never lost: an invalid submission
comes back with every value and file, and drafts are kept until the dossier is submitted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from cityhall.catalog import queries as catalog
from cityhall.catalog.forms import fields_from_schema, parse_posted, shown
from cityhall.catalog.schemas import Level, ProcedureDetail
from cityhall.config import Settings
from cityhall.core.actors import Actor, ActorKind
from cityhall.core.blobs import service as blobs
from cityhall.core.blobs.store import get_blob_store
from cityhall.core.i18n import N_, translate
from cityhall.dossiers import drafts, prefill, service
from cityhall.dossiers.prefill import Prefill
from cityhall.dossiers.schemas import DossierSubmit
from cityhall.errors import Invalid, NotFound
from cityhall.identity import service as identity
from cityhall.places import queries as places
from cityhall.places.schemas import UnitQuery
from cityhall.web.auth import PageActor
from cityhall.web.blobs_api import TooLarge
from cityhall.web.csrf import CSRF_FIELD, verify_csrf
from cityhall.web.deps import AppSettings, DbSession, request_locale
from cityhall.web.templating import render

router = APIRouter(include_in_schema=False)

MAX_FILES = 30
# Room for the multipart framing and the other fields around the files themselves.
MULTIPART_OVERHEAD = 256 * 1024


def _declared_length(request: Request) -> int:
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else 0


def _too_large_body(request: Request, settings: Settings, files: int) -> bool:
    """A body declared larger than ``files`` files at the limit could ever be."""
    return _declared_length(request) > files * settings.blob_max_bytes + MULTIPART_OVERHEAD


# Parts of a dossier the online form itself is (the application, the declaration).
FORM_ITSELF = ("TO_KHAI", "DON_", "DON")


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _login_redirect(request: Request, path: str | None = None) -> RedirectResponse:
    target = path or request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/dang-nhap-cong-dan?next={quote(target)}", status_code=303)


PENDING_COOKIE = "ch_pending"
PENDING_MAX_AGE = 3600
PENDING_MAX_BYTES = 3500  # a cookie holds about 4 KB


def _pending_signer(request: Request) -> URLSafeTimedSerializer:
    secret = request.app.state.settings.resolved_secret_key()
    return URLSafeTimedSerializer(secret, salt="pending-application")


def _keep_for_after_login(request: Request, code: str, app: Application) -> Response:
    """The session expired while the citizen was filling the form: keep what they typed
    (and the files already uploaded, by hash) in a signed, HttpOnly cookie of their own
    browser for an hour, say so, and restore it after they log in again.

    A page with a link rather than a redirect: the login continues at the e-ID provider
    (another origin), and the CSP's ``form-action 'self'`` rightly stops a form submission
    from being redirected there."""
    target = f"/thu-tuc/{code}/nop-ho-so?khoi_phuc=1"
    response = render(
        request,
        "dossiers/session_expired.html",
        {"actor": None, "login_url": f"/dang-nhap-cong-dan?next={quote(target)}"},
        status_code=401,
    )
    value = _pending_signer(request).dumps(
        {"code": code, "values": app.values, "contact": app.contact, "uploaded": app.uploaded}
    )
    if len(value) <= PENDING_MAX_BYTES:
        response.set_cookie(
            PENDING_COOKIE,
            value,
            max_age=PENDING_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.cookie_secure,
            path="/thu-tuc",
        )
    return response


def _restore_pending(request: Request, code: str) -> dict[str, Any] | None:
    raw = request.cookies.get(PENDING_COOKIE)
    if not raw:
        return None
    try:
        data = _pending_signer(request).loads(raw, max_age=PENDING_MAX_AGE)
    except BadSignature:
        return None
    return data if isinstance(data, dict) and data.get("code") == code else None


def _is_citizen(actor: Actor) -> bool:
    return actor.kind is ActorKind.CITIZEN and actor.id is not None


def _units(session: Any) -> list[tuple[str, str]]:
    page = places.search_units(session, UnitQuery.model_validate({"limit": 200}))
    return sorted(((u.code, u.name) for u in page.items if u.level == 2), key=lambda u: u[1])


def _is_form_itself(code: str) -> bool:
    return code == "TO_KHAI" or code.startswith(FORM_ITSELF)


@dataclass
class DocSlot:
    code: str
    name: str
    required: bool
    copies: str
    reuse: str | None  # where the platform takes it from, when it does
    uploaded: dict[str, Any] | None  # {"sha256", "filename"}
    form_itself: bool
    # Why the registry could not stand in for it: (message, registry title).
    registry_note: tuple[str, str] | None = None


def _slots(
    version: ProcedureDetail, uploaded: dict[str, dict[str, Any]], found: Prefill
) -> list[DocSlot]:
    """The documents of the application. One the registries answered for is shown as
    verified and needs no upload; one they could not give asks for the file, saying why."""
    from cityhall.catalog.pages import SOURCE_LABELS

    slots = []
    for d in version.documents:
        source = prefill.SOURCE_OF.get(d.source)
        reuse = SOURCE_LABELS.get(d.source.value) if d.code in found.satisfied else None
        why = found.problems.get(source) if source is not None else None
        if d.code in found.store:
            dossier_code, result = found.store[d.code]
            reuse = f"{result} · {dossier_code}"
        slots.append(
            DocSlot(
                code=d.code,
                name=d.name,
                required=d.required,
                copies=d.copies,
                reuse=reuse,
                uploaded=uploaded.get(d.code),
                form_itself=_is_form_itself(d.code),
                registry_note=(why, prefill.REGISTRY_TITLES[source]) if why and source else None,
            )
        )
    return slots


def _error_key(field: str, version: ProcedureDetail, documents: list[str]) -> str:
    """A service or schema error's field, as the name of the page's input."""
    if field.startswith("form."):
        return "f_" + field.removeprefix("form.").split(".")[0]
    if field.startswith("documents."):
        parts = field.split(".")
        if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(documents):
            return "doc_" + documents[int(parts[1])]
        return "_form"
    mapping = {
        "applicant.phone": "phone",
        "applicant.email": "email",
        "applicant.address.street": "street",
        "applicant.address.unit_code": "address_unit",
        "unit_code": "unit_code",
    }
    return mapping.get(field, "_form")


@dataclass
class Application:
    """What the page holds between attempts: typed values, uploaded files, errors."""

    values: dict[str, str]
    contact: dict[str, str]
    uploaded: dict[str, dict[str, Any]]
    errors: dict[str, str]
    token: str


def _gather(request: Request, session: Any, actor: Actor, version: ProcedureDetail) -> Prefill:
    return prefill.gather(
        session,
        actor=actor,
        version=version,
        settings=request.app.state.settings,
        factory=request.app.state.session_factory,
    )


def _application_page(
    request: Request,
    session: Any,
    actor: Actor,
    version: ProcedureDetail,
    app: Application,
    status_code: int = 200,
    saved: bool = False,
    restored: bool = False,
    found: Prefill | None = None,
) -> Response:
    citizen = identity.get_own_citizen(session, actor=actor)
    found = found if found is not None else _gather(request, session, actor, version)
    profile = identity.citizen_profile(session, actor=actor)
    fields = fields_from_schema(version.form_schema)
    return render(
        request,
        "dossiers/apply.html",
        {
            "actor": actor,
            "p": version,
            "fields": fields,
            "app": app,
            "citizen": citizen,
            "profile": profile,
            "slots": _slots(version, app.uploaded, found),
            "found": found,
            "registry_titles": prefill.REGISTRY_TITLES,
            "units": _units(session),
            "ward_level": version.level is Level.WARD,
            "saved": saved,
            "restored": restored,
            "max_mb": blobs.megabytes(request.app.state.settings.blob_max_bytes),
        },
        status_code=status_code,
    )


@router.get("/thu-tuc/{code}/nop-ho-so")
def apply_form(request: Request, code: str, actor: PageActor, session: DbSession) -> Response:
    if not _is_citizen(actor):
        return _login_redirect(request)
    version = catalog.get_procedure(session, code[:32])
    draft = drafts.get_draft(session, actor=actor, procedure_code=version.code)
    profile = identity.citizen_profile(session, actor=actor)
    # Identity and residence as the e-ID asserted them: prefilled, never asked again.
    contact = {
        "phone": profile.phone or "",
        "email": profile.email or "",
        "street": profile.address.street if profile.address else "",
        "address_unit": profile.address.unit_code if profile.address else "",
        "unit_code": "",
    }
    found = _gather(request, session, actor, version)
    residence = found.residence
    if residence is not None:
        # Where the population database says the citizen lives (verified, shown as such).
        contact["street"] = str(residence.get("address_line") or contact["street"])
        contact["address_unit"] = str(residence.get("unit_code") or contact["address_unit"])
    values: dict[str, str] = {}
    uploaded: dict[str, dict[str, Any]] = {}
    if draft is not None:
        contact.update({k: _str(v) for k, v in draft.contact.items()})
        values = {k: shown(v) for k, v in draft.form.items()}
        uploaded = {d["code"]: d for d in draft.documents if isinstance(d, dict) and "code" in d}
    else:
        for f in fields_from_schema(version.form_schema):
            if f.default is not None:
                values[f.name] = shown(f.default)
    restored = _restore_pending(request, version.code)
    if restored is not None:
        values = {str(k): str(v) for k, v in restored.get("values", {}).items()}
        contact.update({str(k): str(v) for k, v in restored.get("contact", {}).items() if v})
        uploaded.update(
            {str(k): v for k, v in restored.get("uploaded", {}).items() if isinstance(v, dict)}
        )
    app = Application(values, contact, uploaded, {}, uuid.uuid4().hex)
    response = _application_page(
        request, session, actor, version, app, restored=restored is not None, found=found
    )
    if restored is not None:
        response.delete_cookie(PENDING_COOKIE, path="/thu-tuc")
    return response


def _kept_uploads(form: FormData, session: Any, version: ProcedureDetail, app: Application) -> None:
    """Files uploaded earlier (by the page's script, or in an attempt that came back with
    errors), which the form carries as hidden sha256 fields."""
    for code in {d.code for d in version.documents}:
        sha = _str(form.get(f"doc_{code}_sha256")).strip()
        if not sha:
            continue
        try:
            blob = blobs.get_blob(session, sha)
        except (NotFound, Invalid):
            continue
        app.uploaded[code] = {"code": code, "sha256": blob.sha256, "filename": blob.filename}


async def _read_files(
    request: Request,
    form: FormData,
    session: Any,
    actor: Actor,
    settings: Settings,
    version: ProcedureDetail,
    app: Application,
) -> None:
    """Store each file posted with the form; a refused file is an error on its own field
    and loses nothing else. Files already uploaded come back as hidden sha256 fields."""
    _kept_uploads(form, session, version, app)
    known = {d.code for d in version.documents}
    store = get_blob_store(settings)
    for code in known:
        part = form.get(f"doc_{code}")
        if not isinstance(part, UploadFile) or not part.filename:
            continue
        data = await part.read(settings.blob_max_bytes + 1)
        if not data:
            continue
        try:
            blob = blobs.store_upload(
                session,
                store,
                actor=actor,
                data=data,
                filename=part.filename,
                declared_type=part.content_type,
                settings=settings,
            )
        except Invalid as exc:
            app.errors[f"doc_{code}"] = translate(
                exc.message, request_locale(request), **exc.params
            )
            continue
        app.uploaded[code] = {"code": code, "sha256": blob.sha256, "filename": blob.filename}


@router.post("/thu-tuc/{code}/nop-ho-so")
async def apply_submit(
    request: Request, code: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    if _too_large_body(request, settings, MAX_FILES):
        raise TooLarge(
            N_("Hồ sơ quá lớn: mỗi tệp tối đa {max_mb} MB."),
            max_mb=blobs.megabytes(settings.blob_max_bytes),
        )
    form = await request.form(max_files=MAX_FILES, max_fields=400)
    try:
        verify_csrf(request, _str(form.get(CSRF_FIELD)))
        version = catalog.get_procedure(session, code[:32])
        locale = request_locale(request)
        posted = {
            f.name: _str(form.get(f"f_{f.name}")) for f in fields_from_schema(version.form_schema)
        }
        if any(f.widget == "checkbox" for f in fields_from_schema(version.form_schema)):
            for f in fields_from_schema(version.form_schema):
                if f.widget == "checkbox" and form.get(f"f_{f.name}") is None:
                    posted.pop(f.name, None)
        contact = {
            k: _str(form.get(k)).strip()
            for k in ("phone", "email", "street", "address_unit", "unit_code")
        }
        app = Application(
            values={k: v for k, v in posted.items() if v},
            contact=contact,
            uploaded={},
            errors={},
            token=_str(form.get("submit_token")) or uuid.uuid4().hex,
        )
        if not _is_citizen(actor):
            # Expired or logged out while typing: nothing is lost (files already sent by
            # the page's script come back by hash; new ones need choosing again).
            _kept_uploads(form, session, version, app)
            return _keep_for_after_login(request, version.code, app)
        await _read_files(request, form, session, actor, settings, version, app)
        data = parse_posted(version.form_schema, posted)
        documents = list(app.uploaded.values())

        def keep_draft() -> None:
            drafts.save_draft(
                session,
                actor=actor,
                procedure_code=version.code,
                form=data,
                contact=contact,
                documents=documents,
            )

        if form.get("save_draft") is not None:
            keep_draft()
            return _application_page(request, session, actor, version, app, saved=True)
        # Asked again at submission: the dossier records what the registries said now.
        found = _gather(request, session, actor, version)
        for slot in _slots(version, app.uploaded, found):
            if slot.required and not slot.reuse and not slot.form_itself and not slot.uploaded:
                app.errors.setdefault(
                    f"doc_{slot.code}",
                    translate(N_("Chưa đính kèm: {name}."), locale, name=slot.name),
                )
        citizen = identity.get_own_citizen(session, actor=actor)
        body = {
            "procedure_code": version.code,
            "channel": "online",
            "applicant": {
                "id_number": citizen.pin,
                "full_name": citizen.full_name,
                "phone": contact["phone"] or None,
                "email": contact["email"] or None,
                "address": {"street": contact["street"], "unit_code": contact["address_unit"]},
            },
            "form": data,
            "unit_code": contact["unit_code"] or None,
            "documents": [{"code": d["code"], "sha256": d["sha256"]} for d in documents],
        }
        codes = [d["code"] for d in documents]
        for key, label in CONTACT_REQUIRED.items():
            if not contact[key]:
                app.errors.setdefault(key, translate(label, locale))
        for e in service.form_errors(version, data):
            app.errors.setdefault(
                _error_key(e.field, version, codes), translate(e.message, locale, **e.params)
            )
        try:
            submission = DossierSubmit.model_validate(body)
        except ValidationError as exc:
            for err in exc.errors():
                key = _error_key(".".join(str(p) for p in err["loc"]), version, codes)
                app.errors.setdefault(key, _pydantic_message(err, key, locale))
            submission = None
        if app.errors or submission is None:
            keep_draft()
            return _application_page(
                request, session, actor, version, app, status_code=422, found=found
            )
        try:
            with session.begin_nested():
                result = service.submit_dossier(
                    session,
                    actor=actor,
                    data=submission,
                    settings=settings,
                    idempotency_key=f"page:{app.token}"[:200],
                    prefill=found,
                )
        except Invalid as exc:
            for e in exc.errors:
                key = _error_key(e.field, version, codes)
                app.errors.setdefault(key, translate(e.message, locale, **e.params))
            if not app.errors:
                app.errors["_form"] = translate(exc.message, locale, **exc.params)
            keep_draft()
            return _application_page(
                request, session, actor, version, app, status_code=422, found=found
            )
        drafts.discard_draft(session, actor=actor, procedure_code=version.code)
        return RedirectResponse(f"/ho-so-cua-toi/{result.dossier.code}?moi=1", status_code=303)
    finally:
        await form.close()


CONTACT_REQUIRED = {
    "street": N_("Chưa nhập địa chỉ nơi cư trú."),
    "address_unit": N_("Chưa chọn phường, xã, đặc khu nơi cư trú."),
}
CONTACT_LABELS = {
    "phone": N_("Số điện thoại"),
    "email": N_("Thư điện tử"),
    "street": N_("Địa chỉ nơi cư trú"),
    "address_unit": N_("Phường, xã, đặc khu nơi cư trú"),
    "unit_code": N_("Nơi giải quyết"),
}


def _pydantic_message(err: Any, key: str, locale: str) -> str:
    label = translate(CONTACT_LABELS.get(key, N_("Hồ sơ")), locale)
    kind = err.get("type", "")
    if kind in ("missing", "string_too_short"):
        return translate(N_("{label}: chưa nhập."), locale, label=label)
    if kind == "string_pattern_mismatch":
        return translate(N_("{label}: không đúng định dạng."), locale, label=label)
    return translate(N_("{label}: giá trị không hợp lệ."), locale, label=label)


# --- uploads with progress (used by the page's script) ----------------------------------------


@router.post("/tai-len")
async def upload(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    """One file from the page's upload script (XHR, progress shown); answers JSON with
    the file's sha256, which the form then carries in a hidden field."""
    if _declared_length(request) > settings.blob_max_bytes + MULTIPART_OVERHEAD:
        # Refused before the body is read (and spooled to disk).
        message = blobs.too_large(settings)
        return JSONResponse(
            {"error": translate(message.message, request_locale(request), **message.params)},
            status_code=413,
        )
    if actor.kind not in (ActorKind.CITIZEN, ActorKind.OFFICIAL):
        return JSONResponse(
            {
                "error": translate(
                    N_(
                        "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại; "
                        "bản nháp của bạn vẫn được giữ."
                    ),
                    request_locale(request),
                )
            },
            status_code=401,
        )
    verify_csrf(request, request.headers.get("x-csrf-token", ""))
    form = await request.form(max_files=1, max_fields=5)
    try:
        part = form.get("file")
        locale = request_locale(request)
        if not isinstance(part, UploadFile):
            return JSONResponse({"error": translate(N_("Chưa chọn tệp."), locale)}, status_code=422)
        data = await part.read(settings.blob_max_bytes + 1)
        try:
            blob = blobs.store_upload(
                session,
                get_blob_store(settings),
                actor=actor,
                data=data,
                filename=part.filename,
                declared_type=part.content_type,
                settings=settings,
            )
        except Invalid as exc:
            status = 413 if len(data) > settings.blob_max_bytes else 422
            return JSONResponse(
                {"error": translate(exc.message, locale, **exc.params)}, status_code=status
            )
        return JSONResponse({"sha256": blob.sha256, "filename": blob.filename, "size": blob.size})
    finally:
        await form.close()
