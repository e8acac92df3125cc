"""Supervisor alerts, included at /api/v1/alerts/ (see config/urls.py)."""

from __future__ import annotations

from django.urls import path

from supervision import alert_api

urlpatterns = [
    path("", alert_api.alerts, name="api_alerts"),
    path("<id:pk>/handle/", alert_api.handle, name="api_alert_handle"),
]
