"""Uploads: the only write path for blobs."""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core import audit
from cityhall.core.actors import Actor
from cityhall.core.blobs.models import Blob
from cityhall.core.blobs.store import BlobStore, check_key
from cityhall.core.blobs.types import resolve
from cityhall.errors import Invalid, NotFound

MAX_FILENAME = 255


def megabytes(size: int) -> str:
    """``20``, ``2,5``, ``0,01``: a size in MB written the Vietnamese way."""
    value = size / (1024 * 1024)
    text = f"{value:.0f}" if value >= 10 else f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if text != "0" else "0,01"


def too_large(settings: Settings) -> Invalid:
    return Invalid(
        "Tệp quá lớn: dung lượng tối đa là {max_mb} MB.", max_mb=megabytes(settings.blob_max_bytes)
    )


def clean_filename(filename: str | None) -> str:
    """The last path component, without control characters, at most 255 characters
    (keeping the extension); ``tep`` if nothing is left."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and len(ext) <= 16:
            name = stem[: MAX_FILENAME - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME]
    return name or "tep"


def store_upload(
    session: Session,
    store: BlobStore,
    *,
    actor: Actor,
    data: bytes,
    filename: str | None,
    declared_type: str | None,
    settings: Settings,
) -> Blob:
    """Check, store and record an uploaded file. The same content uploaded again yields the
    same blob (and key); each upload is audited."""
    if len(data) > settings.blob_max_bytes:
        raise too_large(settings)
    if not data:
        raise Invalid("Tệp rỗng.")
    name = clean_filename(filename)
    content_type = resolve(data, filename=name, declared_type=declared_type)
    # The file first, then the row: a committed row always has its bytes. A rolled-back
    # upload leaves an unreferenced file, harmless (content-addressed) and collectable.
    key = store.put(data)
    created = session.execute(
        insert(Blob)
        .values(
            sha256=key,
            size=len(data),
            content_type=content_type,
            filename=name,
            created_by=f"{actor.kind.value}:{actor.id}" if actor.id else actor.kind.value,
        )
        .on_conflict_do_nothing(index_elements=[Blob.sha256])
        .returning(Blob.sha256)
    ).scalar_one_or_none()
    blob = session.scalars(select(Blob).where(Blob.sha256 == key)).one()
    audit.record(
        session,
        actor=actor,
        action="blob.upload",
        object_type="blob",
        object_id=key,
        data={
            "size": len(data),
            "content_type": content_type,
            "filename": name,
            "new": created is not None,
        },
    )
    return blob


def get_blob(session: Session, sha256: str) -> Blob:
    blob = session.get(Blob, check_key(sha256))
    if blob is None:
        raise NotFound("Không tìm thấy tệp.")
    return blob
