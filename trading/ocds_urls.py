"""Open data (OCDS), under /api/v1/ocds/."""

from django.urls import path

from trading import document_views

urlpatterns = [
    path("<str:ocid>/", document_views.ocds_release_package, name="api_ocds_package"),
]
