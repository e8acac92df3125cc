"""Errors of the tender workflow. Codes are stable for API clients."""

from __future__ import annotations

from lib.errors import Conflict, DomainError


class ScheduleError(DomainError):
    """The timeline breaks a legal minimum period."""

    code = "SCHEDULE_INVALID"


class DepositRuleError(DomainError):
    code = "DEPOSIT_RULE"


class WrongStatus(Conflict):
    code = "WRONG_STATUS"


class TooLate(Conflict):
    code = "TOO_LATE"


class Suspended(Conflict):
    """An objection is unanswered: the tender is suspended (条例 Art.22)."""

    code = "PROJECT_SUSPENDED"
