"""Pages of the signing app. Included at "signing/" by config/urls.py."""

from __future__ import annotations

from django.urls import path

from signing import views

urlpatterns = [
    path("certificates/", views.certificates, name="signing_certificates"),
    path("certificates/register/", views.register, name="signing_certificate_register"),
    path("certificates/<id:pk>/withdraw/", views.withdraw, name="signing_certificate_withdraw"),
    path("certificates/<id:pk>/test/", views.test_signature, name="signing_certificate_test"),
    path("acts/<id:pk>/", views.signed_act, name="signed_act"),
]
