"""The frameworks API, included at /api/v1/frameworks/ (see config/urls.py)."""

from __future__ import annotations

from django.urls import path

from frameworks import api

urlpatterns = [
    path("", api.agreements, name="api_frameworks"),
    path("conclude/", api.conclude, name="api_framework_conclude"),
    path("<id:pk>/", api.agreement, name="api_framework_detail"),
    path("<id:pk>/orders/", api.orders, name="api_framework_orders"),
    path("<id:pk>/orders/<id:cid>/quote/", api.quote, name="api_framework_quote"),
    path("<id:pk>/terminate/", api.terminate, name="api_framework_terminate"),
]
