"""Pages of the expert pool and its draws. Included at "experts/" by config/urls.py."""

from __future__ import annotations

from django.urls import path

from experts import application_views, views

urlpatterns = [
    # Center staff (and, read-only, supervisors): the pool.
    path("", views.pool_list, name="expert_pool"),
    path("new/", views.expert_create, name="expert_create"),
    path("<id:pk>/", views.expert_detail, name="expert_detail"),
    path("<id:pk>/ties/", views.expert_tie, name="expert_tie"),
    path("<id:pk>/relations/", views.expert_relation, name="expert_relation"),
    path("<id:pk>/status/", views.expert_status, name="expert_status"),
    # Draws: staff request and run them, supervisors sign off; the record is public once announced.
    path("draws/", views.draw_list, name="draw_list"),
    path("draws/new/", views.draw_create, name="draw_create"),
    path("draws/<id:pk>/", views.draw_detail, name="draw_detail"),
    path("draws/<id:pk>/run/", views.draw_run, name="draw_run"),
    path("draws/<id:pk>/sign-off/", views.draw_sign_off, name="draw_sign_off"),
    path("draws/<id:pk>/replacement/", views.draw_replacement, name="draw_replacement"),
    path("draws/<id:pk>/disclose/", views.draw_disclose, name="draw_disclose"),
    path("draws/<id:pk>/record.pdf", views.draw_pdf, name="draw_pdf"),
    # The drawn expert.
    path("tasks/", views.my_tasks, name="my_expert_tasks"),
    path("seats/<id:pk>/respond/", views.seat_respond, name="seat_respond"),
    # The drawn expert's SMS link (a signed token, no sign-in).
    path("seat/", views.seat_link, name="seat_link"),
    # Per project: ratings (staff) and the disclosed committee (anyone who may see the project).
    path("projects/<id:pk>/ratings/", views.project_ratings, name="project_expert_ratings"),
    path("projects/<id:pk>/committee/", views.project_committee, name="project_committee"),
    # Expert applications (专家申请): anyone applies (the status page is reached through the mailed
    # link); center staff review, supervisors read.
    path("apply/", application_views.apply, name="expert_apply"),
    path("apply/status/", application_views.status, name="expert_application_status"),
    path("applications/", application_views.application_list, name="expert_application_list"),
    path(
        "applications/<id:pk>/",
        application_views.application_detail,
        name="expert_application_detail",
    ),
    path(
        "applications/<id:pk>/approve/",
        application_views.application_approve,
        name="expert_application_approve",
    ),
    path(
        "applications/<id:pk>/return/",
        application_views.application_return,
        name="expert_application_return",
    ),
]
