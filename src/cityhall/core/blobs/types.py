"""Which files we accept, decided by their bytes, never by their name alone.

Accepted: PDF, PNG, JPEG, WebP, HEIC/HEIF, plain text and CSV (UTF-8), and the Office Open
XML documents DOCX and XLSX. A file's real type is sniffed with ``puremagic`` (magic
numbers); a ZIP is looked into to tell DOCX from XLSX from any other archive; text is text
if it decodes as UTF-8 without control characters. A declared type (the upload's
Content-Type) or a file name extension that contradicts the content is refused: an
executable renamed ``.pdf`` is an executable.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import puremagic

from cityhall.errors import Invalid

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
HEIC = "image/heic"
HEIF = "image/heif"
TEXT = "text/plain"
CSV = "text/csv"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class FileKind:
    content_type: str
    label: str  # what we call it in messages
    extensions: tuple[str, ...]
    aliases: tuple[str, ...] = ()  # other Content-Types clients send for it


KINDS: dict[str, FileKind] = {
    k.content_type: k
    for k in (
        FileKind(PDF, "PDF", (".pdf",), ("application/x-pdf",)),
        FileKind(PNG, "PNG", (".png",)),
        FileKind(JPEG, "JPEG", (".jpg", ".jpeg", ".jpe", ".jfif"), ("image/jpg", "image/pjpeg")),
        FileKind(WEBP, "WebP", (".webp",)),
        FileKind(HEIC, "HEIC", (".heic",), ("image/heic-sequence",)),
        FileKind(HEIF, "HEIF", (".heif",), ("image/heif-sequence",)),
        FileKind(TEXT, "văn bản thuần", (".txt", ".text", ".csv"), (CSV,)),
        FileKind(
            CSV,
            "CSV",
            (".csv", ".txt"),
            (TEXT, "application/csv", "text/x-csv", "application/vnd.ms-excel"),
        ),
        FileKind(DOCX, "Word (DOCX)", (".docx",)),
        FileKind(XLSX, "Excel (XLSX)", (".xlsx",)),
    )
}
# Any type is fine as a declaration when the client does not know better.
NO_CLAIM = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}
ALLOWED_LABELS = "PDF, PNG, JPEG, WebP, HEIC, văn bản (TXT, CSV), Word (DOCX), Excel (XLSX)"

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"heif"}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class Unaccepted(Exception):
    """The bytes are of a type we do not accept; ``what`` names it if it is known."""

    def __init__(self, what: str | None) -> None:
        self.what = what
        super().__init__(what or "unknown")


def _ooxml(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())  # the central directory only: nothing inflated
    except (zipfile.BadZipFile, ValueError):
        raise Unaccepted("ZIP hỏng") from None
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
    raise Unaccepted("tệp nén ZIP")


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return not any(ord(c) < 32 and c not in "\t\n\r\f" for c in text) and "\x7f" not in text


def sniff(data: bytes) -> str:
    """The content type of ``data`` among the accepted ones; :class:`Unaccepted` otherwise."""
    if data.startswith(_ZIP_MAGIC):
        return _ooxml(data)
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIC_BRANDS:
            return HEIC
        if brand in _HEIF_BRANDS:
            return HEIF
    try:
        matches = puremagic.magic_string(data)
    except (puremagic.PureError, ValueError):
        matches = []
    if matches:
        best = max(m.confidence for m in matches)
        top = [m for m in matches if m.confidence == best]
        for match in top:
            mime = (match.mime_type or "").lower()
            if mime in KINDS and mime not in (TEXT, CSV):
                return mime
        # Text has no magic number: a text file may match a weak pattern by chance.
        if _is_text(data):
            return TEXT
        raise Unaccepted(top[0].name or top[0].extension or None)
    if _is_text(data):
        return TEXT
    raise Unaccepted(None)


def _extension(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if "." not in name.strip("."):
        return ""
    return "." + name.rsplit(".", 1)[1].lower()


def resolve(data: bytes, *, filename: str, declared_type: str | None) -> str:
    """Sniff ``data`` and check it against the declared type and the file's extension.

    Returns the content type we store (text becomes CSV when named or declared so).
    Raises :class:`Invalid` with a message saying what the file really is.
    """
    declared = (declared_type or "").split(";", 1)[0].strip().lower()
    declared_kind = KINDS.get(declared)
    extension = _extension(filename)
    try:
        sniffed = sniff(data)
    except Unaccepted as exc:
        claimed = declared_kind or next(
            (k for k in KINDS.values() if extension and extension == k.extensions[0]), None
        )
        claim = claimed.label if claimed else None
        if claim and exc.what:
            raise Invalid(
                "Tệp được gửi như {claim} nhưng nội dung thực là «{actual}», loại tệp không "
                "được chấp nhận. Chỉ nhận: {allowed}.",
                claim=claim,
                actual=exc.what,
                allowed=ALLOWED_LABELS,
            ) from None
        if exc.what:
            raise Invalid(
                "Loại tệp «{actual}» không được chấp nhận. Chỉ nhận: {allowed}.",
                actual=exc.what,
                allowed=ALLOWED_LABELS,
            ) from None
        raise Invalid(
            "Không nhận ra loại tệp. Chỉ nhận: {allowed}.", allowed=ALLOWED_LABELS
        ) from None
    if sniffed == TEXT and (extension == ".csv" or declared in (CSV, "application/csv")):
        sniffed = CSV
    kind = KINDS[sniffed]
    if declared not in NO_CLAIM and declared != sniffed and declared not in kind.aliases:
        raise Invalid(
            "Tệp được khai báo là {declared} nhưng nội dung thực là {actual}. "
            "Vui lòng chọn đúng tệp.",
            declared=declared_kind.label if declared_kind else f"«{declared}»",
            actual=kind.label,
        )
    if extension and extension not in kind.extensions:
        raise Invalid(
            "Tên tệp có đuôi «{extension}» nhưng nội dung thực là {actual}. "
            "Vui lòng chọn đúng tệp.",
            extension=extension,
            actual=kind.label,
        )
    return sniffed
