"""The supervision workspace's pages, included at /supervision/ (see config/urls.py)."""

from __future__ import annotations

from django.urls import path

from supervision import views

urlpatterns = [
    path("", views.dashboard, name="supervision_dashboard"),
    path("live.json", views.live, name="supervision_live"),
    path("projects/<id:pk>/", views.project_page, name="supervision_project"),
    path("projects/<id:pk>/evidence.zip", views.evidence_package, name="supervision_evidence"),
    path("projects/<id:pk>/report.pdf", views.audit_report, name="supervision_report"),
    path("auctions/<id:pk>/replay/", views.replay, name="supervision_replay"),
    path("alerts/", views.alerts, name="supervision_alerts"),
    # The one write a supervisor makes here (tests/supervision/test_supervisors_read_only.py lists it).
    path("alerts/<id:pk>/handle/", views.alert_handle, name="alert_handle"),
    path("audit/", views.audit_search, name="supervision_audit"),
]
