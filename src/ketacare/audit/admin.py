"""Read-only admin for the audit trail: it can be browsed, never edited or deleted."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ketacare.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("at", "clinic_id", "actor_username", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("actor_username", "object_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
