"""Pydantic shapes of the engagement domain: a rating in and out, the reasons offered for
each level, and the rankings."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cityhall.core.i18n import N_
from cityhall.core.localtime import LocalDateTime


class Level(StrEnum):
    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    NOT_SATISFIED = "not_satisfied"


class SubjectKind(StrEnum):
    REPORT = "report"  # a feedback report (phản ánh, kiến nghị)
    DOSSIER = "dossier"  # a dossier (hồ sơ thủ tục hành chính)


LEVEL_LABELS: dict[Level, str] = {
    Level.VERY_SATISFIED: N_("Rất hài lòng"),
    Level.SATISFIED: N_("Hài lòng"),
    Level.NOT_SATISFIED: N_("Không hài lòng"),
}

# The fixed reasons a citizen may tick for each level (several at once).
REASONS: dict[Level, dict[str, str]] = {
    Level.VERY_SATISFIED: {
        "fast": N_("Giải quyết nhanh, trước hạn"),
        "friendly": N_("Cán bộ tận tình, thân thiện"),
        "clear": N_("Hướng dẫn, trả lời rõ ràng, dễ hiểu"),
        "transparent": N_("Dễ theo dõi tiến độ, thông tin minh bạch"),
    },
    Level.SATISFIED: {
        "on_time": N_("Giải quyết đúng hạn"),
        "met_needs": N_("Kết quả đáp ứng yêu cầu"),
        "easy": N_("Thủ tục, cách gửi đơn giản"),
        "transparent": N_("Dễ theo dõi tiến độ, thông tin minh bạch"),
    },
    Level.NOT_SATISFIED: {
        "late": N_("Giải quyết chậm, trễ hạn"),
        "unresolved": N_("Vấn đề chưa được giải quyết dứt điểm"),
        "unclear": N_("Trả lời không rõ ràng, chưa thỏa đáng"),
        "attitude": N_("Thái độ cán bộ chưa tốt"),
        "repeated": N_("Phải bổ sung, đi lại nhiều lần"),
    },
}

COMMENT_MAX = 1000


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Level = Field(description="very_satisfied, satisfied hoặc not_satisfied.")
    reasons: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Mã lý do (GET /api/v1/ratings/reasons), thuộc đúng mức đã chọn.",
    )
    comment: str | None = Field(None, max_length=COMMENT_MAX, description="Góp ý thêm.")

    @field_validator("comment")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @field_validator("reasons")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(r.strip() for r in value if r.strip()))


class RatingOut(BaseModel):
    subject_kind: SubjectKind
    subject_ref: str
    level: Level
    level_label: str
    reasons: list[str]
    reason_labels: list[str]
    comment: str | None
    rated_at: LocalDateTime
    changed_at: LocalDateTime | None
    changeable_until: LocalDateTime | None = Field(
        description="Đến lúc này người đánh giá còn sửa được; null: không sửa được nữa."
    )


class ReasonOut(BaseModel):
    code: str
    label: str


class LevelOut(BaseModel):
    level: Level
    label: str
    reasons: list[ReasonOut]


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Period(BaseModel):
    kind: PeriodKind
    key: str = Field(description="2026-11 (tháng), 2026-Q4 (quý) hoặc 2026 (năm).")
    label: str
    start: date
    end: date  # exclusive


class RankingKind(StrEnum):
    WARDS = "wards"
    AGENCIES = "agencies"


class RankingSort(StrEnum):
    RANK = "rank"
    NAME = "name"
    RATINGS = "ratings"
    SATISFACTION = "satisfaction"
    DOSSIERS_ON_TIME = "dossiers_on_time"
    REPORTS_ON_TIME = "reports_on_time"


class RankingRow(BaseModel):
    code: str = Field(description="Mã phường, xã (5 chữ số) hoặc mã cơ quan.")
    name: str
    rank: int | None = Field(description="Hạng theo tỷ lệ hài lòng; null khi chưa đủ mẫu.")
    ratings: int
    very_satisfied: int
    satisfied: int
    not_satisfied: int
    satisfaction: float | None = Field(description="(Rất hài lòng + hài lòng) / số đánh giá.")
    dossiers_finished: int
    dossiers_on_time: float | None = Field(description="Hồ sơ trả kết quả đúng hạn / đã trả.")
    reports_answered: int
    reports_on_time: float | None = Field(description="Phản ánh trả lời đúng hạn / đã trả lời.")


class Rankings(BaseModel):
    kind: RankingKind
    period: Period
    min_ratings: int = Field(description="Số đánh giá tối thiểu để được xếp hạng.")
    sort: RankingSort
    descending: bool
    rows: list[RankingRow]
    total_ratings: int
    satisfaction: float | None = Field(description="Tỷ lệ hài lòng chung của kỳ.")
