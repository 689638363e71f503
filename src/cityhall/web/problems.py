"""Map every error to RFC 9457 ``application/problem+json`` (an HTML page for pages)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityhall.core.context import current_request_id
from cityhall.core.i18n import N_, translate
from cityhall.errors import DomainError, FieldError, TooManyRequests
from cityhall.web.deps import request_locale

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

# Vietnamese messages for pydantic's error types (translated to English by the catalog).
_VALIDATION_MESSAGES: dict[str, str] = {
    "missing": N_("Trường này là bắt buộc."),
    "extra_forbidden": N_("Trường này không được chấp nhận."),
    "json_invalid": N_("Nội dung JSON không hợp lệ: {error}."),
    "json_type": N_("Nội dung phải là JSON."),
    "model_attributes_type": N_("Phải là một đối tượng JSON."),
    "dict_type": N_("Phải là một đối tượng JSON."),
    "list_type": N_("Phải là một danh sách."),
    "string_type": N_("Phải là chuỗi ký tự."),
    "string_too_short": N_("Phải có ít nhất {min_length} ký tự."),
    "string_too_long": N_("Không được dài quá {max_length} ký tự."),
    "string_pattern_mismatch": N_("Không đúng định dạng."),
    "int_type": N_("Phải là số nguyên."),
    "int_parsing": N_("Phải là số nguyên."),
    "int_from_float": N_("Phải là số nguyên."),
    "float_type": N_("Phải là số."),
    "float_parsing": N_("Phải là số."),
    "bool_type": N_("Phải là true hoặc false."),
    "bool_parsing": N_("Phải là true hoặc false."),
    "greater_than": N_("Phải lớn hơn {gt}."),
    "greater_than_equal": N_("Phải lớn hơn hoặc bằng {ge}."),
    "less_than": N_("Phải nhỏ hơn {lt}."),
    "less_than_equal": N_("Phải nhỏ hơn hoặc bằng {le}."),
    "literal_error": N_("Phải là một trong các giá trị: {expected}."),
    "enum": N_("Phải là một trong các giá trị: {expected}."),
    "date_type": N_("Phải là ngày theo dạng YYYY-MM-DD."),
    "date_parsing": N_("Phải là ngày theo dạng YYYY-MM-DD."),
    "date_from_datetime_parsing": N_("Phải là ngày theo dạng YYYY-MM-DD."),
    "datetime_type": N_("Phải là thời điểm theo chuẩn ISO 8601."),
    "datetime_parsing": N_("Phải là thời điểm theo chuẩn ISO 8601."),
    "uuid_parsing": N_("Phải là một UUID."),
    "value_error": N_("Giá trị không hợp lệ: {error}."),
}
_FALLBACK = N_("Giá trị không hợp lệ.")
_DATA_ERROR = N_("Một giá trị trong yêu cầu nằm ngoài giới hạn cho phép.")

_TITLES = {
    400: N_("Yêu cầu không hợp lệ."),
    401: N_("Cần đăng nhập."),
    403: N_("Bạn không có quyền thực hiện thao tác này."),
    404: N_("Không tìm thấy."),
    405: N_("Phương thức không được hỗ trợ."),
    409: N_("Thao tác xung đột với trạng thái hiện tại."),
    413: N_("Nội dung quá lớn."),
    415: N_("Kiểu nội dung không được hỗ trợ."),
    422: N_("Dữ liệu không hợp lệ."),
    429: N_("Quá nhiều yêu cầu. Vui lòng thử lại sau."),
    500: N_("Đã có lỗi ở phía hệ thống. Vui lòng thử lại sau."),
}


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        source, rest = parts[0], parts[1:]
        if source == "body" and not rest:
            return "body"
        if source == "body" and rest and rest[0].isdigit() and len(rest) == 1:
            return f"body (vị trí {rest[0]})"
        return ".".join(rest) if rest else source
    return ".".join(parts)


def problem(
    request: Request,
    status: int,
    *,
    code: str,
    title: str | None = None,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response:
    locale = request_locale(request)
    body: dict[str, Any] = {
        "type": f"https://cityhall.hochiminhcity.gov.vn/problems/{code}",
        "title": translate(title or _TITLES.get(status, _TITLES[400]), locale),
        "status": status,
        "code": code,
        "instance": request.url.path,
        "request_id": current_request_id(),
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    for key, value in (extensions or {}).items():
        body.setdefault(key, value)
    if wants_html(request):
        from cityhall.web.templating import render

        return render(request, "error.html", {"problem": body, "actor": None}, status_code=status)
    response = JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)
    response.headers["Content-Language"] = locale
    return response


def wants_html(request: Request) -> bool:
    """Pages get an HTML error page; the API (and anything not asking for HTML) gets JSON."""
    path = request.url.path
    if path.startswith(("/api/", "/open311/", "/openapi")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _field_errors(request: Request, errors: list[FieldError]) -> list[dict[str, str]]:
    locale = request_locale(request)
    return [{"field": e.field, "message": translate(e.message, locale, **e.params)} for e in errors]


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    locale = request_locale(request)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    if exc.status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return problem(
        request,
        exc.status,
        code=exc.code,
        detail=translate(exc.message, locale, **exc.params),
        errors=_field_errors(request, exc.errors) or None,
        headers=headers,
        extensions=exc.extensions,
    )


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    locale = request_locale(request)
    items: list[dict[str, str]] = []
    malformed = False
    for err in exc.errors():
        kind = str(err.get("type", ""))
        malformed = malformed or kind in {"json_invalid", "json_type"}
        ctx = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
        template = _VALIDATION_MESSAGES.get(kind, _FALLBACK)
        try:
            message = translate(template, locale, **ctx)
        except (KeyError, IndexError):
            message = translate(_FALLBACK, locale)
        items.append({"field": _field_path(err.get("loc", ())), "message": message})
    status = 400 if malformed else 422
    detail = "; ".join(f"{i['field']}: {i['message']}" for i in items)
    return problem(
        request,
        status,
        code="malformed-json" if malformed else "invalid",
        title=_TITLES[status],
        detail=detail,
        errors=items,
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
        exc.status_code, "http-error"
    )
    detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
    return problem(
        request,
        exc.status_code,
        code=code,
        detail=detail,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def data_error(request: Request, exc: Exception) -> Response:
    """The database refused a value (out of range, malformed): the input was bad, and a
    route let it through unvalidated. Logged so the route can be given a precise check."""
    log.warning("database rejected input", exc_info=exc)
    return problem(
        request, 400, code="invalid-value", detail=translate(_DATA_ERROR, request_locale(request))
    )


async def unhandled_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return problem(request, 500, code="internal-error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DataError, data_error)
    app.add_exception_handler(Exception, unhandled_error)
