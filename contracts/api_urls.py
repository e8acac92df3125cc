"""The contracts API, included at /api/v1/contracts/ (see config/urls.py)."""

from __future__ import annotations

from django.urls import path

from contracts import api

urlpatterns = [
    path("", api.contracts, name="api_contracts"),
    path("<id:pk>/", api.contract, name="api_contract_detail"),
    path("<id:pk>/sign/", api.sign, name="api_contract_sign"),
    path("<id:pk>/amend/", api.amend, name="api_contract_amend"),
    path("<id:pk>/documents/", api.documents, name="api_contract_documents"),
    path("<id:pk>/documents/<id:did>/download/", api.document, name="api_contract_document"),
    path("<id:pk>/milestones/", api.milestones, name="api_contract_milestones"),
    path("<id:pk>/milestones/<id:mid>/deliver/", api.deliver, name="api_contract_deliver"),
    path("<id:pk>/milestones/<id:mid>/pay/", api.pay, name="api_contract_pay"),
    path("<id:pk>/acceptance/", api.acceptance, name="api_contract_acceptance"),
    path("<id:pk>/issues/", api.issues, name="api_contract_issues"),
    path("<id:pk>/issues/<id:iid>/escalate/", api.escalate, name="api_contract_escalate"),
    path("<id:pk>/terminate/", api.terminate, name="api_contract_terminate"),
]
