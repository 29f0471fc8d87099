"""Custom domains in the operator console: read-only (every change goes through the
owner's Domains page or the periodic check, so each one is audited with its school)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import CustomDomain


@admin.register(CustomDomain)
class CustomDomainAdmin(admin.ModelAdmin):
    list_display = [
        "hostname",
        "school",
        "status",
        "is_primary",
        "last_checked_at",
        "failing_since",
        "created_at",
    ]
    list_filter = ["status", "is_primary"]
    search_fields = ["hostname", "school__slug"]
    list_select_related = ["school"]
    exclude = ["verification_token"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
