"""The content-addressed blob store (a local folder and a real S3-speaking server), upload
checks, and the HTTP API."""

from __future__ import annotations

import hashlib
import io
import socket
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Actor, ActorKind, Role
from cityhall.core.audit import AuditEvent
from cityhall.core.blobs import types
from cityhall.core.blobs.models import Blob
from cityhall.core.blobs.service import megabytes, store_upload
from cityhall.core.blobs.store import (
    BlobCorrupted,
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
    get_blob_store,
)
from cityhall.errors import Invalid, NotFound

OFFICIAL = Actor(ActorKind.OFFICIAL, "42", "Cán bộ Trần Thị Bình")


# --- real bytes of real formats ---------------------------------------------------------------


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def pdf_bytes(text: str = "Giay xac nhan") -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def ooxml_bytes(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8 " + b"\x00" * 20
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 16
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
EXE = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00"


# --- the local store --------------------------------------------------------------------------


def test_local_round_trip_dedupe_and_fan_out(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    data = png_bytes()
    key = store.put(data)

    assert key == hashlib.sha256(data).hexdigest()
    assert (tmp_path / key[:2] / key[2:4] / key).read_bytes() == data
    assert store.put(data) == key  # idempotent
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [tmp_path / key[:2] / key[2:4] / key]
    assert store.exists(key)
    assert store.get(key) == data
    assert b"".join(store.open(key)) == data

    store.delete(key)
    store.delete(key)  # absent: nothing happens
    assert not store.exists(key)
    with pytest.raises(NotFound):
        store.get(key)


def test_local_store_detects_corruption_and_refuses_odd_keys(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    key = store.put(b"Bien nhan ho so 123")
    store.path(key).write_bytes(b"Bien nhan ho so 124")

    with pytest.raises(BlobCorrupted):
        store.get(key)
    with pytest.raises(BlobCorrupted):
        b"".join(store.open(key))
    # A rewritten (repaired) copy is accepted by put again.
    store.path(key).unlink()
    assert store.put(b"Bien nhan ho so 123") == key
    for odd in ("../../etc/passwd", key.upper(), key[:-1], ""):
        with pytest.raises(NotFound):
            store.get(odd)


def test_default_store_is_the_local_folder(settings: Settings) -> None:
    store = get_blob_store(settings)
    assert isinstance(store, LocalBlobStore)
    assert store.root == settings.blob_dir


# --- a real S3-speaking server (moto in server mode) -----------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str) -> Settings:
    return settings.model_copy(
        update={
            "blob_backend": "s3",
            "s3_endpoint_url": s3_endpoint,
            "s3_bucket": f"cityhall-{free_port()}",
            "s3_region": "ap-southeast-1",
            "s3_access_key_id": "test-key",
            "s3_secret_access_key": SecretStr("test-secret"),
        }
    )


def test_s3_round_trip_dedupe_and_integrity(s3_settings: Settings) -> None:
    store = get_blob_store(s3_settings)
    assert isinstance(store, S3BlobStore)
    store.ensure_bucket()
    data = pdf_bytes()

    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.put(data) == key
    assert store.exists(key)
    assert store.get(key) == data
    assert b"".join(store.open(key)) == data

    # Seen from outside, with a plain boto3 client: one object at the fanned-out key.
    raw = boto3.client(
        "s3",
        endpoint_url=s3_settings.s3_endpoint_url,
        region_name=s3_settings.s3_region,
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
    )
    listing = raw.list_objects_v2(Bucket=s3_settings.s3_bucket)
    assert [o["Key"] for o in listing.get("Contents", [])] == [f"blobs/{key[:2]}/{key[2:4]}/{key}"]
    # Tampered with in the bucket: detected on read.
    raw.put_object(Bucket=s3_settings.s3_bucket, Key=store.object_key(key), Body=b"tampered")
    with pytest.raises(BlobCorrupted):
        store.get(key)

    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(NotFound):
        store.get(key)


def test_upload_to_s3(session: Session, s3_settings: Settings) -> None:
    store = get_blob_store(s3_settings)
    assert isinstance(store, S3BlobStore)
    store.ensure_bucket()
    blob = store_upload(
        session,
        store,
        actor=OFFICIAL,
        data=png_bytes(),
        filename="ảnh chụp.png",
        declared_type="image/png",
        settings=s3_settings,
    )
    assert store.get(blob.sha256) == png_bytes()


# --- upload checks ------------------------------------------------------------------------


def upload(
    session: Session,
    store: BlobStore,
    settings: Settings,
    data: bytes,
    filename: str = "tep",
    declared_type: str | None = None,
) -> Blob:
    return store_upload(
        session,
        store,
        actor=OFFICIAL,
        data=data,
        filename=filename,
        declared_type=declared_type,
        settings=settings,
    )


@pytest.fixture
def local(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def test_same_content_twice_is_one_blob(
    session: Session, settings: Settings, local: LocalBlobStore
) -> None:
    data = pdf_bytes()
    first = upload(session, local, settings, data, "Giấy khai sinh.pdf", "application/pdf")
    second = upload(session, local, settings, data, "ban-sao.pdf", "application/pdf")

    assert first.sha256 == second.sha256 == hashlib.sha256(data).hexdigest()
    assert (first.size, first.content_type) == (len(data), "application/pdf")
    assert second.filename == "Giấy khai sinh.pdf"  # the first upload's name is kept
    assert first.created_by == "official:42"
    assert session.scalar(select(func.count()).select_from(Blob)) == 1
    assert local.get(first.sha256) == data
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "blob").order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.object_id, e.data["new"]) for e in events] == [
        ("blob.upload", first.sha256, True),
        ("blob.upload", first.sha256, False),
    ]
    assert events[0].actor_id == "42"


def test_size_limit(session: Session, settings: Settings, local: LocalBlobStore) -> None:
    small = settings.model_copy(update={"blob_max_bytes": 2 * 1024 * 1024})
    with pytest.raises(Invalid) as caught:
        upload(session, local, small, b"a" * (2 * 1024 * 1024 + 1), "a.txt")
    assert str(caught.value) == "Tệp quá lớn: dung lượng tối đa là 2 MB."
    assert upload(session, local, small, b"a" * (2 * 1024 * 1024), "a.txt").size == 2 * 1024 * 1024
    with pytest.raises(Invalid, match="rỗng"):
        upload(session, local, settings, b"", "a.txt")
    assert megabytes(20 * 1024 * 1024) == "20"
    assert megabytes(int(2.5 * 1024 * 1024)) == "2,5"


@pytest.mark.parametrize(
    ("data", "filename", "declared", "expected"),
    [
        (png_bytes(), "anh.png", "image/png", "image/png"),
        (png_bytes(), "anh", None, "image/png"),
        (pdf_bytes(), "don.pdf", "application/pdf", "application/pdf"),
        (pdf_bytes(), "don.PDF", "application/octet-stream", "application/pdf"),
        (JPEG, "the-can-cuoc.jpg", "image/jpeg", "image/jpeg"),
        (JPEG, "the-can-cuoc.jpeg", "image/jpg", "image/jpeg"),
        (WEBP, "anh.webp", "image/webp", "image/webp"),
        (HEIC, "IMG_0001.HEIC", "image/heic", "image/heic"),
        ("Xin chào thành phố\n".encode(), "ghi-chu.txt", "text/plain", "text/plain"),
        (b"ma_ho_so,ngay\n123,2026-11-23\n", "bang.csv", "text/csv", "text/csv"),
        (b"ma_ho_so,ngay\n123,2026-11-23\n", "bang.csv", "application/vnd.ms-excel", "text/csv"),
        (ooxml_bytes("word/document.xml"), "to-trinh.docx", None, types.DOCX),
        (ooxml_bytes("xl/workbook.xml"), "so-lieu.xlsx", types.XLSX, types.XLSX),
    ],
)
def test_accepted_types(
    session: Session,
    settings: Settings,
    local: LocalBlobStore,
    data: bytes,
    filename: str,
    declared: str | None,
    expected: str,
) -> None:
    assert upload(session, local, settings, data, filename, declared).content_type == expected


@pytest.mark.parametrize(
    ("data", "filename", "declared", "message"),
    [
        (
            ELF,
            "giay-to.pdf",
            "application/pdf",
            "Tệp được gửi như PDF nhưng nội dung thực là «ELF executable», loại tệp không "
            "được chấp nhận.",
        ),
        (EXE, "giay-to.pdf", None, "Tệp được gửi như PDF nhưng nội dung thực là «Windows"),
        (EXE, "setup.exe", None, "Loại tệp «Windows Executable» không được chấp nhận."),
        (png_bytes(), "anh.png", "application/pdf", "khai báo là PDF nhưng nội dung thực là PNG"),
        (pdf_bytes(), "don.png", None, "đuôi «.png» nhưng nội dung thực là PDF"),
        (
            ooxml_bytes("a.txt"),
            "tai-lieu.docx",
            None,
            "như Word (DOCX) nhưng nội dung thực là «tệp nén ZIP»",
        ),
        (ooxml_bytes("a.txt"), "a.zip", None, "Loại tệp «tệp nén ZIP» không được chấp nhận."),
        (b"\x00\x01\x02\x03\xfe\xfd", "x.bin", None, "Không nhận ra loại tệp."),
        (b"<html><script>alert(1)</script></html>", "trang.html", "text/html", "text/html"),
    ],
)
def test_refused_types(
    session: Session,
    settings: Settings,
    local: LocalBlobStore,
    data: bytes,
    filename: str,
    declared: str | None,
    message: str,
) -> None:
    with pytest.raises(Invalid) as caught:
        upload(session, local, settings, data, filename, declared)
    assert message in str(caught.value)
    assert session.scalar(select(func.count()).select_from(Blob)) == 0
    assert not any(p.is_file() for p in local.root.rglob("*")) if local.root.exists() else True


def test_filename_is_cleaned(session: Session, settings: Settings, local: LocalBlobStore) -> None:
    blob = upload(session, local, settings, png_bytes(), "C:\\Users\\an\\..\\ảnh\x00 thẻ.png")
    assert blob.filename == "ảnh thẻ.png"


# --- the HTTP API -------------------------------------------------------------------------


Headers = Callable[..., dict[str, str]]


def test_api_upload_and_download(client: TestClient, official_headers: Headers) -> None:
    headers = official_headers(role=Role.HANDLER)
    data = pdf_bytes("Quyet dinh")

    created = client.post(
        "/api/v1/blobs",
        files={"file": ("Quyết định số 12.pdf", data, "application/pdf")},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "content_type": "application/pdf",
        "filename": "Quyết định số 12.pdf",
    }
    again = client.post(
        "/api/v1/blobs", files={"file": ("khac.pdf", data, "application/pdf")}, headers=headers
    )
    assert again.status_code == 201
    assert again.json()["sha256"] == body["sha256"]

    fetched = client.get(f"/api/v1/blobs/{body['sha256']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["content-type"] == "application/pdf"
    assert fetched.headers["etag"] == f'"{body["sha256"]}"'
    assert "filename*=UTF-8''Quy%E1%BA%BFt" in fetched.headers["content-disposition"]
    cached = client.get(
        f"/api/v1/blobs/{body['sha256']}",
        headers={**headers, "If-None-Match": fetched.headers["etag"]},
    )
    assert cached.status_code == 304


def test_api_needs_an_official(client: TestClient) -> None:
    r = client.post("/api/v1/blobs", files={"file": ("a.png", png_bytes(), "image/png")})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/api/v1/blobs/{'0' * 64}").status_code == 401


def test_api_refuses_bad_files(client: TestClient, official_headers: Headers) -> None:
    headers = official_headers(role=Role.HANDLER)
    r = client.post(
        "/api/v1/blobs", files={"file": ("don.pdf", ELF, "application/pdf")}, headers=headers
    )
    assert r.status_code == 422
    assert "ELF executable" in r.json()["detail"]
    missing = client.get(f"/api/v1/blobs/{'0' * 64}", headers=headers)
    assert missing.status_code == 404
    assert client.get("/api/v1/blobs/..%2F..%2Fetc", headers=headers).status_code == 404
    no_file = client.post("/api/v1/blobs", data={"x": "1"}, headers=headers)
    assert no_file.status_code == 422


def test_api_refuses_too_large_early(
    client: TestClient, official_headers: Headers, settings: Settings
) -> None:
    headers = official_headers(role=Role.HANDLER)
    limit = settings.blob_max_bytes
    # Declared too large: refused from the Content-Length alone, before the body is read.
    r = client.post(
        "/api/v1/blobs",
        content=b"--x\r\n",
        headers={
            **headers,
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(limit + 1024 * 1024),
        },
    )
    assert r.status_code == 413
    assert "tối đa là" in r.json()["detail"]
