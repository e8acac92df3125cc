"""Announcement documents, under /announcements/."""

from django.urls import path

from trading import document_views

urlpatterns = [
    path("<id:pk>/v<id:number>.pdf", document_views.announcement_pdf, name="announcement_pdf"),
]
