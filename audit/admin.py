from __future__ import annotations

from typing import Any

from django.contrib import admin

from audit.models import AuditEvent, Checkpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit records can be read in the admin and never added, changed or deleted there."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: Any) -> dict[str, Any]:
        return {}


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor_name", "role", "action", "object_type", "object_id", "ip")
    list_filter = ("role", "action")
    search_fields = ("action", "actor_name", "object_id", "hash")
    ordering = ("-seq",)


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("verified_at", "seq", "ok", "hash")
