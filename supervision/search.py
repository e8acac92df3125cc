"""The audit search: one rule for the API (`/api/v1/audit/events/`) and the supervisors' search page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from audit.services import before_seq_param
from lib.edge import MAX_ID
from lib.errors import DomainError
from supervision.evidence import project_filter
from trading.models import Project

BEIJING = ZoneInfo("Asia/Shanghai")


def _moment(value: str) -> dt.datetime:
    try:
        moment = parse_datetime(value)
    except ValueError:  # well formed but no such time: 2026-13-45T00:00
        moment = None
    if moment is None:
        raise DomainError(_("时间格式无效：%(value)s"), code="INVALID_TIME", value=value)
    # A time without an offset (a browser's datetime-local field) is Beijing time.
    return timezone.make_aware(moment, BEIJING) if timezone.is_naive(moment) else moment


def after_seq_param(params: Mapping[str, Any]) -> int:
    value = params.get("after_seq", "0")
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise DomainError(_("after_seq 必须是非负整数。"), code="INVALID_PARAMETER")
    return int(value)


def search_events(params: Mapping[str, Any]) -> models.QuerySet[AuditEvent]:
    """The audit events matching `params`, oldest first — one rule for the API (`/api/v1/audit/events/`)
    and the supervisors' search page. Empty values are ignored.

    - `action`, `object_type`, `object_id`: exact;
    - `actor`: the acting user's recorded name (or `role:process` for the platform);
    - `organization`: the acting organization's id;
    - `project`: a project number — the events about it and about every row that belongs to it;
    - `since` (inclusive) / `until` (exclusive): ISO-8601; a time without an offset is Beijing time;
    - `after_seq` (default 0) / `before_seq`: sequence bounds, for paging.

    Raises DomainError (400) for a malformed value and for an unknown project number.
    """
    qs = AuditEvent.objects.order_by("seq")
    for field in ("action", "object_type", "object_id"):
        if params.get(field):
            qs = qs.filter(**{field: params[field]})
    if params.get("actor"):
        qs = qs.filter(actor_name=params["actor"])
    if params.get("organization"):
        organization = str(params["organization"])
        # An id: ASCII digits that fit a bigint (a larger number would overflow the query).
        if not (organization.isascii() and organization.isdigit() and int(organization) <= MAX_ID):
            raise DomainError(_("organization 必须是机构编号。"), code="INVALID_PARAMETER")
        qs = qs.filter(organization_id=int(organization))
    if params.get("project"):
        project = Project.objects.filter(number=params["project"]).first()
        if project is None:
            raise DomainError(_("没有该项目。"), code="UNKNOWN_PROJECT")
        qs = qs.filter(project_filter(project))
    for name, lookup in (("since", "at__gte"), ("until", "at__lt")):
        if params.get(name):
            qs = qs.filter(**{lookup: _moment(params[name])})
    qs = qs.filter(seq__gt=after_seq_param(params))
    before = before_seq_param(params)
    if before is not None:
        qs = qs.filter(seq__lt=before)
    return qs
