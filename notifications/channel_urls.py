"""Pages of notification channels, included at the site root by config/urls.py."""

from __future__ import annotations

from django.urls import path

from notifications import channel_views as views

urlpatterns = [
    path(
        "notifications/preferences/",
        views.notification_preferences,
        name="notification_preferences",
    ),
    path("notifications/phone/", views.phone_page, name="phone_verification"),
    path("notifications/deliveries/", views.delivery_monitor, name="delivery_monitor"),
    path(
        "notifications/deliveries/<id:pk>/retry/",
        views.delivery_retry,
        name="delivery_retry",
    ),
    path("notifications/simulator/email/", views.email_simulator, name="email_simulator"),
    path(
        "notifications/simulator/email/<id:pk>/",
        views.email_simulator_detail,
        name="email_simulator_detail",
    ),
    path("notifications/simulator/sms/", views.sms_simulator, name="sms_simulator"),
    # The short link a text message carries.
    path("n/<id:pk>/", views.notice_link, name="notice_link"),
]
