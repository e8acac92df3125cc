"""Center staff read parties in the admin; changes go through the audited pages and API.

The admin's own save and delete would bypass the services (and so the audit chain and the permission
checks), so these admins are read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest

from accounts.models import (
    IntegrityRecord,
    Invitation,
    Organization,
    OrganizationApplication,
    OrganizationVersion,
    User,
)
from audit.admin import ReadOnlyAdmin


class IntegrityRecordInline(admin.TabularInline):
    model = IntegrityRecord
    fk_name = "organization"
    extra = 0
    can_delete = False
    fields = ("category", "source", "reason", "barred_from", "barred_until", "lifted_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Organization | None = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ("name", "uscc", "kind", "region", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "uscc")
    inlines = [IntegrityRecordInline]


@admin.register(IntegrityRecord)
class IntegrityRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "organization",
        "category",
        "source",
        "barred_from",
        "barred_until",
        "lifted_at",
    )
    list_filter = ("category", "source")
    search_fields = ("organization__name", "reason", "decision_number")


@admin.register(User)
class UserAdmin(ReadOnlyAdmin, DjangoUserAdmin):
    list_display = ("username", "display_name", "organization", "is_active", "last_login")
    list_filter = ("is_active", "groups")
    search_fields = ("username", "display_name", "organization__name")
    fieldsets = (
        (None, {"fields": ("username", "display_name", "organization", "email", "phone")}),
        ("Status", {"fields": ("is_active", "is_staff", "groups", "last_login", "date_joined")}),
    )


# Role groups are synced from accounts/roles.py and each organization's members group carries its
# object permissions: editing or deleting one in the admin would silently change who may do what.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin, DjangoGroupAdmin):
    pass


@admin.register(OrganizationApplication)
class OrganizationApplicationAdmin(ReadOnlyAdmin):
    list_display = ("organization", "status", "updated_at")
    list_filter = ("status",)
    search_fields = ("organization__name", "organization__uscc")


@admin.register(OrganizationVersion)
class OrganizationVersionAdmin(ReadOnlyAdmin):
    list_display = ("organization", "number", "decision", "submitted_at", "decided_at")
    list_filter = ("decision",)
    search_fields = ("organization__name", "organization__uscc", "sha256")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("organization", "email", "created_at", "expires_at", "accepted_at")
    search_fields = ("organization__name", "email")
