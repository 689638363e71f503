"""Files: upload (multipart) and download, for officials. JSON API under /api/v1/blobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile
from unidecode import unidecode

from cityhall.core.actors import Actor
from cityhall.core.blobs import service
from cityhall.core.blobs.store import get_blob_store
from cityhall.errors import DomainError, FieldError, Invalid
from cityhall.web.auth import require_official
from cityhall.web.deps import AppSettings, DbSession

router = APIRouter(prefix="/api/v1/blobs", tags=["blobs"])

# Room for the multipart framing (boundaries, part headers) around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
INLINE_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/webp")


class TooLarge(DomainError):
    status = 413
    code = "too-large"
    default_message: ClassVar[str] = "Nội dung quá lớn."


class BlobOut(BaseModel):
    sha256: str = Field(description="SHA-256 of the content (hex): the file's key.")
    size: int = Field(description="Size in bytes.")
    content_type: str = Field(description="Type sniffed from the content.")
    filename: str = Field(description="File name given at the first upload.")


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str | None
    content_type: str | None


def _too_large(max_bytes: int) -> TooLarge:
    return TooLarge(
        "Tệp quá lớn: dung lượng tối đa là {max_mb} MB.", max_mb=service.megabytes(max_bytes)
    )


async def read_upload(request: Request, settings: AppSettings) -> Upload:
    """The ``file`` part of a multipart body, refused early (413) when the declared length
    already exceeds the limit, and again if the file turns out larger than it."""
    limit = settings.blob_max_bytes
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit + MULTIPART_OVERHEAD:
        raise _too_large(limit)
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise Invalid(
            "Tệp phải được gửi dạng multipart/form-data, trong trường «file».",
            errors=[FieldError("file", "Trường này là bắt buộc.")],
        )
    form = await request.form(max_files=1, max_fields=10)
    try:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise Invalid(errors=[FieldError("file", "Trường này là bắt buộc.")])
        data = await part.read(limit + 1)
        if len(data) > limit:
            raise _too_large(limit)
        return Upload(data, part.filename, part.content_type)
    finally:
        await form.close()


_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "",
    status_code=201,
    response_model=BlobOut,
    summary="Upload a file",
    description=(
        "Multipart field `file`. The type is sniffed from the content; accepted: PDF, PNG, "
        "JPEG, WebP, HEIC, text/CSV (UTF-8), DOCX, XLSX. The same content uploaded twice "
        "yields the same `sha256`. 413 when larger than `CITYHALL_BLOB_MAX_BYTES`."
    ),
    openapi_extra=_UPLOAD_BODY,
)
def upload_blob(
    actor: Annotated[Actor, Depends(require_official())],
    upload: Annotated[Upload, Depends(read_upload)],
    session: DbSession,
    settings: AppSettings,
) -> BlobOut:
    blob = service.store_upload(
        session,
        get_blob_store(settings),
        actor=actor,
        data=upload.data,
        filename=upload.filename,
        declared_type=upload.content_type,
        settings=settings,
    )
    return BlobOut(
        sha256=blob.sha256, size=blob.size, content_type=blob.content_type, filename=blob.filename
    )


def _disposition(content_type: str, filename: str) -> str:
    kind = "inline" if content_type in INLINE_TYPES else "attachment"
    fallback = unidecode(filename).replace('"', "").replace("\\", "") or "tep"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/{sha256}",
    summary="Download a file",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_blob(
    sha256: str,
    request: Request,
    actor: Annotated[Actor, Depends(require_official())],
    session: DbSession,
    settings: AppSettings,
) -> Response:
    blob = service.get_blob(session, sha256)
    etag = f'"{blob.sha256}"'
    headers = {
        "ETag": etag,
        # Content-addressed: the bytes behind a key never change.
        "Cache-Control": "private, max-age=31536000, immutable",
        "Content-Disposition": _disposition(blob.content_type, blob.filename),
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    media_type = blob.content_type
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    chunks = get_blob_store(settings).open(blob.sha256)
    headers["Content-Length"] = str(blob.size)
    return StreamingResponse(chunks, media_type=media_type, headers=headers)
