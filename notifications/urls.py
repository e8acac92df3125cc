from django.urls import path

from notifications import views

urlpatterns = [
    path("", views.inbox, name="notifications"),
    path("read/", views.read, name="notifications_read_all"),
    path("<id:pk>/read/", views.read, name="notification_read"),
]
