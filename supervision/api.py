"""The audit search over the API (`/api/v1/audit/events/`): supervisors and center staff."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import has_perm
from audit.models import AuditEvent
from lib.errors import NotPermitted
from supervision.search import search_events


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "at",
            "actor_name",
            "role",
            "organization",
            "ip",
            "action",
            "object_type",
            "object_id",
            "payload",
            "prev_hash",
            "hash",
        ]


@extend_schema(
    parameters=[
        OpenApiParameter("action", str),
        OpenApiParameter("object_type", str),
        OpenApiParameter("object_id", str),
        OpenApiParameter("actor", str),
        OpenApiParameter(
            "project", str, description="project number: events about it and its rows"
        ),
        OpenApiParameter("organization", int, description="the acting organization's id"),
        OpenApiParameter("since", str, description="ISO-8601 time (without offset: Beijing)"),
        OpenApiParameter("until", str, description="ISO-8601 time, exclusive"),
        OpenApiParameter("after_seq", int),
        OpenApiParameter("before_seq", int),
    ],
    responses=AuditEventSerializer(many=True),
)
@api_view(["GET"])
def events(request: Request) -> Response:
    """Audit events, oldest first, 200 at a time after `after_seq`. Supervisors and center staff.
    The filters are `supervision.search.search_events` (the supervision search page uses the same)."""
    if not has_perm(request.user, "audit.view_auditevent"):
        raise NotPermitted(_("只有监督人员和交易中心工作人员可以查看审计事件。"))
    qs = search_events(request.query_params)
    return Response(AuditEventSerializer(qs[:200], many=True).data)
