"""Included at /api/v1/notifications/ by config/urls.py."""

from django.urls import path

from notifications import api

urlpatterns = [
    path("", api.notices, name="api_notices"),
    path("unread/", api.unread, name="api_notices_unread"),
    path("read/", api.read_all, name="api_notices_read_all"),
    path("<id:pk>/read/", api.read_one, name="api_notice_read"),
]
