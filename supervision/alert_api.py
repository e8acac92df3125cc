"""Supervisor alerts over the API: supervisors and center staff read them; supervisors handle them
(with a note) — the one change a supervisor makes on the platform."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from accounts.permissions import has_perm
from audit.models import Alert
from lib.api import paginated
from lib.errors import DomainError, NotFound, NotPermitted
from supervision.alerts import handle_alert

# The API's shared error shape and page shape live with the trading API, the first to need them.
from trading.serializers import READ_ERRORS, WRITE_ERRORS, page_of


@extend_schema_field(
    {"type": "string", "enum": list(Alert.Kind.values)}, component_name="AlertKindEnum"
)
class AlertKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Alert.Kind.choices, **kwargs)


class AlertSerializer(serializers.ModelSerializer):
    kind = AlertKindField(read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    handled = serializers.SerializerMethodField()
    handled_by = serializers.CharField(
        source="handled_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "kind_display",
            "summary",
            "details",
            "project_id",
            "object_type",
            "object_id",
            "raised_at",
            "handled",
            "handled_at",
            "handled_by",
            "note",
        ]
        read_only_fields = fields

    def get_handled(self, alert: Alert) -> bool:
        return alert.handled_at is not None


class HandleAlertSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000, allow_blank=True, help_text="处理意见")


def _flag(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if not value:
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise DomainError(_("参数 %(name)s 须为 true 或 false。"), code="INVALID_PARAMETER", name=name)


@extend_schema(
    parameters=[
        OpenApiParameter("kind", str, enum=Alert.Kind.values),
        OpenApiParameter("handled", bool),
        OpenApiParameter("project", int),
    ],
    responses={200: page_of(AlertSerializer), **READ_ERRORS},
    operation_id="alerts_list",
    description="Alerts, newest first. Supervisors and center staff.",
)
@api_view(["GET"])
def alerts(request: Request) -> Response:
    if not has_perm(request.user, "audit.view_alert"):
        raise NotPermitted(_("只有监督人员和交易中心工作人员可以查看预警。"))
    rows = Alert.objects.select_related("handled_by").order_by("-raised_at", "-pk")
    kind = request.query_params.get("kind")
    if kind:
        if kind not in Alert.Kind.values:
            raise DomainError(
                _("参数 %(name)s 的取值无效：%(value)s"),
                code="INVALID_PARAMETER",
                name="kind",
                value=kind[:40],
            )
        rows = rows.filter(kind=kind)
    handled = _flag(request, "handled")
    if handled is not None:
        rows = rows.filter(handled_at__isnull=not handled)
    project = request.query_params.get("project")
    if project:
        if not (project.isascii() and project.isdigit() and len(project) <= 18):
            raise DomainError(
                _("%(name)s 必须是正整数。"), code="INVALID_PARAMETER", name="project"
            )
        rows = rows.filter(project_id=int(project))
    return paginated(request, rows, AlertSerializer)


@extend_schema(
    request=HandleAlertSerializer,
    responses={200: AlertSerializer, **WRITE_ERRORS},
    description="A supervisor records how the alert was handled; an alert is handled once.",
)
@api_view(["POST"])
def handle(request: Request, pk: int) -> Response:
    alert = Alert.objects.filter(pk=pk).first()
    if alert is None or not has_perm(request.user, "audit.view_alert", alert):
        raise NotFound(_("未找到该预警。"))
    payload = HandleAlertSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    handled = handle_alert(Actor.from_request(request), alert, **payload.validated_data)
    return Response(AlertSerializer(handled).data)
