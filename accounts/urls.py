"""Pages of self-registration, its review, an organization's users, sessions and password reset.
Included at "accounts/" by config/urls.py (after the login and logout pages)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import registration_views as views

urlpatterns = [
    # Anyone: an organization registers itself; the links mailed to it.
    path("register/", views.register, name="register"),
    path("register/done/", views.register_done, name="register_done"),
    path("verify-email/", views.verify_email, name="verify_email"),
    path("verify-email/resend/", views.resend_verification, name="resend_verification"),
    path("invitation/", views.accept_invitation, name="accept_invitation"),
    # The organization: its application, its users.
    path("application/", views.my_application, name="my_application"),
    path("users/", views.org_users, name="org_users"),
    path("users/<id:pk>/roles/", views.org_user_roles, name="org_user_roles"),
    path("users/<id:pk>/active/", views.org_user_active, name="org_user_active"),
    # Center staff review (supervisors read).
    path("applications/", views.application_list, name="application_list"),
    path("applications/<id:pk>/", views.application_detail, name="application_detail"),
    path("applications/<id:pk>/approve/", views.application_approve, name="application_approve"),
    path("applications/<id:pk>/return/", views.application_return, name="application_return"),
    path("application-versions/<id:pk>/license/", views.version_license, name="version_license"),
    # Everyone signed in: their sessions.
    path("sessions/", views.my_sessions, name="my_sessions"),
    path("sessions/<id:pk>/end/", views.end_session, name="end_session"),
    # Password reset by email (Django's views, throttled, templated in Chinese and English).
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/done/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
