"""The edge of HTTP: what no view, form, serializer or service ever has to guard against.

- `EdgeMiddleware` refuses text that no entry point accepts (`lib.text.unsafe_char`: NUL, other C0
  controls, lone surrogates) once, before any view runs: in the path, the query string (names and
  values), cookies, an `application/x-www-form-urlencoded` body and a JSON body (keys and values,
  parsed once: `JSONParser` hands the same parse to DRF). The API answers 400 in its error shape
  with code TEXT_INVALID_CHAR and `details: {"location", "field"}`; pages get the plain 400 page.
- Bodies are read only where Django itself would read them whole anyway (form and JSON bodies,
  bounded by DATA_UPLOAD_MAX_MEMORY_SIZE, which refuses a larger one with 400 before reading it).
  A multipart body may carry files whose size and permission are checked by the view, so the
  middleware does not parse it: its field names, values and file names are checked when something
  parses them — Django's own parser (`request.POST` in a page view or the CSRF check) through
  `_check_multipart_when_parsed`, DRF's through `MultiPartParser` — and refused with `UnsafeText`.
- `IdConverter` (`<id:pk>` in every urls module): a database id is 1–19 ASCII digits and at most
  2**63 − 1, so an id no bigint column can hold is a 404, never an overflow inside the database.
- `bad_request`, `permission_denied`, `page_not_found`, `server_error` (config/urls.py's handlers)
  and `csrf_failure` (CSRF_FAILURE_VIEW) answer in the API's JSON error shape under /api/ and with a
  plain page elsewhere, so nothing under /api/ ever answers HTML or an empty body.

Socket frames are checked by `lib.realtime.parse_frame`, the same rule.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from lib.errors import DomainError, error_body
from lib.text import EXCERPT_CHARS, TextError, check_text, first_unsafe, unsafe_char

API_PREFIX = "/api/"

# The largest value of a bigint (PostgreSQL `bigint`, SQLite INTEGER): the largest id there can be.
MAX_ID = 2**63 - 1


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def json_error(code: str, message: str, status: int, details: Any = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=status)


# --- Refusing unsafe text -------------------------------------------------------------------------


def _shown(name: str) -> str:
    """A field name fit to be echoed back: unsafe characters replaced, and not too long."""
    return "".join("\ufffd" if unsafe_char(c) else c for c in name[:EXCERPT_CHARS])


def refusal(location: str, field: str, char: str) -> TextError:
    """The TEXT_INVALID_CHAR error for `char` found in `field` (a name, or a JSON path)."""
    try:
        check_text(char, field=_shown(field))
    except TextError as error:
        error.details = {"location": location, "field": _shown(field)}
        return error
    raise AssertionError(f"{char!r} is not unsafe")  # pragma: no cover - callers pass unsafe chars


class UnsafeText(SuspiciousOperation):
    """Raised where a body is parsed lazily (multipart): Django turns it into a 400 through
    `bad_request`, DRF's exception handler into the TEXT_INVALID_CHAR body."""

    def __init__(self, error: TextError) -> None:
        super().__init__(error.message)
        self.error = error


def _first_in_pairs(location: str, pairs: Iterable[tuple[str, Any]]) -> TextError | None:
    for name, values in pairs:
        char = unsafe_char(name)
        if char is not None:
            return refusal(location, name, char)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str) and (char := unsafe_char(value)) is not None:
                return refusal(location, name, char)
    return None


def check_form(data: QueryDict, files: Any = None) -> None:
    """Raise UnsafeText for the first unsafe field name, value or uploaded file name."""
    error = _first_in_pairs("body", data.lists())
    if error is None and files is not None:
        error = _first_in_pairs(
            "body", ((name, [f.name or "" for f in found]) for name, found in files.lists())
        )
    if error is not None:
        raise UnsafeText(error)


def _json_constant(name: str) -> None:
    # NaN and Infinity are not JSON; DRF's parser refuses them the same way (STRICT_JSON).
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes, encoding: str | None) -> Any:
    """The body parsed as DRF's JSONParser would (charset from the content type, else UTF-8; no
    NaN/Infinity). Raises ValueError (bad bytes, bad JSON) or RecursionError (nesting too deep)."""
    text = codecs.decode(body, encoding or settings.DEFAULT_CHARSET)
    return json.loads(text, parse_constant=_json_constant)


_NOT_PARSED = object()
# The request attribute where the middleware leaves a JSON body it parsed, for `JSONParser`.
_PARSED_JSON = "_edge_json"


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _check_multipart_when_parsed(request: HttpRequest) -> None:
    """Check multipart fields when Django parses them (the view or the CSRF check reads request.POST),
    not before: the view decides whether the body is read at all."""
    load = request._load_post_and_files

    def load_and_check() -> None:
        load()
        # Loaded now: these read what `load` stored, they do not load again.
        check_form(request.POST, request.FILES)

    # An instance attribute shadows the method for this request only.
    vars(request)["_load_post_and_files"] = load_and_check


def first_unsafe_in_request(request: HttpRequest) -> DomainError | None:
    """The refusal for the first unsafe text of the request's path, query, cookies and form or JSON
    body; None if there is none. Stores a parsed JSON body for `JSONParser`."""
    char = unsafe_char(request.path_info)
    if char is not None:
        return refusal("path", "path", char)
    error = _first_in_pairs("query", request.GET.lists()) or _first_in_pairs(
        "cookie", request.COOKIES.items()
    )
    if error is not None:
        return error
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded":
        # Django parses a form body only for POST; DRF parses PATCH/PUT forms from the same bytes.
        form = request.POST if request.method == "POST" else QueryDict(request.body)
        return _first_in_pairs("body", form.lists())
    if content_type == "multipart/form-data":
        _check_multipart_when_parsed(request)
    elif _is_json(content_type) and request.body:
        try:
            parsed = parse_json(request.body, request.encoding)
        except (ValueError, RecursionError, LookupError, TypeError):
            # Malformed (or a charset that is no text encoding, like rot13): the parser answers
            # MALFORMED_REQUEST if the view reads the body.
            return None
        try:
            found = first_unsafe(parsed)
        except RecursionError:
            # Parsed but too deep to walk: refused, never handed on unchecked.
            return DomainError(_("JSON 嵌套过深。"), code="MALFORMED_REQUEST")
        setattr(request, _PARSED_JSON, parsed)
        if found is not None:
            return refusal("body", found[0], found[1])
    return None


class EdgeMiddleware:
    """Refuses unsafe text for every HTTP request (see the module docstring). Runs after the locale
    middleware, so the refusal is in the reader's language, and before anything reads the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        error = first_unsafe_in_request(request)
        if error is not None:
            return refused(request, error)
        return self.get_response(request)


def refused(request: HttpRequest, error: DomainError) -> HttpResponse:
    if is_api(request):
        return json_error(error.code, error.message, 400, getattr(error, "details", None))
    return render(
        request,
        "400.html",
        {"message": error.message, "code": error.code},
        status=400,
    )


# --- DRF parsers ----------------------------------------------------------------------------------


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, reusing the middleware's parse of the same body (parsed once), and
    answering MALFORMED_REQUEST rather than a 500 for JSON nested deeper than Python recurses or a
    charset that is not a text encoding."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        parsed = getattr(getattr(request, "_request", None), _PARSED_JSON, _NOT_PARSED)
        if parsed is not _NOT_PARSED:
            return parsed
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_("JSON 嵌套过深。")) from exc
        except (LookupError, TypeError) as exc:  # a charset that decodes no bytes (rot13)
            raise ParseError(_("请求格式错误，无法解析。")) from exc


class FormParser(parsers.FormParser):
    """A urlencoded body: the middleware has checked it; checked again here for requests that did
    not pass through it (tests calling views directly)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, refusing unsafe field names, values and file names (not contents)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        check_form(parsed.data, parsed.files)
        return parsed


# --- Path converters ------------------------------------------------------------------------------


class IdConverter:
    """A database id in a URL: 1–19 ASCII digits, at most 2**63 − 1 (anything else does not match,
    so it is a 404 like any unknown id, never an integer the database cannot hold)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value: Any) -> str:
        return str(value)


# --- Error handlers -------------------------------------------------------------------------------


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a SuspiciousOperation or BadRequest raised outside a view's own error handling
    (too many fields, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, a broken multipart body, UnsafeText).
    A body too large is a 413 PAYLOAD_TOO_LARGE under /api/, as the bank endpoints document."""
    if isinstance(exception, UnsafeText):
        return refused(request, exception.error)
    if not is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return json_error("PAYLOAD_TOO_LARGE", _("请求体过大。"), 413)
    return json_error("MALFORMED_REQUEST", _("请求格式错误，无法解析。"), 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return json_error("FORBIDDEN", _("您没有执行此操作的权限。"), 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return json_error("NOT_FOUND", _("未找到该对象。"), 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if not is_api(request):
        return defaults.server_error(request)
    return json_error("SERVER_ERROR", _("服务器内部错误，请稍后重试。"), 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW. Token-authenticated API calls never need a CSRF token (DRF checks it only
    for session logins); a browser session posting to the API without one gets this."""
    if not is_api(request):
        return django_csrf_failure(request, reason)
    return json_error("CSRF_FAILED", _("CSRF 校验失败，请刷新页面后重试。"), 403)


# --- The HTTP server ------------------------------------------------------------------------------
