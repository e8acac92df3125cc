"""Public documents of published announcements: the PDF of a version and the project's OCDS package.

Both only read committed, published data and render it here, outside any transaction, so no row lock is
held while a PDF is drawn (docs/architecture.md).
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

from lib.canonical import sha256_hex
from lib.errors import NotFound, present
from trading import ocds
from trading.models import AnnouncementVersion, Project
from trading.pdf import PDF_LAYOUT, render_announcement_pdf


@require_safe
def announcement_pdf(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """GET /announcements/<pk>/v<number>.pdf — public: every version exists only once published."""
    version = get_object_or_404(
        AnnouncementVersion.objects.select_related("announcement"),
        announcement_id=pk,
        number=number,
    )
    # A version never changes, so its PDF is rendered once per cache lifetime (a render takes a couple
    # of hundred milliseconds, mostly the QR code). The key covers everything else the PDF prints.
    identity = f"{PDF_LAYOUT}|{settings.SITE_URL}|{settings.OCDS_PUBLISHER}|{version.sha256}"
    pdf = cache.get_or_set(
        "announcement-pdf:" + sha256_hex(identity.encode()),
        lambda: render_announcement_pdf(version),
        timeout=24 * 3600,
    )
    project_number = version.content.get("project", {}).get("number", "announcement")
    filename = f"{project_number}-{version.announcement.kind}-{pk}-v{number}.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = present(
        content_disposition_header(False, filename), "the disposition of a named file"
    )
    # A version never changes, but the rendering code may: cache for a day, not forever.
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _published_project(ocid: str) -> Project:
    prefix = f"{settings.OCDS_OCID_PREFIX}-"
    project = None
    if ocid.startswith(prefix):
        project = ocds.published_projects().filter(number=ocid.removeprefix(prefix)).first()
    if project is None:
        raise NotFound(_("未找到该项目。"))
    return project


@extend_schema(
    summary="OCDS 1.1.5 release package of a published project",
    description=(
        "One release per published announcement version, oldest first. Amounts are JSON numbers "
        "with the exact digits of the stored decimal."
    ),
    responses={200: OpenApiTypes.OBJECT},
    auth=[],
)
@api_view(["GET"])
@permission_classes([AllowAny])
def ocds_release_package(request: Request, ocid: str) -> HttpResponse:
    project = _published_project(ocid)
    package = ocds.project_release_package(project, request)
    return HttpResponse(ocds.dumps(package), content_type="application/json")
