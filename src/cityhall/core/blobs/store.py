"""Content-addressed file storage: the key of a file is the SHA-256 (hex) of its bytes.

Two backends behind one Protocol: a local folder (default) and any S3-compatible object
store. Both are idempotent (putting the same bytes twice stores them once) and both check
integrity on read: bytes that no longer hash to their key raise :class:`BlobCorrupted`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from cityhall.config import Settings
from cityhall.errors import NotFound

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client

CHUNK = 1024 * 1024
_KEY = re.compile(r"^[0-9a-f]{64}$")


class BlobCorrupted(Exception):
    """Stored bytes do not match their key (bit rot, tampering, a truncated write)."""


def blob_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_key(key: str) -> str:
    """A key is 64 lowercase hex digits; anything else (e.g. ``../``) is refused."""
    if not _KEY.fullmatch(key):
        raise NotFound("Không tìm thấy tệp.")
    return key


def fan_out(key: str) -> str:
    """``ab/cd/abcd…``: keeps folders small however many files there are."""
    return f"{key[:2]}/{key[2:4]}/{key}"


def _verify(key: str, data: bytes) -> bytes:
    if blob_key(data) != key:
        raise BlobCorrupted(f"blob {key} is corrupted")
    return data


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store ``data``; return its key. Idempotent."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes of ``key`` (checked against the key); NotFound if absent."""
        ...

    def open(self, key: str) -> Iterator[bytes]:
        """The bytes of ``key`` in chunks, for streaming; checked at the end."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens if it is absent."""
        ...


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / fan_out(check_key(key))

    def put(self, data: bytes) -> str:
        key = blob_key(data)
        target = self.path(key)
        if target.is_file() and target.stat().st_size == len(data):
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then rename: readers never see a half-written file, and
        # two writers of the same content both end with the same complete file.
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o640)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return key

    def get(self, key: str) -> bytes:
        try:
            data = self.path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound("Không tìm thấy tệp.") from None
        return _verify(key, data)

    def open(self, key: str) -> Iterator[bytes]:
        path = self.path(key)
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            raise NotFound("Không tìm thấy tệp.") from None
        return _checked_chunks(key, _file_chunks(fh))

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()


def _file_chunks(fh: BinaryIO) -> Iterator[bytes]:
    with fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _checked_chunks(key: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != key:
        raise BlobCorrupted(f"blob {key} is corrupted")


class S3BlobStore:
    """Any S3-compatible store (AWS S3, MinIO, Ceph, SeaweedFS…) through boto3."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "blobs/") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=(
                settings.s3_secret_access_key.get_secret_value()
                if settings.s3_secret_access_key
                else None
            ),
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )
        return cls(client, settings.s3_bucket)

    def object_key(self, key: str) -> str:
        return self.prefix + fan_out(check_key(key))

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (development and tests)."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            region = self.client.meta.region_name
            if region and region != "us-east-1":
                self.client.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
                )
            else:
                self.client.create_bucket(Bucket=self.bucket)

    def put(self, data: bytes) -> str:
        key = blob_key(data)
        if self.exists(key):
            return key
        # The store checks the SHA-256 itself and refuses a body damaged on the way.
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.object_key(key),
            Body=data,
            ChecksumSHA256=base64.b64encode(bytes.fromhex(key)).decode(),
        )
        return key

    def _body(self, key: str) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise NotFound("Không tìm thấy tệp.") from None
            raise
        body = response["Body"]
        return _stream(body)

    def get(self, key: str) -> bytes:
        return _verify(key, b"".join(self._body(key)))

    def open(self, key: str) -> Iterator[bytes]:
        return _checked_chunks(key, self._body(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))


def _stream(body: StreamingBody) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


def get_blob_store(settings: Settings) -> BlobStore:
    if settings.blob_backend == "s3":
        return S3BlobStore.from_settings(settings)
    return LocalBlobStore(settings.blob_dir)
