"""The one-stop lifecycle's write path: submitting a dossier and every action on it.

Each use case is one function; ``act`` only dispatches an action name to its function.
Every change locks the dossier row (``FOR UPDATE``), appends an event (the tracking sheet),
writes an audit event and queues the applicant's notifications, all in the caller's
transaction: a change exists with its history, audit and messages, or not at all.
"""

from cityhall.dossiers.service.act import act
from cityhall.dossiers.service.actions import HANDLERS
from cityhall.dossiers.service.common import (
    Ctx,
    actor_ref,
    all_task_agencies,
    allowed_actions,
    facts_of,
    form_errors,
    load_for_update,
    next_code,
    version_of,
)
from cityhall.dossiers.service.submit import Submitted, submit_dossier

__all__ = [
    "HANDLERS",
    "Ctx",
    "Submitted",
    "act",
    "actor_ref",
    "all_task_agencies",
    "allowed_actions",
    "facts_of",
    "form_errors",
    "load_for_update",
    "next_code",
    "submit_dossier",
    "version_of",
]
