"""Notification channels' REST endpoints, included at /api/v1/notifications/ by config/urls.py."""

from __future__ import annotations

from django.urls import path

from notifications import channel_api as api

urlpatterns = [
    path("preferences/", api.notification_preferences, name="api_notification_preferences"),
    path("phone/", api.phone_number, name="api_phone"),
    path("phone/verify/", api.phone_verify, name="api_phone_verify"),
    path("deliveries/", api.deliveries, name="api_deliveries"),
    path("deliveries/<id:pk>/retry/", api.delivery_retry, name="api_delivery_retry"),
]
