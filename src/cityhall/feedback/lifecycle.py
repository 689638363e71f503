"""The report's states and actions as a table, their labels, and how they map onto Open311
(open/closed) and FixMyStreet's update statuses. Pure: no I/O."""

from __future__ import annotations

from cityhall.core.i18n import N_
from cityhall.feedback.schemas import CLOSED_STATES, OPEN_STATES, Action, State

STATE_LABELS: dict[State, str] = {
    State.NEW: N_("Mới tiếp nhận"),
    State.DISPATCH: N_("Chờ điều phối"),
    State.ASSIGNED: N_("Đã chuyển đơn vị xử lý"),
    State.IN_PROGRESS: N_("Đang xử lý"),
    State.RESOLVED: N_("Đã giải quyết"),
    State.REJECTED: N_("Không thuộc thẩm quyền / từ chối"),
    State.REOPENED: N_("Mở lại"),
    State.MERGED: N_("Trùng, đã gộp"),
}

# Every event's action, the staff ones and the others (submit, route, follow).
ACTION_LABELS: dict[str, str] = {
    "submit": N_("Tiếp nhận phản ánh"),
    "route": N_("Chuyển đến đơn vị xử lý"),
    Action.ASSIGN.value: N_("Điều phối đến đơn vị"),
    Action.REASSIGN.value: N_("Chuyển đơn vị khác"),
    Action.START.value: N_("Bắt đầu xử lý"),
    Action.PROGRESS.value: N_("Báo cáo tiến độ"),
    Action.RESOLVE.value: N_("Trả lời, đã giải quyết"),
    Action.REJECT.value: N_("Từ chối"),
    Action.MERGE.value: N_("Gộp vào phản ánh trùng"),
    Action.MODERATE.value: N_("Kiểm duyệt nội dung"),
    Action.REOPEN.value: N_("Người phản ánh mở lại"),
    Action.ESCALATE.value: N_("Quá hạn, báo lãnh đạo đơn vị"),
    "merged_in": N_("Nhận phản ánh trùng"),
}

_WORKING = frozenset(
    {Action.START, Action.PROGRESS, Action.RESOLVE, Action.REJECT, Action.REASSIGN, Action.MERGE}
)
POSSIBLE: dict[State, frozenset[Action]] = {
    State.NEW: frozenset({Action.ASSIGN, Action.MERGE, Action.MODERATE, Action.REJECT}),
    State.DISPATCH: frozenset({Action.ASSIGN, Action.MERGE, Action.MODERATE, Action.REJECT}),
    State.ASSIGNED: _WORKING | {Action.MODERATE},
    State.REOPENED: _WORKING | {Action.MODERATE},
    State.IN_PROGRESS: (_WORKING - {Action.START}) | {Action.MODERATE},
    State.RESOLVED: frozenset({Action.MODERATE, Action.REOPEN}),
    State.REJECTED: frozenset({Action.MODERATE, Action.REOPEN}),
    State.MERGED: frozenset({Action.MODERATE}),
}

# The state an action leads to (None: unchanged, or decided by the action's data).
TARGET: dict[Action, State | None] = {
    Action.ASSIGN: State.ASSIGNED,
    Action.REASSIGN: None,  # assigned to the new unit, or back to the dispatch queue
    Action.START: State.IN_PROGRESS,
    Action.PROGRESS: State.IN_PROGRESS,
    Action.RESOLVE: State.RESOLVED,
    Action.REJECT: State.REJECTED,
    Action.MERGE: State.MERGED,
    Action.MODERATE: None,
    Action.REOPEN: State.REOPENED,
    Action.ESCALATE: None,
}


def possible(state: State) -> frozenset[Action]:
    return POSSIBLE[state]


def is_open(state: State | str) -> bool:
    return State(state) in OPEN_STATES


def open311_status(state: State | str) -> str:
    return "closed" if State(state) in CLOSED_STATES else "open"


# FixMyStreet's servicerequestupdates statuses.
_FMS: dict[State, str] = {
    State.NEW: "OPEN",
    State.DISPATCH: "INTERNAL_REFERRAL",
    State.ASSIGNED: "INVESTIGATING",
    State.IN_PROGRESS: "IN_PROGRESS",
    State.RESOLVED: "FIXED",
    State.REJECTED: "NOT_COUNCILS_RESPONSIBILITY",
    State.REOPENED: "REOPEN",
    State.MERGED: "DUPLICATE",
}


def fms_status(state: State | str, action: str) -> str:
    if action == Action.PROGRESS.value:
        return "ACTION_SCHEDULED"
    if action == Action.REASSIGN.value:
        return "INTERNAL_REFERRAL"
    return _FMS[State(state)]
