"""The development provider's authorization page: pick a demo citizen (simulates VNeID).

The page is the provider's own, on its own origin: it has its own CSRF cookie (signed with a
per-process key, limited to ``/authorize``) and never shares the portal's cookies.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cityhall.core.i18n import N_, negotiate, translate, translations
from cityhall.identity.eid.citizens import DEMO_CITIZENS
from cityhall.identity.eid.provider import (
    AuthorizationError,
    AuthorizationRequest,
    Provider,
    ProviderError,
)
from cityhall.web.templating import environment

CSRF_COOKIE = "eid_dev_csrf"
CSRF_FIELD = "csrf_token"
# What each scope lets the portal learn, as the consent page lists it.
SCOPE_LABELS = {
    "profile": N_("Họ và tên, ngày sinh, giới tính"),
    "pin": N_("Số định danh cá nhân"),
    "address": N_("Nơi cư trú hiện tại"),
    "phone": N_("Số điện thoại"),
}
GENDERS = {"male": N_("Nam"), "female": N_("Nữ")}


def _provider(request: Request) -> Provider:
    provider: Provider = request.app.state.provider
    return provider


def _locale(request: Request, params: dict[str, str] | None = None) -> str:
    wanted = request.query_params.get("lang") or (params or {}).get("ui_locales")
    return negotiate(wanted or request.headers.get("accept-language"))


def _signer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.csrf_key, salt="eid-dev-csrf")


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    locale: str,
    status_code: int = 200,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    trans = translations(locale)
    html = (
        environment()
        .get_template(template)
        .render(
            {
                "request": request,
                "locale": locale,
                "csrf_field": CSRF_FIELD,
                "csrf_token": token,
                "_": trans.gettext,
                "gettext": trans.gettext,
                "ngettext": trans.ngettext,
                **context,
            }
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Language"] = locale
    response.set_cookie(
        CSRF_COOKIE,
        _signer(request).dumps(token),
        httponly=True,
        samesite="strict",
        path="/authorize",
    )
    return response


def _csrf_ok(request: Request, submitted: object) -> bool:
    raw = request.cookies.get(CSRF_COOKIE)
    if not raw or not isinstance(submitted, str):
        return False
    try:
        expected = _signer(request).loads(raw)
    except BadSignature:
        return False
    return isinstance(expected, str) and hmac.compare_digest(expected, submitted)


def redirect_to_client(redirect_uri: str, params: dict[str, str]) -> RedirectResponse:
    """``redirect_uri`` with ``params`` added to its query (RFC 6749 3.1.2: keep its own)."""
    parts = urlsplit(redirect_uri)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return RedirectResponse(urlunsplit(parts._replace(query=urlencode(query))), status_code=303)


def _error_redirect(provider: Provider, exc: AuthorizationError) -> RedirectResponse:
    params = {"error": exc.error, "error_description": exc.description, "iss": provider.issuer}
    if exc.state is not None:
        params["state"] = exc.state
    return redirect_to_client(exc.redirect_uri, params)


def _error_page(request: Request, exc: ProviderError, locale: str) -> HTMLResponse:
    return render(
        request,
        "eid/error.html",
        {"message": translate(exc.message, locale)},
        locale=locale,
        status_code=400,
    )


def _consent(
    request: Request,
    auth: AuthorizationRequest,
    *,
    locale: str,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    provider = _provider(request)
    client = provider.clients[auth.client_id]
    return render(
        request,
        "eid/authorize.html",
        {
            "client_name": client.name,
            "hidden": auth.as_form(),
            "shared": [
                translate(label, locale) for s, label in SCOPE_LABELS.items() if s in auth.scopes
            ],
            "citizens": [
                {
                    "pin": c.pin,
                    "full_name": c.full_name,
                    "birth_date": c.birth_date.strftime("%d/%m/%Y"),
                    "gender": translate(GENDERS[c.gender], locale),
                    "address": c.address.formatted,
                }
                for c in DEMO_CITIZENS
            ],
            "error": error,
            "lang_switch": "en" if locale == "vi" else "vi",
            "query": urlencode(
                [(k, v) for k, v in request.query_params.items() if k != "lang"]
                or list(auth.as_form().items())
            ),
        },
        locale=locale,
        status_code=status_code,
    )


async def authorize(request: Request) -> Response:
    provider = _provider(request)
    if request.method == "GET":
        params = dict(request.query_params)
        locale = _locale(request, params)
        try:
            auth = provider.validate_authorization(params)
        except ProviderError as exc:
            return _error_page(request, exc, locale)
        except AuthorizationError as exc:
            return _error_redirect(provider, exc)
        return _consent(request, auth, locale=locale)

    form = await request.form()
    params = {k: v for k, v in form.items() if isinstance(v, str)}
    locale = _locale(request, params)
    origin = request.headers.get("origin")
    if (origin and origin != provider.origin) or not _csrf_ok(request, form.get(CSRF_FIELD)):
        expired = ProviderError(N_("Phiên biểu mẫu đã hết hạn. Vui lòng tải lại trang và thử lại."))
        page = _error_page(request, expired, locale)
        page.status_code = 403
        return page
    try:
        auth = provider.validate_authorization(params)
    except ProviderError as exc:
        return _error_page(request, exc, locale)
    except AuthorizationError as exc:
        return _error_redirect(provider, exc)
    if params.get("action") == "deny":
        return _error_redirect(
            provider,
            AuthorizationError(
                "access_denied",
                "the citizen declined to share their information",
                redirect_uri=auth.redirect_uri,
                state=auth.state,
            ),
        )
    try:
        code = provider.issue_code(auth, params.get("pin", ""))
    except ProviderError as exc:
        return _consent(
            request,
            auth,
            locale=locale,
            error=translate(exc.message, locale),
            status_code=422,
        )
    response_params = {"code": code, "iss": provider.issuer}
    if auth.state is not None:
        response_params["state"] = auth.state
    done = redirect_to_client(auth.redirect_uri, response_params)
    done.delete_cookie(CSRF_COOKIE, path="/authorize")
    return done
