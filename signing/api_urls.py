"""The signing API, included at /api/v1/signing/ (see config/urls.py)."""

from __future__ import annotations

from django.urls import path

from signing import api

urlpatterns = [
    path("challenges/", api.challenges, name="api_signing_challenges"),
    path("certificates/", api.certificates, name="api_signing_certificates"),
    path("certificates/<id:pk>/withdraw/", api.withdraw, name="api_signing_certificate_withdraw"),
    path("simulator/certificates/", api.simulator_issue, name="api_signing_simulator"),
    path("acts/<id:pk>/", api.signed_act, name="api_signed_act"),
]
