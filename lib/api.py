"""One error shape for the whole API: {"error": {"code": "...", "message": "..."}}."""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from lib.errors import DomainError

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


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        response = Response(error_body(exc.code, exc.message), status=exc.http_status)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            response["Retry-After"] = str(retry_after)
        return response
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
        if exc.wait:
            # DRF rounds the wait down; a client that waits that long would be refused again.
            seconds = max(1, math.ceil(exc.wait))
            response["Retry-After"] = str(seconds)
            message = _("请求过于频繁，请 %(seconds)d 秒后再试。") % {"seconds": seconds}
        else:
            message = _("请求过于频繁，请稍后再试。")
    else:
        message = message_factory() if message_factory else str(getattr(exc, "detail", exc))
    response.data = error_body(code, message, details)
    return response


def json_error(request, code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


def api_not_found(request, exception=None, **kwargs) -> JsonResponse:
    return json_error(request, "NOT_FOUND", _("未找到该对象。"), status.HTTP_404_NOT_FOUND)


def paginated(request, queryset, serializer_class) -> Response:
    """A page of `queryset` in DRF's LimitOffset shape: {"count", "next", "previous", "results"}."""
    from rest_framework.pagination import LimitOffsetPagination

    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
