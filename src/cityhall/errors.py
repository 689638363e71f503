"""Domain errors. Services raise these; the web layer maps them to HTTP.

Messages are Vietnamese gettext message ids (Vietnamese is the source language, see
docs/adr/0004); ``params`` are interpolated after translation.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, ClassVar

from cityhall.core.i18n import N_


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; ``field`` is a dotted path such as ``address.ward``."""

    field: str
    message: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "error"
    default_message: ClassVar[str] = N_("Yêu cầu không hợp lệ.")

    def __init__(
        self,
        message: str | None = None,
        /,
        *,
        errors: list[FieldError] | None = None,
        extensions: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        self.message = message or self.default_message
        self.params = params
        self.errors = errors or []
        # Extra members of the problem document (RFC 9457), e.g. a dossier's state.
        self.extensions = extensions or {}
        super().__init__(self.message.format(**params) if params else self.message)


class NotFound(DomainError):
    status = 404
    code = "not-found"
    default_message = N_("Không tìm thấy.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = N_("Bạn không có quyền thực hiện thao tác này.")


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    default_message = N_("Cần đăng nhập.")


class Invalid(DomainError):
    status = 422
    code = "invalid"
    default_message = N_("Dữ liệu không hợp lệ.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = N_("Thao tác xung đột với trạng thái hiện tại.")


class TooManyRequests(DomainError):
    status = 429
    code = "too-many-requests"
    default_message = N_("Quá nhiều yêu cầu. Vui lòng thử lại sau.")

    def __init__(self, message: str | None = None, /, *, retry_after: int = 60, **params: Any):
        self.retry_after = retry_after
        super().__init__(message, **params)
