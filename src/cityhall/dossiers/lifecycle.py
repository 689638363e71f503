"""The one-stop lifecycle as data: states, national status codes, actions, transitions.

Pure (no I/O). The service checks here whether an action is possible in a state; who may
take it is :mod:`cityhall.dossiers.permissions`.
"""

from __future__ import annotations

from enum import StrEnum

from cityhall.core.i18n import N_


class State(StrEnum):
    SUBMITTED = "submitted"  # waiting for intake (online, post, or entered at a desk)
    INTAKE_SUPPLEMENT = "intake_supplement"  # Form 02: incomplete at intake
    NOT_ACCEPTED = "not_accepted"  # Form 03: refused at intake
    RECEIVED = "received"  # Form 01: receipt with appointment date; waiting for a handler
    IN_PROGRESS = "in_progress"  # being handled, step by step
    SUPPLEMENT_REQUESTED = "supplement_requested"  # found incomplete during appraisal
    PAYMENT_REQUESTED = "payment_requested"  # a fee is due before the result
    WITHDRAWAL_REQUESTED = "withdrawal_requested"  # the applicant asked to withdraw
    STOPPED = "stopped"  # Form 05: stopped at the applicant's request
    RESOLVED = "resolved"  # decided (approved or refused); result not yet returned
    RETURNED = "returned"  # the result is in the applicant's hands


NATIONAL_STATUS: dict[State, int] = {
    State.SUBMITTED: 1,
    State.RECEIVED: 2,
    State.NOT_ACCEPTED: 3,
    State.IN_PROGRESS: 4,
    State.INTAKE_SUPPLEMENT: 5,
    State.SUPPLEMENT_REQUESTED: 5,
    State.PAYMENT_REQUESTED: 6,
    State.WITHDRAWAL_REQUESTED: 7,
    State.STOPPED: 8,
    State.RESOLVED: 9,
    State.RETURNED: 10,
}

STATE_LABELS: dict[State, str] = {
    State.SUBMITTED: N_("Mới nộp, chờ tiếp nhận"),
    State.INTAKE_SUPPLEMENT: N_("Cần bổ sung hồ sơ (khi tiếp nhận)"),
    State.NOT_ACCEPTED: N_("Không tiếp nhận"),
    State.RECEIVED: N_("Đã tiếp nhận"),
    State.IN_PROGRESS: N_("Đang xử lý"),
    State.SUPPLEMENT_REQUESTED: N_("Cần bổ sung hồ sơ"),
    State.PAYMENT_REQUESTED: N_("Chờ nộp phí, lệ phí"),
    State.WITHDRAWAL_REQUESTED: N_("Đề nghị rút hồ sơ"),
    State.STOPPED: N_("Đã dừng xử lý"),
    State.RESOLVED: N_("Đã có kết quả"),
    State.RETURNED: N_("Đã trả kết quả"),
}

# States in which the deadline is running (a dossier counts as overdue only in these).
OPEN_STATES = frozenset(
    {State.SUBMITTED, State.RECEIVED, State.IN_PROGRESS, State.PAYMENT_REQUESTED}
)
# States the dossier never leaves.
FINAL_STATES = frozenset({State.NOT_ACCEPTED, State.STOPPED, State.RETURNED})
# States in which the case is waiting on the applicant.
WAITING_STATES = frozenset({State.INTAKE_SUPPLEMENT, State.SUPPLEMENT_REQUESTED})


class Action(StrEnum):
    ACCEPT = "accept"
    REQUEST_SUPPLEMENT = "request-supplement"
    SUPPLEMENT = "supplement"
    REFUSE = "refuse"
    ASSIGN = "assign"
    FORWARD = "forward"
    TRANSFER = "transfer"
    ANSWER = "answer"  # a partner agency answers its part of an inter-agency dossier
    REQUEST_PAYMENT = "request-payment"
    PAY = "pay"
    APPROVE = "approve"
    APOLOGIZE = "apologize"
    RETURN_RESULT = "return-result"
    WITHDRAW = "withdraw"
    CANCEL_WITHDRAWAL = "cancel-withdrawal"
    STOP = "stop"


ACTION_LABELS: dict[Action, str] = {
    Action.ACCEPT: N_("Tiếp nhận hồ sơ"),
    Action.REQUEST_SUPPLEMENT: N_("Yêu cầu bổ sung hồ sơ"),
    Action.SUPPLEMENT: N_("Bổ sung hồ sơ"),
    Action.REFUSE: N_("Từ chối hồ sơ"),
    Action.ASSIGN: N_("Phân công xử lý"),
    Action.FORWARD: N_("Chuyển bước tiếp theo"),
    Action.TRANSFER: N_("Chuyển liên thông"),
    Action.ANSWER: N_("Trả lời liên thông"),
    Action.REQUEST_PAYMENT: N_("Yêu cầu nộp phí"),
    Action.PAY: N_("Xác nhận đã nộp phí"),
    Action.APPROVE: N_("Phê duyệt"),
    Action.APOLOGIZE: N_("Xin lỗi và hẹn lại ngày trả kết quả"),
    Action.RETURN_RESULT: N_("Trả kết quả"),
    Action.WITHDRAW: N_("Rút hồ sơ"),
    Action.CANCEL_WITHDRAWAL: N_("Hủy đề nghị rút hồ sơ"),
    Action.STOP: N_("Dừng xử lý hồ sơ"),
}

# Where each action may be taken. The target state is decided by the service where it
# depends on more than the state (refuse at intake vs at decision, withdraw before or after
# receipt, supplement at intake vs during appraisal).
ALLOWED_FROM: dict[Action, frozenset[State]] = {
    Action.ACCEPT: frozenset({State.SUBMITTED}),
    Action.REQUEST_SUPPLEMENT: frozenset({State.SUBMITTED, State.IN_PROGRESS}),
    Action.SUPPLEMENT: frozenset({State.INTAKE_SUPPLEMENT, State.SUPPLEMENT_REQUESTED}),
    Action.REFUSE: frozenset({State.SUBMITTED, State.IN_PROGRESS}),
    Action.ASSIGN: frozenset({State.RECEIVED, State.IN_PROGRESS}),
    Action.FORWARD: frozenset({State.IN_PROGRESS}),
    Action.TRANSFER: frozenset({State.IN_PROGRESS}),
    Action.ANSWER: frozenset({State.IN_PROGRESS}),
    Action.REQUEST_PAYMENT: frozenset({State.IN_PROGRESS}),
    Action.PAY: frozenset({State.PAYMENT_REQUESTED}),
    Action.APPROVE: frozenset({State.IN_PROGRESS}),
    Action.APOLOGIZE: frozenset({State.RECEIVED, State.IN_PROGRESS, State.PAYMENT_REQUESTED}),
    Action.RETURN_RESULT: frozenset({State.RESOLVED}),
    Action.WITHDRAW: frozenset(
        {
            State.SUBMITTED,
            State.INTAKE_SUPPLEMENT,
            State.RECEIVED,
            State.IN_PROGRESS,
            State.SUPPLEMENT_REQUESTED,
            State.PAYMENT_REQUESTED,
        }
    ),
    Action.CANCEL_WITHDRAWAL: frozenset({State.WITHDRAWAL_REQUESTED}),
    Action.STOP: frozenset({State.WITHDRAWAL_REQUESTED}),
}

# Before receipt nothing is being handled: a withdrawal there takes effect at once.
WITHDRAW_AT_ONCE = frozenset({State.SUBMITTED, State.INTAKE_SUPPLEMENT})


def possible(state: State) -> list[Action]:
    """The actions the lifecycle allows in ``state`` (whoever asks)."""
    return [a for a in Action if state in ALLOWED_FROM[a]]
