"""Pages of contracts. Included at "contracts/" by config/urls.py."""

from __future__ import annotations

from django.urls import path

from contracts import views

urlpatterns = [
    path("", views.contract_list, name="contract_list"),
    path("new/<id:pk>/", views.contract_new, name="contract_new"),
    path("<id:pk>/", views.contract_detail, name="contract_detail"),
    path("<id:pk>/documents/", views.document_upload, name="contract_document_upload"),
    path("<id:pk>/<slug:action>/", views.contract_act, name="contract_act"),
    path("documents/<id:pk>/", views.document_download, name="contract_document"),
]
