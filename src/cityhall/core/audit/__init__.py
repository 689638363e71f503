"""Append-only, tamper-evident audit log. See docs/adr/0003-audit-hash-chains.md."""

from cityhall.core.audit.models import AuditChainHead, AuditEvent
from cityhall.core.audit.service import VerifyProblem, record, verify

__all__ = ["AuditChainHead", "AuditEvent", "VerifyProblem", "record", "verify"]
