"""The complaints API, included at /api/v1/complaints/ (see config/urls.py)."""

from __future__ import annotations

from django.urls import path

from complaints import api

urlpatterns = [
    path("", api.complaints, name="api_complaints"),
    path("<id:pk>/", api.complaint, name="api_complaint"),
    path("<id:pk>/accept/", api.accept, name="api_complaint_accept"),
    path("<id:pk>/refuse/", api.refuse, name="api_complaint_refuse"),
    path("<id:pk>/requests/", api.requests, name="api_complaint_requests"),
    path(
        "<id:pk>/requests/<id:rid>/answer/",
        api.answer,
        name="api_complaint_request_answer",
    ),
    path("<id:pk>/suspend/", api.suspend, name="api_complaint_suspend"),
    path("<id:pk>/resume/", api.resume, name="api_complaint_resume"),
    path("<id:pk>/decide/", api.decide, name="api_complaint_decide"),
    path("<id:pk>/withdraw/", api.withdraw, name="api_complaint_withdraw"),
    path("<id:pk>/documents/", api.documents, name="api_complaint_documents"),
    path(
        "<id:pk>/documents/<id:did>/download/",
        api.document,
        name="api_complaint_document",
    ),
]
