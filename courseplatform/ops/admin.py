from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "school", "actor", "target_type", "target_id", "ip"]
    list_filter = ["action"]
    search_fields = ["action", "target_id"]
    list_select_related = ["school", "actor"]

    # Append-only: the database refuses changes anyway; the console does not offer them.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
