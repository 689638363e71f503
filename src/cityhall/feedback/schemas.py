"""Pydantic shapes of the feedback domain: reports in (one per channel), reports out (for the
staff, for the reporter, for the public), categories (Open311 services) and their questions.

What the public may see is a separate shape (``PublicReport``): moderated text only, never the
reporter's identity or contact, never unmoderated text. See docs/domains/feedback.md.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cityhall.core.localtime import LocalDateTime
from cityhall.core.notify.channels import valid_email

# The city's extent (HCMC after 1 July 2025 incl. Bình Dương, Bà Rịa–Vũng Tàu and Côn Đảo).
LAT_MIN, LAT_MAX = 8.4, 11.6
LONG_MIN, LONG_MAX = 106.0, 107.8

PUBLIC_ID_PATTERN = r"^PA-\d{4}-\d{6,}$"
PHONE_PATTERN = r"^(\+84|0)\d{9,10}$"
MAX_PHOTOS = 6
MAX_DESCRIPTION = 4000


class State(StrEnum):
    """The report's workflow state (the public and Open311 see open/closed + a note)."""

    NEW = "new"  # received, routing pending (a job forwards it within minutes)
    DISPATCH = "dispatch"  # unclear: waits in the city's dispatch queue
    ASSIGNED = "assigned"  # in the responsible unit's inbox
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"  # answered (reply + photos of the result)
    REJECTED = "rejected"  # not the city's business, with a reason
    REOPENED = "reopened"  # the reporter reopened it after the answer (acts like assigned)
    MERGED = "merged"  # a duplicate: points to the original, closed


OPEN_STATES = frozenset(
    {State.NEW, State.DISPATCH, State.ASSIGNED, State.IN_PROGRESS, State.REOPENED}
)
CLOSED_STATES = frozenset({State.RESOLVED, State.REJECTED, State.MERGED})


class Moderation(StrEnum):
    PENDING = "pending"  # nothing public yet
    APPROVED = "approved"  # the moderated description and the photos are public
    HIDDEN = "hidden"  # never public (abuse, personal matter); the workflow continues


class Channel(StrEnum):
    WEB = "web"  # the citizen portal (and the installable app)
    PHONE = "phone"  # the 1022 hotline, entered by an operator
    EMAIL = "email"  # entered by an operator
    SOCIAL = "social"  # entered by an operator (social media)
    OPEN311 = "open311"  # any API client with a key


class AgencyType(StrEnum):
    """Who is responsible for a category: the ward's committee or a named city body."""

    WARD = "ward"  # the People's Committee of the ward, commune or special zone of the point
    CITY = "city"  # a named city body (department, police…): ``agency_code``
    DISPATCH = "dispatch"  # always the city's dispatch queue (a dispatcher decides)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- categories (Open311 services) -------------------------------------------------------


class AttributeValue(_Out):
    key: str
    name: str


class AttributeOut(_Out):
    """One extra question of a category (an Open311 service definition attribute)."""

    code: str
    variable: bool = True
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str | None = None
    order: int
    description: str
    values: list[AttributeValue] = Field(default_factory=list)


class CategoryOut(_Out):
    code: str = Field(description="Mã lĩnh vực phản ánh (Open311 service_code).")
    name: str
    group_code: str
    group: str = Field(description="Tên nhóm lĩnh vực.")
    description: str
    keywords: list[str]
    agency_type: AgencyType
    agency_code: str | None = Field(description="Cơ quan cấp thành phố phụ trách (nếu có).")
    answer_days: int = Field(description="Thời hạn trả lời (ngày làm việc).")
    duplicate_radius_m: int
    anonymous_allowed: bool
    attributes: list[AttributeOut] = Field(default_factory=list)


class CategoryGroupOut(_Out):
    code: str
    name: str
    categories: list[CategoryOut]


# --- intake ------------------------------------------------------------------------------

AttributeAnswers = dict[str, str | list[str]]


class _Location(_In):
    lat: float | None = Field(None, ge=LAT_MIN, le=LAT_MAX, description="Vĩ độ (WGS 84).")
    long: float | None = Field(None, ge=LONG_MIN, le=LONG_MAX, description="Kinh độ (WGS 84).")
    address: str | None = Field(
        None, min_length=3, max_length=300, description="Địa chỉ khi không có tọa độ."
    )
    # A point or an address is required: the service checks it, with the other problems.


def _check_email(value: str | None) -> str | None:
    if value is not None and value != "" and not valid_email(value):
        raise ValueError("Địa chỉ thư điện tử không hợp lệ.")
    return value or None


class PortalReportIn(_Location):
    """A report from the citizen portal. The reporter is the logged-in citizen (``actor``)
    unless ``anonymous`` (allowed only when the category allows it, or when nobody is logged
    in and the category allows it)."""

    category_code: str = Field(pattern=r"^[a-z0-9_.-]{2,64}$")
    description: str = Field(
        min_length=1, max_length=MAX_DESCRIPTION, description="Nội dung, ít nhất 10 ký tự."
    )
    attributes: AttributeAnswers = Field(default_factory=dict)
    photos: list[str] = Field(
        default_factory=list,
        max_length=MAX_PHOTOS,
        description="SHA-256 of photos stored with service.store_photo.",
    )
    anonymous: bool = False
    # Optional contact left by an anonymous reporter (used only for notifications).
    contact_email: str | None = Field(None, max_length=254)
    contact_phone: str | None = Field(None, pattern=PHONE_PATTERN)
    # A nonce from the form: the same nonce submitted twice yields the same report.
    submission_key: str | None = Field(None, min_length=8, max_length=64)

    _email = field_validator("contact_email")(_check_email)


class HotlineReportIn(_Location):
    """A call (or an e-mail, a social-media message) entered by a hotline operator."""

    category_code: str = Field(pattern=r"^[a-z0-9_.-]{2,64}$")
    description: str = Field(
        min_length=1, max_length=MAX_DESCRIPTION, description="Nội dung, ít nhất 10 ký tự."
    )
    attributes: AttributeAnswers = Field(default_factory=dict)
    channel: Literal["phone", "email", "social"] = "phone"
    caller_name: str | None = Field(None, min_length=2, max_length=200)
    caller_phone: str | None = Field(None, pattern=PHONE_PATTERN)
    caller_email: str | None = Field(None, max_length=254)
    anonymous: bool = Field(False, description="Người gọi không muốn nêu danh tính.")
    submission_key: str | None = Field(None, min_length=8, max_length=64)

    _email = field_validator("caller_email")(_check_email)


class Open311RequestIn(_In):
    """POST /open311/v2/requests (form fields, already parsed; ``attribute[CODE]`` and
    ``attribute[CODE][]`` gathered into ``attributes``)."""

    service_code: str = Field(min_length=1, max_length=64)
    lat: float | None = None
    long: float | None = None
    address_string: str | None = Field(None, max_length=300)
    address_id: str | None = Field(None, max_length=64)
    attributes: AttributeAnswers = Field(default_factory=dict)
    email: str | None = Field(None, max_length=254)
    device_id: str | None = Field(None, max_length=128)
    account_id: str | None = Field(None, max_length=128)
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=32)
    description: str | None = Field(None, max_length=MAX_DESCRIPTION)
    media_url: str | None = Field(None, max_length=1000)


class Submitted(BaseModel):
    """What intake returns. ``token`` is the tracking token in clear: shown once (the tracking
    link), stored only as its SHA-256. ``replayed`` is true when an identical retry returned
    the report created earlier (then ``token`` is None: it cannot be shown again)."""

    public_id: str
    report_id: int
    token: str | None
    replayed: bool = False
    service_notice: str | None = None


# --- staff actions -----------------------------------------------------------------------


class Action(StrEnum):
    ASSIGN = "assign"  # from the dispatch queue to a unit (dispatcher)
    REASSIGN = "reassign"  # to another unit, reason required
    START = "start"  # assigned/reopened -> in progress
    PROGRESS = "progress"  # progress report with a committed date (stays in progress)
    RESOLVE = "resolve"  # reply + photos of the result
    REJECT = "reject"  # reason required
    MERGE = "merge"  # a duplicate into its original
    MODERATE = "moderate"  # redacted public text, approve or hide
    REOPEN = "reopen"  # the reporter, within the window
    ESCALATE = "escalate"  # the periodic job: overdue -> the unit's head


class ActionIn(_In):
    """The fields of a staff action; each action reads the ones it needs."""

    note: str | None = Field(None, max_length=MAX_DESCRIPTION, description="Nội dung, lý do.")
    agency_code: str | None = Field(None, pattern=r"^\d{3}\.\d{2}\.\d{2}\.H29$")
    committed_date: date | None = Field(None, description="Ngày cam kết hoàn thành.")
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS)
    into_public_id: str | None = Field(None, pattern=PUBLIC_ID_PATTERN)
    public_description: str | None = Field(None, max_length=MAX_DESCRIPTION)
    approve: bool | None = None


# --- reads -------------------------------------------------------------------------------


class AgencyRef(_Out):
    code: str
    name: str


class HistoryItem(_Out):
    """One change, as the public may see it (no personal data: no names, no contacts)."""

    seq: int
    action: str
    action_label: str
    state: State
    state_label: str
    at: LocalDateTime
    note: str | None = Field(description="Trả lời, lý do, cam kết (văn bản công khai).")
    committed_date: date | None = None
    photos: list[str] = Field(default_factory=list, description="SHA-256 ảnh kết quả.")
    actor: str | None = Field(None, description="Người thực hiện (chỉ cán bộ thấy).")


class PublicReport(_Out):
    """A report as anyone may see it once moderated."""

    public_id: str
    category_code: str
    category_name: str
    group: str
    state: State
    state_label: str
    open: bool
    description: str = Field(description="Nội dung đã được kiểm duyệt.")
    lat: float | None
    long: float | None
    address: str | None
    unit_code: str | None
    unit_name: str | None
    agency: AgencyRef | None
    received_at: LocalDateTime
    updated_at: LocalDateTime
    due_at: LocalDateTime | None
    resolved_at: LocalDateTime | None
    overdue: bool
    photos: list[str] = Field(default_factory=list, description="SHA-256 ảnh (đã duyệt).")
    duplicate_of: str | None = None
    followers: int = 0
    history: list[HistoryItem] = Field(default_factory=list)


class PublicQuery(_In):
    category_code: str | None = Field(None, max_length=64)
    group_code: str | None = Field(None, max_length=64)
    status: Literal["open", "closed"] | None = None
    state: State | None = None
    unit_code: str | None = Field(None, pattern=r"^\d{5}$", description="Phường, xã.")
    # bbox: south, west, north, east
    bbox: tuple[float, float, float, float] | None = None
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(50, ge=1, le=1000)


class PublicListItem(_Out):
    public_id: str
    category_code: str
    category_name: str
    state: State
    state_label: str
    open: bool
    summary: str = Field(description="Đầu nội dung đã kiểm duyệt (tối đa 200 ký tự).")
    lat: float | None
    long: float | None
    unit_code: str | None
    unit_name: str | None
    received_at: LocalDateTime
    overdue: bool


class PublicPage(_Out):
    items: list[PublicListItem]
    total: int
    page: int
    page_size: int

    def geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection of the items that have a point."""
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [i.long, i.lat]},
                    "properties": {
                        "public_id": i.public_id,
                        "category_code": i.category_code,
                        "category_name": i.category_name,
                        "state": i.state.value,
                        "state_label": i.state_label,
                        "open": i.open,
                        "summary": i.summary,
                        "unit_name": i.unit_name,
                        "overdue": i.overdue,
                    },
                }
                for i in self.items
                if i.lat is not None and i.long is not None
            ],
        }


class NearbyReport(_Out):
    """An open, public report of the same category near a point (the duplicates hint)."""

    public_id: str
    category_code: str
    category_name: str
    state: State
    state_label: str
    summary: str
    distance_m: int
    received_at: LocalDateTime
    followers: int


class TrackedReport(_Out):
    """What the reporter sees (by tracking token, or logged in as the reporter): their own
    text as sent, the public history, and what they may still do."""

    public_id: str
    category_code: str
    category_name: str
    state: State
    state_label: str
    open: bool
    description: str
    public_description: str | None
    moderation: Moderation
    lat: float | None
    long: float | None
    address: str | None
    unit_name: str | None
    agency: AgencyRef | None
    received_at: LocalDateTime
    due_at: LocalDateTime | None
    resolved_at: LocalDateTime | None
    committed_date: date | None
    duplicate_of: str | None
    photos: list[str]
    history: list[HistoryItem]
    can_reopen: bool
    reopen_until: LocalDateTime | None
    can_rate: bool = Field(description="Đã có kết quả: người phản ánh có thể đánh giá.")


class OwnReportItem(_Out):
    public_id: str
    category_name: str
    state: State
    state_label: str
    received_at: LocalDateTime
    updated_at: LocalDateTime
    following: bool = Field(description="Theo dõi phản ánh của người khác (không phải tự gửi).")


class RatingTarget(_Out):
    """For ``cityhall.engagement``: a resolved (or rejected) report its reporter may rate."""

    report_id: int
    public_id: str
    agency_code: str
    unit_code: str | None
    category_code: str
    resolved_at: datetime
    on_time: bool
    rater_key: str = Field(
        description="Who rates: 'citizen:<id>' or 'token:<report id>' (one rating each)."
    )


class AgencyStats(_Out):
    """Answered reports of one agency in a period (for rankings): the on-time rate."""

    agency_code: str
    agency_name: str
    unit_code: str | None
    received: int
    answered: int
    answered_on_time: int
    open_overdue: int
    median_forward_seconds: float | None
    median_answer_hours: float | None


# --- staff reads -------------------------------------------------------------------------


class InboxQuery(_In):
    state: list[State] = Field(default_factory=list)
    overdue: bool | None = None
    category_code: str | None = Field(None, max_length=64)
    agency_code: str | None = Field(None, pattern=r"^\d{3}\.\d{2}\.\d{2}\.H29$")
    moderation: Moderation | None = None
    q: str | None = Field(None, min_length=2, max_length=100)
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=100)


class InboxItem(_Out):
    public_id: str
    category_name: str
    state: State
    state_label: str
    moderation: Moderation
    channel: Channel
    summary: str
    agency_code: str | None
    unit_name: str | None
    received_at: LocalDateTime
    due_at: LocalDateTime | None
    overdue: bool
    escalated: bool


class InboxPage(_Out):
    items: list[InboxItem]
    total: int
    page: int
    page_size: int


class StaffReport(_Out):
    """A report as the responsible staff see it (personal data: the read is audited)."""

    id: int
    public_id: str
    category: CategoryOut
    channel: Channel
    state: State
    state_label: str
    moderation: Moderation
    description: str
    public_description: str | None
    attributes: dict[str, Any]
    anonymous: bool
    reporter_name: str | None
    reporter_phone: str | None
    reporter_email: str | None
    lat: float | None
    long: float | None
    address: str | None
    unit_code: str | None
    unit_name: str | None
    routing_note: str | None
    agency: AgencyRef | None
    received_at: LocalDateTime
    forwarded_at: LocalDateTime | None
    due_at: LocalDateTime | None
    committed_date: date | None
    resolved_at: LocalDateTime | None
    escalated_at: LocalDateTime | None
    overdue: bool
    duplicate_of: str | None
    duplicates: list[str]
    photos: list[str]
    result_photos: list[str]
    history: list[HistoryItem]
    allowed_actions: list[Action]
