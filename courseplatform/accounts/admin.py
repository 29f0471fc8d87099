from __future__ import annotations

from django.contrib import admin

from courseplatform.ops.text import SingleLineAdmin

from .models import User


@admin.register(User)
class UserAdmin(SingleLineAdmin):
    single_line_fields = ("full_name",)
    list_display = ["email", "full_name", "school", "role", "is_staff", "is_active", "date_joined"]
    list_filter = ["role", "is_staff", "is_active", "school"]
    search_fields = ["email", "full_name", "school__slug"]
    list_select_related = ["school"]
    readonly_fields = ["password", "last_login", "date_joined", "school", "email"]
    exclude = ["groups", "user_permissions"]
