"""Domain errors: a stable machine code plus a human message in the reader's language.

Services raise these; the API's exception handler, the pages and the WebSocket consumers turn them into
`{"error": {"code": ..., "message": ...}}`. Messages are written in Chinese (the default language) and
translated to English through the normal gettext catalogue.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.utils.functional import Promise


class DomainError(Exception):
    """A refused action. `code` is stable for clients; `message` is for people."""

    code = "INVALID"
    http_status = 400
    # Field-level detail for the API's error body ({"field": ["message"]}), when one field is at fault.
    details: Any = None

    def __init__(self, message: str | Promise, *, code: str | None = None, **params: Any) -> None:
        if code:
            self.code = code
        self.params = params
        self._message = message
        super().__init__(f"{self.code}: {self.message}")

    @property
    def message(self) -> str:
        text = str(self._message)
        return text % self.params if self.params else text

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


class NotPermitted(DomainError):
    code = "FORBIDDEN"
    http_status = 403


class NotFound(DomainError):
    code = "NOT_FOUND"
    http_status = 404


class Conflict(DomainError):
    """The object is not in a state that allows this action (wrong status, deadline passed…)."""

    code = "CONFLICT"
    http_status = 409


# Largest amount of money the platform accepts (exclusive): 10 trillion yuan. Far above any real deal,
# and below the 15 significant digits that SQLite keeps exactly in a DECIMAL column.
MAX_AMOUNT = 10**13


T = TypeVar("T")


def present(value: T | None, what: str) -> T:
    """`value`, which the data's own rules say is there (a sub-account's lot, a cash deposit's
    account). None there is a bug, raised as one (RuntimeError), never a refusal to the caller."""
    if value is None:
        raise RuntimeError(f"{what} is missing")
    return value


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one JSON shape of an error (API, edge, uploads, login lockout): `{"error": {code, message}}`."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}
