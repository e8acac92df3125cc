"""The trading API, included at /api/v1/ (see config/urls.py)."""

from __future__ import annotations

from django.urls import path

from trading import api

urlpatterns = [
    path("projects/", api.projects, name="api_projects"),
    path("projects/<id:pk>/", api.project, name="api_project"),
    path("projects/<id:pk>/submit/", api.submit_project, name="api_project_submit"),
    path("projects/<id:pk>/approve/", api.approve_project, name="api_project_approve"),
    path("projects/<id:pk>/return/", api.return_project, name="api_project_return"),
    path("projects/<id:pk>/publish/", api.publish_project, name="api_project_publish"),
    path("projects/<id:pk>/amendments/", api.amendments, name="api_project_amendments"),
    path("projects/<id:pk>/terminate/", api.terminate_project, name="api_project_terminate"),
    path(
        "projects/<id:pk>/lots/<id:number>/retender/",
        api.retender_lot,
        name="api_lot_retender",
    ),
    path("projects/<id:pk>/documents/", api.project_documents, name="api_project_documents"),
    path(
        "projects/<id:pk>/registrations/",
        api.project_registrations,
        name="api_project_registrations",
    ),
    path("projects/<id:pk>/questions/", api.project_questions, name="api_project_questions"),
    path("projects/<id:pk>/objections/", api.project_objections, name="api_project_objections"),
    path("documents/<id:pk>/download/", api.document_download, name="api_document_download"),
    path("registrations/", api.registrations, name="api_registrations"),
    path("questions/<id:pk>/answer/", api.answer_question, name="api_question_answer"),
    path("objections/", api.objections, name="api_objections"),
    path("objections/<id:pk>/reply/", api.reply_objection, name="api_objection_reply"),
    path("announcements/", api.announcements, name="api_announcements"),
    path("announcements/<id:pk>/", api.announcement, name="api_announcement"),
    path("calendar/days/", api.statutory_days, name="api_statutory_days"),
    path("calendar/days/<str:day>/", api.statutory_day, name="api_statutory_day"),
]
