"""Self-registration, an organization's users, invitations and sessions, included at /api/v1/ by
config/urls.py."""

from __future__ import annotations

from django.urls import path

from accounts import registration_api as api

urlpatterns = [
    path("organization-registrations/", api.registrations, name="api_org_registrations"),
    path("organization-registrations/verify-email/", api.verify_email, name="api_verify_email"),
    path(
        "organization-registrations/resend-verification/",
        api.resend_verification,
        name="api_resend_verification",
    ),
    path("organization-registrations/<id:pk>/", api.registration_detail, name="api_registration"),
    path(
        "organization-registrations/<id:pk>/versions/",
        api.registration_versions,
        name="api_registration_versions",
    ),
    path(
        "organization-registrations/<id:pk>/approve/",
        api.registration_approve,
        name="api_registration_approve",
    ),
    path(
        "organization-registrations/<id:pk>/return/",
        api.registration_return,
        name="api_registration_return",
    ),
    path(
        "organization-registrations/versions/<id:pk>/license/",
        api.registration_license,
        name="api_registration_license",
    ),
    path("org/users/", api.org_users, name="api_org_users"),
    path("org/users/<id:pk>/roles/", api.org_user_roles, name="api_org_user_roles"),
    path("org/users/<id:pk>/active/", api.org_user_active, name="api_org_user_active"),
    path("org/invitations/", api.org_invitations, name="api_org_invitations"),
    path("invitations/accept/", api.accept_invitation, name="api_accept_invitation"),
    path("sessions/", api.my_sessions, name="api_sessions"),
    path("sessions/<id:pk>/end/", api.end_session, name="api_end_session"),
]
