"""The public head history, included at /audit/ (see config/urls.py)."""

from __future__ import annotations

from django.urls import path

from audit import heads

urlpatterns = [
    path("heads/", heads.page, name="audit_heads"),
    path("heads/feed.atom", heads.HeadsFeed(), name="audit_heads_feed"),
]
