"""The Open311 GeoReport v2 server at ``/open311/v2`` (STANDARDS.md "Open311").

Every resource answers in ``.xml`` and ``.json``. Errors are the standard's list of
``{code, description}`` (``<errors><error>`` in XML), never problem+json: 400 for a bad or
missing parameter, 403 for a bad ``api_key``, 404 for an unknown code, id or token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cityhall.core.i18n import translate
from cityhall.errors import DomainError, FieldError, Invalid, NotFound
from cityhall.feedback import open311, queries, service
from cityhall.feedback.schemas import Open311RequestIn
from cityhall.web.deps import AppSettings, DbSession

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])

FORMATS = ("json", "xml")
_ATTRIBUTE = re.compile(r"^attribute\[([^\]\[]{1,64})\](\[\])?$")


class _Format(Exception):
    pass


def _split(name: str) -> tuple[str, str]:
    """``flood.street.json`` -> (``flood.street``, ``json``)."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in FORMATS or not stem:
        raise _Format
    return stem, fmt


def _locale(request: Request) -> str:
    from cityhall.web.deps import request_locale

    return request_locale(request)


def _body(root: str, value: Any, fmt: str, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(
            open311.to_xml(root, value), status_code=status, media_type="text/xml; charset=utf-8"
        )
    return Response(
        json.dumps(value, ensure_ascii=False),
        status_code=status,
        media_type="application/json; charset=utf-8",
    )


def _errors(request: Request, fmt: str, status: int, messages: list[str]) -> Response:
    return _body(
        "errors", [{"code": status, "description": m} for m in messages], fmt, status=status
    )


def _domain(request: Request, fmt: str, exc: DomainError) -> Response:
    locale = _locale(request)
    status = {404: 404, 403: 403, 401: 403}.get(exc.status, 400)
    messages = [f"{e.field}: {translate(e.message, locale, **e.params)}" for e in exc.errors] or [
        translate(exc.message, locale, **exc.params)
    ]
    return _errors(request, fmt, status, messages)


def _run(request: Request, fmt: str, build: Callable[[], Response]) -> Response:
    try:
        return build()
    except DomainError as exc:
        return _domain(request, fmt, exc)


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params.items())


def _jurisdiction(params: dict[str, str]) -> None:
    given = params.get("jurisdiction_id")
    if given and given != open311.JURISDICTION:
        raise NotFound("Không phục vụ jurisdiction_id “{id}”.", id=given[:64])


@router.get("/discovery.{fmt}", summary="Service discovery")
def discovery(request: Request, fmt: str, settings: AppSettings) -> Response:
    if fmt not in FORMATS:
        return _errors(request, "json", 404, ["Định dạng phải là .xml hoặc .json."])
    return _body("discovery", open311.discovery(settings), fmt)


@router.get("/services.{fmt}", summary="GET Service List")
def services(request: Request, fmt: str, session: DbSession) -> Response:
    if fmt not in FORMATS:
        return _errors(request, "json", 404, ["Định dạng phải là .xml hoặc .json."])

    def build() -> Response:
        _jurisdiction(_params(request))
        return _body("services", open311.services(session), fmt)

    return _run(request, fmt, build)


@router.get("/services/{name}", summary="GET Service Definition")
def service_definition(request: Request, name: str, session: DbSession) -> Response:
    try:
        code, fmt = _split(name)
    except _Format:
        return _errors(request, "json", 404, ["Định dạng phải là .xml hoặc .json."])

    def build() -> Response:
        _jurisdiction(_params(request))
        return _body("service_definition", open311.service_definition(session, code), fmt)

    return _run(request, fmt, build)


def _float(form: dict[str, Any], name: str) -> float | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise Invalid(errors=[FieldError(name, "Phải là một số thập phân.")]) from None


def _request_in(form: Any) -> Open311RequestIn:
    attributes: dict[str, str | list[str]] = {}
    plain: dict[str, Any] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            continue
        match = _ATTRIBUTE.match(key)
        if match:
            code, multi = match.group(1), match.group(2)
            if multi:
                current = attributes.setdefault(code, [])
                if isinstance(current, list):
                    current.append(value)
            else:
                attributes[code] = value
            continue
        plain[key] = value
    fields = (
        "service_code",
        "address_string",
        "address_id",
        "email",
        "device_id",
        "account_id",
        "first_name",
        "last_name",
        "phone",
        "description",
        "media_url",
    )
    data: dict[str, Any] = {k: plain[k].strip() or None for k in fields if k in plain}
    if not data.get("service_code"):
        raise Invalid(errors=[FieldError("service_code", "Thiếu service_code.")])
    data["lat"] = _float(plain, "lat")
    data["long"] = _float(plain, "long")
    data["attributes"] = attributes
    try:
        return Open311RequestIn.model_validate(data)
    except ValidationError as exc:
        raise Invalid(
            errors=[
                _problem(".".join(str(p) for p in e["loc"]) or "body", str(e["msg"]))
                for e in exc.errors()
            ]
        ) from None


def _problem(where: str, text: str) -> FieldError:
    return FieldError(where, text)


def _service_notice(session: Session, data: Open311RequestIn, public_id: str) -> str | None:
    if data.lat is None or data.long is None:
        return None
    near = [
        n
        for n in queries.nearby_open(session, data.service_code, data.lat, data.long)
        if n.public_id != public_id
    ]
    if not near:
        return None
    ids = ", ".join(n.public_id for n in near[:3])
    return f"Có {len(near)} phản ánh tương tự đang được xử lý gần vị trí này: {ids}."


@router.post("/requests.{fmt}", summary="POST Service Request")
async def post_request(
    request: Request, fmt: str, session: DbSession, settings: AppSettings
) -> Response:
    if fmt not in FORMATS:
        return _errors(request, "json", 404, ["Định dạng phải là .xml hoặc .json."])
    form = await request.form(max_files=0, max_fields=200)

    def build() -> Response:
        params = _params(request)
        _jurisdiction({**params, **{k: v for k, v in form.items() if isinstance(v, str)}})
        key = form.get("api_key") or params.get("api_key")
        client = service.authenticate_api_key(session, key if isinstance(key, str) else None)
        data = _request_in(form)
        with session.begin_nested():
            submitted = service.submit_open311(session, actor=client, data=data, settings=settings)
        item: dict[str, Any] = {"service_request_id": submitted.public_id}
        if submitted.token:
            item["token"] = submitted.token
        notice = _service_notice(session, data, submitted.public_id)
        if notice:
            item["service_notice"] = notice
        if data.account_id:
            item["account_id"] = data.account_id
        return _body("service_requests", [item], fmt)

    # The database work is synchronous: off the event loop, like FastAPI's sync routes.
    return await run_in_threadpool(_run, request, fmt, build)


@router.get("/requests.{fmt}", summary="GET Service Requests")
def get_requests(request: Request, fmt: str, session: DbSession, settings: AppSettings) -> Response:
    if fmt not in FORMATS:
        return _errors(request, "json", 404, ["Định dạng phải là .xml hoặc .json."])

    def build() -> Response:
        params = _params(request)
        _jurisdiction(params)
        return _body("service_requests", open311.list_requests(session, params, settings), fmt)

    return _run(request, fmt, build)


@router.get("/requests/{name}", summary="GET Service Request")
def get_request(request: Request, name: str, session: DbSession, settings: AppSettings) -> Response:
    try:
        public_id, fmt = _split(name)
    except _Format:
        return _errors(request, "json", 404, ["Định dạng phải là .xml hoặc .json."])

    def build() -> Response:
        params = _params(request)
        _jurisdiction(params)
        extensions = params.get("extensions", "").lower() == "true"
        docs = open311.get_request(session, public_id, settings, extensions=extensions)
        return _body("service_requests", docs, fmt)

    return _run(request, fmt, build)


@router.get("/tokens/{name}", summary="GET service_request_id from a token")
def get_token(request: Request, name: str, session: DbSession) -> Response:
    try:
        token, fmt = _split(name)
    except _Format:
        return _errors(request, "json", 404, ["Định dạng phải là .xml hoặc .json."])

    def build() -> Response:
        _jurisdiction(_params(request))
        return _body("service_requests", open311.token_lookup(session, token), fmt)

    return _run(request, fmt, build)


@router.get("/servicerequestupdates.{fmt}", summary="FixMyStreet: service request updates")
def request_updates(
    request: Request, fmt: str, session: DbSession, settings: AppSettings
) -> Response:
    if fmt not in FORMATS:
        return _errors(request, "json", 404, ["Định dạng phải là .xml hoặc .json."])

    def build() -> Response:
        params = _params(request)
        _jurisdiction(params)
        service.authenticate_api_key(session, params.get("api_key"))
        return _body("service_requests_updates", open311.updates(session, params, settings), fmt)

    return _run(request, fmt, build)
