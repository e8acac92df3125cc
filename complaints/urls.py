"""Pages of complaint cases. Included at "complaints/" by config/urls.py."""

from __future__ import annotations

from django.urls import path

from complaints import views

urlpatterns = [
    path("", views.complaint_list, name="complaint_list"),
    path("new/", views.complaint_new, name="complaint_new"),
    path("<id:pk>/", views.complaint_detail, name="complaint_detail"),
    path("<id:pk>/accept/", views.complaint_accept, name="complaint_accept"),
    path("<id:pk>/refuse/", views.complaint_refuse, name="complaint_refuse"),
    path("<id:pk>/requests/", views.complaint_request, name="complaint_request"),
    path("<id:pk>/suspend/", views.complaint_suspend, name="complaint_suspend"),
    path("<id:pk>/resume/", views.complaint_resume, name="complaint_resume"),
    path("<id:pk>/decide/", views.complaint_decide, name="complaint_decide"),
    path("<id:pk>/withdraw/", views.complaint_withdraw, name="complaint_withdraw"),
    path("<id:pk>/decision.pdf", views.decision_pdf, name="complaint_decision_pdf"),
    path("<id:pk>/documents/", views.document_upload, name="complaint_document_upload"),
    path("requests/<id:pk>/answer/", views.request_answer, name="complaint_request_answer"),
    path("documents/<id:pk>/", views.document_download, name="complaint_document"),
]
