"""Pages of the tender workflow. Included at "" by config/urls.py."""

from __future__ import annotations

from django.urls import path

from trading import views
from trading.feeds import LatestAnnouncementsFeed

urlpatterns = [
    # The public portal (no login).
    path("portal/", views.portal, name="portal"),
    path("portal/feed.atom", LatestAnnouncementsFeed(), name="portal_feed"),
    path("portal/announcements/<id:pk>/", views.announcement_detail, name="announcement_detail"),
    path(
        "portal/announcements/<id:pk>/v/<id:number>/",
        views.announcement_verify,
        name="announcement_verify",
    ),
    path(
        "portal/announcements/<id:pk>/v/<id:number>/content.json",
        views.announcement_content,
        name="announcement_content",
    ),
    path("portal/documents/<id:pk>/", views.document_download, name="document_download"),
    # Agents (and, read-only, center staff and supervisors).
    path("projects/", views.project_list, name="project_list"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/<id:pk>/", views.project_detail, name="project_detail"),
    path("projects/<id:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<id:pk>/documents/", views.document_upload, name="document_upload"),
    path("projects/<id:pk>/submit/", views.project_submit, name="project_submit"),
    path("projects/<id:pk>/publish/", views.project_publish, name="project_publish"),
    path("projects/<id:pk>/amend/", views.project_amend, name="project_amend"),
    path("projects/<id:pk>/terminate/", views.project_terminate, name="project_terminate"),
    path(
        "projects/<id:pk>/lots/<id:number>/retender/",
        views.lot_retender,
        name="lot_retender",
    ),
    path("questions/<id:pk>/answer/", views.question_answer, name="question_answer"),
    path("objections/<id:pk>/reply/", views.objection_reply, name="objection_reply"),
    # Suppliers.
    path("projects/<id:pk>/register/", views.project_register, name="project_register"),
    path("projects/<id:pk>/ask/", views.project_ask, name="project_ask"),
    path("projects/<id:pk>/object/", views.project_object, name="project_object"),
    path("registrations/", views.my_registrations, name="my_registrations"),
    # Center staff.
    path("review/", views.review_queue, name="review_queue"),
    path("projects/<id:pk>/approve/", views.project_approve, name="project_approve"),
    path("projects/<id:pk>/return/", views.project_return, name="project_return"),
    path("calendar/", views.statutory_calendar, name="statutory_calendar"),
    path("calendar/days/", views.statutory_day_set, name="statutory_day_set"),
    path("calendar/days/remove/", views.statutory_day_remove, name="statutory_day_remove"),
]
