"""The experts API, included at /api/v1/experts/ (see config/urls.py)."""

from __future__ import annotations

from django.urls import path

from experts import api, application_api

urlpatterns = [
    path("specialties/", api.specialties, name="api_expert_specialties"),
    path("pool/", api.pool, name="api_expert_pool"),
    path("pool/<id:pk>/", api.expert, name="api_expert"),
    path("pool/<id:pk>/ties/", api.expert_ties, name="api_expert_ties"),
    path("pool/<id:pk>/relations/", api.expert_relations, name="api_expert_relations"),
    path("pool/<id:pk>/status/", api.expert_status, name="api_expert_status"),
    path("draws/", api.draws, name="api_draws"),
    path("draws/<id:pk>/", api.draw, name="api_draw"),
    path("draws/<id:pk>/run/", api.run_draw, name="api_draw_run"),
    path("draws/<id:pk>/sign-off/", api.sign_off, name="api_draw_sign_off"),
    path("draws/<id:pk>/replacement/", api.replacement, name="api_draw_replacement"),
    path("draws/<id:pk>/disclose/", api.disclose, name="api_draw_disclose"),
    path("draws/<id:pk>/verify/", api.verify, name="api_draw_verify"),
    path("projects/<id:pk>/committee/", api.project_committee, name="api_project_committee"),
    path("mine/", api.mine, name="api_expert_mine"),
    path("seats/<id:pk>/respond/", api.respond, name="api_seat_respond"),
    path("ratings/", api.ratings, name="api_expert_ratings"),
    # Expert applications (专家申请): anyone applies; center staff review.
    path("applications/", application_api.expert_applications, name="api_expert_applications"),
    path(
        "applications/verify-email/",
        application_api.verify_email,
        name="api_expert_application_verify",
    ),
    path(
        "applications/resubmit/",
        application_api.resubmit,
        name="api_expert_application_resubmit",
    ),
    path(
        "applications/<id:pk>/",
        application_api.expert_application,
        name="api_expert_application",
    ),
    path(
        "applications/<id:pk>/approve/",
        application_api.approve,
        name="api_expert_application_approve",
    ),
    path(
        "applications/<id:pk>/return/",
        application_api.return_application,
        name="api_expert_application_return",
    ),
]
