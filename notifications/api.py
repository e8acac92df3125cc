"""A user's own notices over the API (`/api/v1/notifications/`)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import signed_in_user
from lib.api import ErrorSerializer, page_of, paginated
from lib.errors import NotFound
from notifications.models import Notice
from notifications.serializers import NoticeSerializer, TodoItemSerializer, UnreadSerializer
from notifications.services import mark_read, unread_count
from notifications.todo import items_for


@extend_schema(
    parameters=[OpenApiParameter("unread", bool, description="only unread notices when true")],
    responses={200: page_of(NoticeSerializer)},
    description="The caller's own notices, newest first, rendered in the request's language.",
)
@api_view(["GET"])
def notices(request: Request) -> Response:
    rows = Notice.objects.filter(recipient=signed_in_user(request)).order_by("-created_at", "-pk")
    if request.query_params.get("unread") in ("true", "1"):
        rows = rows.filter(read_at__isnull=True)
    return paginated(request, rows, NoticeSerializer)


@extend_schema(responses={200: UnreadSerializer})
@api_view(["GET"])
def unread(request: Request) -> Response:
    return Response({"unread": unread_count(signed_in_user(request))})


@extend_schema(
    request=None, responses={204: None, 404: ErrorSerializer}, operation_id="notification_read"
)
@api_view(["POST"])
def read_one(request: Request, pk: int) -> Response:
    try:
        mark_read(signed_in_user(request), pk)
    except Notice.DoesNotExist as exc:
        raise NotFound(_("未找到该通知。")) from exc
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(request=None, responses={204: None}, operation_id="notifications_read_all")
@api_view(["POST"])
def read_all(request: Request) -> Response:
    mark_read(signed_in_user(request))
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    responses={200: TodoItemSerializer(many=True)},
    description=(
        "The caller's 待办: what needs their action and by when, most urgent first (overdue, then the "
        "soonest due, then undated) — the list the home page shows."
    ),
)
@api_view(["GET"])
def todo(request: Request) -> Response:
    now = timezone.now()
    rows = [
        {
            "key": item.key,
            "action": str(item.action),
            "subject": item.subject,
            "url": item.url,
            "due_at": item.due_at,
            "overdue": item.overdue(now),
            "legal": item.legal,
        }
        for item in items_for(signed_in_user(request), now)
    ]
    return Response(TodoItemSerializer(rows, many=True).data)
