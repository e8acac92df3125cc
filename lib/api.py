"""One error shape for the whole API: {"error": {"code": "...", "message": "...", "details"?: ...}}.

Also what every list shares: the bounded page (`Pagination`, `paginated`) and its schema (`page_of`).
`lib.schema.AutoSchema` documents the error responses of every operation in that shape.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from lib.edge import UnsafeText
from lib.errors import DomainError, error_body

_DRF_CODES = {
    exceptions.NotAuthenticated: "NOT_AUTHENTICATED",
    exceptions.AuthenticationFailed: "AUTHENTICATION_FAILED",
    exceptions.PermissionDenied: "FORBIDDEN",
    exceptions.NotFound: "NOT_FOUND",
    exceptions.MethodNotAllowed: "METHOD_NOT_ALLOWED",
    exceptions.NotAcceptable: "NOT_ACCEPTABLE",
    exceptions.UnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
    exceptions.Throttled: "THROTTLED",
    exceptions.ParseError: "MALFORMED_REQUEST",
    exceptions.ValidationError: "VALIDATION_ERROR",
}

_DRF_MESSAGES = {
    "NOT_AUTHENTICATED": lambda: _("请先登录。"),
    "AUTHENTICATION_FAILED": lambda: _("身份验证失败。"),
    "FORBIDDEN": lambda: _("您没有执行此操作的权限。"),
    "NOT_FOUND": lambda: _("未找到该对象。"),
    "METHOD_NOT_ALLOWED": lambda: _("不支持该请求方法。"),
    "MALFORMED_REQUEST": lambda: _("请求格式错误，无法解析。"),
    "VALIDATION_ERROR": lambda: _("提交的数据有误，请检查后重试。"),
    "UNSUPPORTED_MEDIA_TYPE": lambda: _("不支持的内容类型。"),
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, UnsafeText):
        exc = exc.error
    if isinstance(exc, DomainError):
        details = getattr(exc, "details", None)
        refusal = Response(error_body(exc.code, exc.message, details), status=exc.http_status)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            refusal["Retry-After"] = str(retry_after)
        return refusal
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "ERROR")
    message_factory = _DRF_MESSAGES.get(code)
    details = exc.detail if isinstance(exc, exceptions.ValidationError) else None
    if isinstance(exc, exceptions.Throttled):
        # Set by Throttled.__init__; djangorestframework-stubs does not declare it.
        wait: float | None = getattr(exc, "wait", None)
        if wait:
            # DRF rounds the wait down; a client that waits that long would be refused again.
            seconds = max(1, math.ceil(wait))
            response["Retry-After"] = str(seconds)
            message = _("请求过于频繁，请 %(seconds)d 秒后再试。") % {"seconds": seconds}
        else:
            message = _("请求过于频繁，请稍后再试。")
    else:
        message = message_factory() if message_factory else str(getattr(exc, "detail", exc))
    response.data = error_body(code, message, details)
    return response


def json_error(request: HttpRequest, code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


@csrf_exempt  # any method: an unknown path is a 404 before it is a missing CSRF token
def api_not_found(
    request: HttpRequest, exception: Exception | None = None, **kwargs: Any
) -> JsonResponse:
    return json_error(request, "NOT_FOUND", _("未找到该对象。"), status.HTTP_404_NOT_FOUND)


# --- Fields -------------------------------------------------------------------------------------


class EnumChoiceField(serializers.ChoiceField):
    """A ChoiceField that brings its own choices: the enum fields made per TextChoices class (each one
    schema component: `trading.serializers.enum_field`, `deposits.serializers.enum_field`) set
    `allowed`."""

    allowed: ClassVar[list[tuple[str, Any]]] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=self.allowed, **kwargs)


# --- Query parameters -----------------------------------------------------------------------------


def query_choice(request: Request, name: str, choices: list[str]) -> str | None:
    """The query parameter `name` if it is one of `choices`, None if absent or empty; otherwise 400
    INVALID_PARAMETER (a filter never silently matches nothing because of a typo)."""
    value = request.query_params.get(name)
    if value and value not in choices:
        raise DomainError(
            _("参数 %(name)s 的取值无效：%(value)s"),
            code="INVALID_PARAMETER",
            name=name,
            value=value[:40],
        )
    return value or None


# --- Pages ----------------------------------------------------------------------------------------

# The largest page a client may ask for: a larger `limit` is cut to it (DRF's rule), so no request
# makes the database count past what a page shows or receive a LIMIT beyond a bigint.
MAX_PAGE_SIZE = 500


class Pagination(LimitOffsetPagination):
    """DRF's limit/offset pages with a ceiling on `limit` (an offset past the end is an empty page,
    never a query)."""

    max_limit = MAX_PAGE_SIZE


def paginated(
    request: Request,
    queryset: QuerySet[Any],
    serializer_class: type[serializers.BaseSerializer[Any]],
) -> Response:
    """A page of `queryset` in DRF's LimitOffset shape: {"count", "next", "previous", "results"}."""
    paginator = Pagination()
    page: list[Any] | None = paginator.paginate_queryset(queryset, request)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def serialized_list(
    serializer_class: type[serializers.BaseSerializer[Any]], rows: Iterable[Any], **kwargs: Any
) -> list[dict[str, Any]]:
    """`serializer_class(rows, many=True, **kwargs).data`, typed as the list of objects it is (the
    stubs give a Serializer's data one dict type whether or not `many` is set)."""
    data: list[dict[str, Any]] = serializer_class(rows, many=True, **kwargs).data
    return data


# --- Schema ---------------------------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(required=False)


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


PAGES: dict[type[serializers.Serializer], serializers.Serializer] = {}


def page_of(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """The OpenAPI shape of `paginated`: function views have no paginator for the schema generator
    to find, so each list names its page explicitly (one component per item type)."""
    if serializer_class in PAGES:
        return PAGES[serializer_class]
    name = serializer_class.__name__.removesuffix("Serializer")
    PAGES[serializer_class] = inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
    return PAGES[serializer_class]


# Error responses for the schema: reads can be refused or not found; writes can also be invalid or
# conflict with the object's state (wrong status, deadline passed). `lib.schema.AutoSchema` adds every
# error response an operation can give anyway; these stay for views that name them explicitly.
READ_ERRORS = {403: ErrorSerializer, 404: ErrorSerializer}
WRITE_ERRORS = {400: ErrorSerializer, **READ_ERRORS, 409: ErrorSerializer}


class StrictSerializer(serializers.Serializer):
    # An input body that refuses keys it does not declare (UNKNOWN_FIELD): a misspelt optional key is
    # an error, not an act done without it. Documented as `additionalProperties: false` (lib.schema).
    # A comment, not a docstring: the schema would give it to every subclass as its description.

    class Meta:
        closed = True

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key)[:40] for key in data if key not in self.fields)
            if unknown:
                raise DomainError(
                    gettext_lazy("不认识的字段：%(fields)s"),
                    code="UNKNOWN_FIELD",
                    fields=", ".join(unknown[:10]),
                )
        return super().to_internal_value(data)
