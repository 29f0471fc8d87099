"""The operator console (Django admin on the platform host): schools, plans, audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from courseplatform.tenancy.models import Plan, School

from . import schools
from .models import AuditLog
from .net import client_ip
from .text import SingleLineAdmin


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


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "max_courses",
        "max_students",
        "max_storage_bytes",
        "max_video_minutes",
    ]
    ordering = ["sort_order"]


@admin.register(School)
class SchoolAdmin(SingleLineAdmin):
    single_line_fields = ("name",)
    list_display = ["slug", "name", "plan", "status", "created_at"]
    list_filter = ["status", "plan"]
    search_fields = ["slug", "name"]
    readonly_fields = ["status", "suspended_reason", "created_at", "updated_at"]
    actions = ["suspend_schools", "unsuspend_schools"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The slug is the school's address: changing it would break every link.
        return [*self.readonly_fields, "slug"] if obj else list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: School, form: Any, change: bool) -> None:
        if change and "plan" in form.changed_data:
            # The form has already put the new plan on ``obj``: audit from the stored one.
            stored = School.objects.select_related("plan").get(pk=obj.pk)
            schools.change_plan(
                school=stored, actor=request.user, plan=obj.plan, ip=client_ip(request)
            )
            form.changed_data.remove("plan")
        super().save_model(request, obj, form, change)

    @admin.action(description="Suspend selected schools")
    def suspend_schools(self, request: HttpRequest, queryset: QuerySet[School]) -> None:
        for school in queryset:
            schools.set_school_status(
                school=school,
                actor=request.user,
                status=School.Status.SUSPENDED,
                reason="Suspended by the operator",
                ip=client_ip(request),
            )
        messages.success(request, f"Suspended {queryset.count()} school(s).")

    @admin.action(description="Unsuspend selected schools")
    def unsuspend_schools(self, request: HttpRequest, queryset: QuerySet[School]) -> None:
        for school in queryset:
            schools.set_school_status(
                school=school,
                actor=request.user,
                status=School.Status.ACTIVE,
                ip=client_ip(request),
            )
        messages.success(request, f"Reactivated {queryset.count()} school(s).")
