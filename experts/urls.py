"""Pages of the expert pool and its draws. Included at "experts/" by config/urls.py."""

from __future__ import annotations

from django.urls import path

from experts import views

urlpatterns = [
    # Center staff (and, read-only, supervisors): the pool.
    path("", views.pool_list, name="expert_pool"),
    path("new/", views.expert_create, name="expert_create"),
    path("<int:pk>/", views.expert_detail, name="expert_detail"),
    path("<int:pk>/ties/", views.expert_tie, name="expert_tie"),
    path("<int:pk>/relations/", views.expert_relation, name="expert_relation"),
    path("<int:pk>/status/", views.expert_status, name="expert_status"),
    # Draws: staff request and run them, supervisors sign off; the record is public once announced.
    path("draws/", views.draw_list, name="draw_list"),
    path("draws/new/", views.draw_create, name="draw_create"),
    path("draws/<int:pk>/", views.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/run/", views.draw_run, name="draw_run"),
    path("draws/<int:pk>/sign-off/", views.draw_sign_off, name="draw_sign_off"),
    path("draws/<int:pk>/replacement/", views.draw_replacement, name="draw_replacement"),
    path("draws/<int:pk>/disclose/", views.draw_disclose, name="draw_disclose"),
    path("draws/<int:pk>/record.pdf", views.draw_pdf, name="draw_pdf"),
    # The drawn expert.
    path("tasks/", views.my_tasks, name="my_expert_tasks"),
    path("seats/<int:pk>/respond/", views.seat_respond, name="seat_respond"),
    # Per project: ratings (staff) and the disclosed committee (anyone who may see the project).
    path("projects/<int:pk>/ratings/", views.project_ratings, name="project_expert_ratings"),
    path("projects/<int:pk>/committee/", views.project_committee, name="project_committee"),
]
